"""Materialization metadata and failed runs → counters, histograms and "last success" gauges.

Dagster-free: handlers take the tenant, the metadata as plain values (``plain``) and the event's Unix time,
so they are tested without an instance. The metadata keys are those the assets emit (``assets/gsp.py``,
``assets/infomart.py``, ``assets/export.py``, ``assets/gca.py``); a missing key counts as nothing rather
than failing, so an older event in the log never stops the metrics process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gim_dagster.metrics.families import GimMetrics, GspMetrics

GSP_STAGE = "gsp"


def plain(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata as plain Python values (``MetadataValue`` objects unwrapped)."""
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def _number(meta: Mapping[str, Any], key: str) -> float:
    """A non-negative count from the metadata; anything else (missing, text, bool) counts as 0."""
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(float(value), 0.0)


def _counts(meta: Mapping[str, Any], key: str) -> dict[str, float]:
    """A ``{label: count}`` mapping from the metadata (non-numeric entries dropped)."""
    value = meta.get(key)
    if not isinstance(value, Mapping):
        return {}
    return {str(label): _number(value, label) for label in value}


class EventRecorder:
    """Feeds the two endpoints' families from materializations and failed runs."""

    def __init__(self, gsp: GspMetrics, gim: GimMetrics) -> None:
        self.gsp, self.gim = gsp, gim
        self.handlers: dict[str, Callable[[str, Mapping[str, Any], float], None]] = {
            "gsp_microbatch": self.gsp_microbatch,
            "infomart_load": self.infomart_load,
            "infomart_maintenance": self.infomart_maintenance,
            "gim_export": self.gim_export,
            "gca_snapshot": self.gca_snapshot,
        }

    def materialization(self, asset: str, tenant: str, meta: Mapping[str, Any], timestamp: float) -> None:
        handler = self.handlers.get(asset)
        if handler is not None:
            handler(tenant, meta, timestamp)

    def gsp_microbatch(self, tenant: str, meta: Mapping[str, Any], timestamp: float) -> None:
        m = self.gsp
        m.records_read.labels(tenant).inc(_number(meta, "records"))
        for event_type, count in _counts(meta, "events_by_type").items():
            m.events_processed.labels(tenant, event_type).inc(count)
        for table, count in _counts(meta, "facts_by_table").items():
            m.facts_produced.labels(tenant, table).inc(count)
        m.dead_lettered.labels(tenant).inc(_number(meta, "dead_lettered"))
        m.late.labels(tenant).inc(_number(meta, "late"))
        m.duplicates.labels(tenant).inc(_number(meta, "duplicates"))
        m.conflicting_duplicates.labels(tenant).inc(_counts(meta, "stats").get("conflicting_duplicates", 0.0))
        timings = _counts(meta, "timings_s")
        if timings:
            m.microbatch_duration.labels(tenant).observe(sum(timings.values()))
        m.last_microbatch.labels(tenant).set(timestamp)

    def infomart_load(self, tenant: str, meta: Mapping[str, Any], timestamp: float) -> None:
        m = self.gim
        m.records_loaded.labels(tenant).inc(_number(meta, "records_read"))
        for operation in ("inserted", "updated"):
            for table, count in _counts(meta, f"rows_{operation}").items():
                m.rows_loaded.labels(tenant, table, operation).inc(count)
        m.last_load.labels(tenant).set(timestamp)

    def infomart_maintenance(self, tenant: str, meta: Mapping[str, Any], timestamp: float) -> None:
        m = self.gim
        for table, count in purged_by_table(meta).items():
            m.purged_rows.labels(tenant, table).inc(count)
        m.last_maintenance.labels(tenant).set(timestamp)

    def gim_export(self, tenant: str, meta: Mapping[str, Any], timestamp: float) -> None:
        m = self.gim
        folders = meta.get("folders")
        m.export_folders.labels(tenant).inc(len(folders) if isinstance(folders, list) else 0)
        for table, count in _counts(meta, "rows_per_table").items():
            m.export_rows.labels(tenant, table).inc(count)
        m.export_last_success.labels(tenant).set(timestamp)

    def gca_snapshot(self, tenant: str, meta: Mapping[str, Any], timestamp: float) -> None:
        m = self.gim
        for operation in ("added", "changed", "deleted"):
            m.gca_changes.labels(tenant, operation).inc(_number(meta, operation))
        m.gca_violations.labels(tenant).set(_number(meta, "violations"))

    def failed_run(self, tenant: str, stage: str) -> None:
        """GSP failures go to the GSP endpoint, every other stage's to the GIM endpoint."""
        target = self.gsp if stage == GSP_STAGE else self.gim
        target.failed_runs.labels(tenant, stage).inc()


def purged_by_table(meta: Mapping[str, Any]) -> dict[str, float]:
    """Purged rows per table from the maintenance ``details`` (dropped partitions + deleted rows).

    Without details, the total ``purged_rows`` is attributed to table ``unknown``.
    """
    details = meta.get("details")
    if not isinstance(details, Mapping):
        total = _number(meta, "purged_rows")
        return {"unknown": total} if total else {}
    result: dict[str, float] = {}
    for dropped in details.get("dropped") or []:
        if isinstance(dropped, Mapping) and "table" in dropped:
            result[str(dropped["table"])] = result.get(str(dropped["table"]), 0.0) + _number(dropped, "rows")
    for table, count in _counts(details, "deleted_rows").items():
        result[table] = result.get(table, 0.0) + count
    return result
