"""Partitions and run tags shared by the assets: one partition per tenant of the settings file."""

from __future__ import annotations

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, StaticPartitionsDefinition

from gim_dagster.settings import Settings


def tenant_partitions(settings: Settings) -> StaticPartitionsDefinition:
    """Tenants come from the settings file, so adding one is a settings change, never a code change."""
    return StaticPartitionsDefinition(settings.tenant_names)


def run_tags(tenant: str, stage: str) -> dict[str, str]:
    """Tags the instance's concurrency limits key on: one run per (tenant, stage), a few per tenant."""
    return {"gim/tenant": tenant, "gim/stage": stage, "gim/tenant-stage": f"{tenant}:{stage}"}


ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]
"""Run states in which a (tenant, stage) already has its one run: a sensor requests no other then."""


def stage_busy(instance: DagsterInstance, tenant: str, stage: str) -> bool:
    """Whether the tenant has a run of ``stage`` queued or in progress."""
    tag = run_tags(tenant, stage)["gim/tenant-stage"]
    return bool(
        instance.get_run_records(RunsFilter(statuses=ACTIVE, tags={"gim/tenant-stage": tag}), limit=1)
    )
