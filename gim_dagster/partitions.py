"""Partitions shared by the assets: one partition per tenant of the settings file."""

from __future__ import annotations

from dagster import StaticPartitionsDefinition

from gim_dagster.settings import Settings


def tenant_partitions(settings: Settings) -> StaticPartitionsDefinition:
    """Tenants come from the settings file, so adding one is a settings change, never a code change."""
    return StaticPartitionsDefinition(settings.tenant_names)
