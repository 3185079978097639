"""The Dagster side of "one tenant, one stage": the tenant partitions of the settings file, the run tags the
instance's concurrency limits key on, and the one guard every sensor asks before it requests a run."""

from __future__ import annotations

import json

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, StaticPartitionsDefinition

from gim_dagster.settings import Settings, Stage

K8S_CONFIG_TAG = "dagster-k8s/config"
"""The tag the K8sRunLauncher reads a run's pod configuration from (dagster-k8s)."""


def tenant_partitions(settings: Settings) -> StaticPartitionsDefinition:
    """Tenants come from the settings file, so adding one is a settings change, never a code change."""
    return StaticPartitionsDefinition(settings.tenant_names)


def run_tags(tenant: str, stage: str) -> dict[str, str]:
    """Tags the instance's concurrency limits key on: one run per (tenant, stage), a few per tenant."""
    return {"gim/tenant": tenant, "gim/stage": stage, "gim/tenant-stage": f"{tenant}:{stage}"}


def request_tags(settings: Settings, tenant: str, stage: Stage) -> dict[str, str]:
    """The tags of every run a sensor or schedule requests: the concurrency tags and the stage's pod on
    Kubernetes (``dagster.run_pods`` of the settings file; other run launchers ignore the tag)."""
    pod = settings.dagster.run_pods.for_stage(stage).k8s_config()
    return {**run_tags(tenant, stage), K8S_CONFIG_TAG: json.dumps(pod, sort_keys=True)}


IN_FLIGHT = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
"""Run states in which a (tenant, stage) already has its one run: a sensor requests no other then (a
canceling run may still be writing)."""


def stage_busy(instance: DagsterInstance, tenant: str, stage: str) -> bool:
    """Whether the tenant has a run of ``stage`` queued or in progress."""
    tag = run_tags(tenant, stage)["gim/tenant-stage"]
    return bool(
        instance.get_run_records(RunsFilter(statuses=IN_FLIGHT, tags={"gim/tenant-stage": tag}), limit=1)
    )
