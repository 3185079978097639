"""The one Dagster ``Definitions`` object of gim-dagster (``dagster dev -m gim_dagster.definitions``).

Each area (GCA, GSP, Info Mart, export, …) has a module under ``gim_dagster.assets`` with a function
``definitions(settings) -> Definitions`` holding its assets, checks, sensors and schedules; this module merges
them and adds the shared resources. ``defs`` is built when Dagster loads the code location
(``@dg.definitions``), not when the module is imported: a helper's import parses no settings file.
"""

from __future__ import annotations

import importlib

import dagster as dg

from gim_dagster.resources import build_resources
from gim_dagster.settings import load_settings, settings_path

AREAS: tuple[str, ...] = ("gca", "gsp", "infomart", "aggregates", "reports", "export")


def build_definitions(settings_file: str) -> dg.Definitions:
    settings = load_settings(settings_file)  # fail early, with the settings file's one-line error
    parts = [importlib.import_module(f"gim_dagster.assets.{area}").definitions(settings) for area in AREAS]
    return dg.Definitions.merge(*parts, dg.Definitions(resources=build_resources(settings_file)))


@dg.definitions
def defs() -> dg.Definitions:
    """The code location of the settings file ``$GIM_SETTINGS`` (default ``./gim.yaml``)."""
    return build_definitions(str(settings_path().resolve()))
