"""The one Dagster ``Definitions`` object of gim-dagster (``dagster dev -m gim_dagster.definitions``).

Each area (GCA, GSP, Info Mart, export, …) has a module under ``gim_dagster.assets`` with a function
``definitions(settings, settings_file) -> Definitions`` holding its assets, checks, sensors and schedules;
this module merges them and adds the shared resources.
"""

from __future__ import annotations

import importlib

from dagster import Definitions

from gim_dagster.resources import build_resources
from gim_dagster.settings import load_settings, settings_path

AREAS: tuple[str, ...] = ("gca", "gsp", "infomart", "aggregates", "reports", "export")


def build_definitions(settings_file: str) -> Definitions:
    settings = load_settings(settings_file)  # fail early, with the settings file's one-line error
    parts = [
        importlib.import_module(f"gim_dagster.assets.{area}").definitions(settings, settings_file)
        for area in AREAS
    ]
    return Definitions.merge(*parts, Definitions(resources=build_resources(settings_file)))


defs = build_definitions(str(settings_path().resolve()))
