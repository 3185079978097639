"""Incremental reading of the Dagster instance: new materializations per asset and newly failed runs.

A cursor per asset (the last storage id seen) makes each poll read only what is new; the first poll reads
the whole history, so counters are totals over the instance's event log (Prometheus' ``rate``/``increase``
treat the process restart as a counter reset, as usual).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.storage.dagster_run import DagsterRun

from gim_dagster.metrics.events import EventRecorder, plain

PAGE = 1000
RUN_UPDATE_MARGIN = timedelta(seconds=5)
"""Failed runs are re-queried this far back (clock granularity); ``seen`` keeps them from counting twice."""

JOB_STAGES = {
    "gca_snapshot_job": "gca",
    "gsp_microbatch_job": "gsp",
    "infomart_load_job": "load",
    "infomart_maintenance_job": "maintenance",
    "gim_export_job": "export",
}


def run_labels(run: DagsterRun) -> tuple[str, str]:
    """(tenant, stage) of a run: its ``gim/*`` tags, else its partition tag and job name (UI launches)."""
    tags = run.tags
    tenant = (
        tags.get("gim/tenant") or tags.get("dagster/partition/tenant") or tags.get("dagster/partition") or ""
    )
    stage = tags.get("gim/stage") or JOB_STAGES.get(run.job_name, run.job_name)
    return tenant, stage


class InstanceTail:
    """Feeds an ``EventRecorder`` with what the instance recorded since the previous ``poll``."""

    def __init__(self, instance: DagsterInstance, recorder: EventRecorder) -> None:
        self.instance, self.recorder = instance, recorder
        self.cursors: dict[str, int] = {}
        self._runs_after: datetime | None = None
        self._seen_failed: set[str] = set()

    def poll(self) -> int:
        """Record every new event; returns how many there were."""
        count = sum(self._poll_asset(asset) for asset in self.recorder.handlers)
        return count + self._poll_failed_runs()

    def _poll_asset(self, asset: str) -> int:
        count = 0
        while True:
            result = self.instance.fetch_materializations(
                AssetRecordsFilter(asset_key=AssetKey(asset), after_storage_id=self.cursors.get(asset)),
                limit=PAGE,
                ascending=True,
            )
            for record in result.records:
                materialization = record.asset_materialization
                if record.partition_key and materialization is not None:
                    meta = plain(materialization.metadata)
                    self.recorder.materialization(asset, record.partition_key, meta, record.timestamp)
                    count += 1
                self.cursors[asset] = record.storage_id
            if not result.has_more or not result.records:
                return count

    def _poll_failed_runs(self) -> int:
        after = self._runs_after - RUN_UPDATE_MARGIN if self._runs_after else None
        records = self.instance.get_run_records(
            RunsFilter(statuses=[DagsterRunStatus.FAILURE], updated_after=after),
            order_by="update_timestamp",
            ascending=True,
        )
        count = 0
        for record in records:
            run = record.dagster_run
            self._runs_after = max(self._runs_after or record.update_timestamp, record.update_timestamp)
            if run.run_id in self._seen_failed:
                continue
            self._seen_failed.add(run.run_id)
            self.recorder.failed_run(*run_labels(run))
            count += 1
        return count
