"""The one Dagster ``Definitions`` object of gim-dagster (``dagster dev -m gim_dagster.definitions``)."""

from __future__ import annotations

from dagster import Definitions

from gim_dagster.resources import build_resources
from gim_dagster.settings import load_settings, settings_path


def build_definitions(settings_file: str) -> Definitions:
    load_settings(settings_file)  # fail early, with the settings file's one-line error
    return Definitions(resources=build_resources(settings_file))


defs = build_definitions(str(settings_path().resolve()))
