"""Partitions and run tags shared by the assets: one partition per tenant of the settings file."""

from __future__ import annotations

from dagster import StaticPartitionsDefinition

from gim_dagster.settings import Settings


def tenant_partitions(settings: Settings) -> StaticPartitionsDefinition:
    """Tenants come from the settings file, so adding one is a settings change, never a code change."""
    return StaticPartitionsDefinition(settings.tenant_names)


def run_tags(tenant: str, stage: str) -> dict[str, str]:
    """Tags the instance's concurrency limits key on: one run per (tenant, stage), a few per tenant."""
    return {"gim/tenant": tenant, "gim/stage": stage, "gim/tenant-stage": f"{tenant}:{stage}"}
