"""The metric families of the two endpoints: GSP (default port 9249) and GIM (default port 8249).

Each endpoint has its own ``CollectorRegistry``. Counters and histograms are fed from the Dagster event log
(``events.py``); gauges that describe the state of Kafka, S3 and the Info Mart right now are kept in a
``LiveGauges`` collector whose values each refresh replaces per tenant (``live.py``). Every family has a
``tenant`` label; docs/metrics.md lists them all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MICROBATCH_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


@dataclass(frozen=True)
class GaugeSpec:
    """A live gauge: its name, help text and labels besides ``tenant``."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """One live gauge value of one tenant; ``labels`` are the values of the spec's extra labels."""

    name: str
    value: float
    labels: tuple[str, ...] = ()


class LiveGauges(Collector):
    """Gauges computed by a refresh: ``replace`` swaps one (tenant, source)'s readings atomically.

    ``clear`` drops them when a refresh fails, so a scrape never shows a stale lag as if it were current
    (``gim_metrics_refresh_errors_total`` says why the series disappeared).
    """

    def __init__(self, specs: Iterable[GaugeSpec]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self._readings: dict[tuple[str, str], list[Reading]] = {}
        self._lock = threading.Lock()

    def replace(self, tenant: str, source: str, readings: Iterable[Reading]) -> None:
        readings = list(readings)
        for reading in readings:
            spec = self.specs[reading.name]
            if len(reading.labels) != len(spec.labels):
                raise ValueError(f"{reading.name}: expected labels {spec.labels}, got {reading.labels}")
        with self._lock:
            self._readings[(tenant, source)] = readings

    def clear(self, tenant: str, source: str) -> None:
        with self._lock:
            self._readings.pop((tenant, source), None)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            snapshot = {key: list(values) for key, values in self._readings.items()}
        families = {
            name: GaugeMetricFamily(name, spec.documentation, labels=["tenant", *spec.labels])
            for name, spec in self.specs.items()
        }
        for (tenant, _source), readings in sorted(snapshot.items()):
            for reading in readings:
                families[reading.name].add_metric([tenant, *reading.labels], reading.value)
        yield from families.values()

    def describe(self) -> Iterator[Metric]:
        for name, spec in self.specs.items():
            yield GaugeMetricFamily(name, spec.documentation, labels=["tenant", *spec.labels])


def _refresh_errors(registry: CollectorRegistry) -> Counter:
    return Counter(
        "gim_metrics_refresh_errors",
        "Refreshes of this metrics process that failed, by tenant ('' for the Dagster instance) and source.",
        ["tenant", "source"],
        registry=registry,
    )


def _failed_runs(registry: CollectorRegistry) -> Counter:
    return Counter(
        "gim_failed_runs",
        "Dagster runs that ended in FAILURE, by tenant and stage (run tags gim/tenant, gim/stage).",
        ["tenant", "stage"],
        registry=registry,
    )


GSP_LIVE = (
    GaugeSpec(
        "gim_gsp_raw_lag_records",
        "Raw records past the GSP checkpoint, per raw topic (end offset minus checkpoint offset).",
        ("topic",),
    ),
    GaugeSpec(
        "gim_gsp_raw_lag_seconds",
        "Age of the oldest raw record not yet covered by the GSP checkpoint; 0 when there is none.",
    ),
    GaugeSpec("gim_gsp_checkpoint_age_seconds", "Seconds since the current GSP checkpoint was written."),
    GaugeSpec("gim_gsp_checkpoint_timestamp_seconds", "Unix time the current GSP checkpoint was written."),
    GaugeSpec(
        "gim_gsp_stopped",
        "1 while the tenant's GSP refuses to run until an operator acts: checkpoint_lost, no_gca_snapshot.",
        ("reason",),
    ),
    GaugeSpec(
        "gim_gsp_checkpoint_offset_out_of_range",
        "1 while the GSP checkpoint's offset of a raw partition lies past its end (past_end: topic "
        "recreated) or before its start (before_start: retention); GSP stops until `gim gsp reset-offset`.",
        ("topic", "partition", "side"),
    ),
)

GIM_LIVE = (
    GaugeSpec(
        "gim_infomart_offset_out_of_range",
        "1 while the Info Mart's stored offset of a facts partition lies past its end (past_end: topic "
        "recreated) or before its start (before_start: retention); the load stops until "
        "`gim infomart reset-offset`.",
        ("topic", "partition", "side"),
    ),
    GaugeSpec(
        "gim_infomart_load_lag_records",
        "Fact records on <tenant>.gsp.facts not yet loaded (end offset minus gim_kafka_offsets).",
        ("topic",),
    ),
    GaugeSpec(
        "gim_infomart_load_lag_seconds",
        "Age of the oldest fact record not yet loaded into the Info Mart; 0 when there is none.",
    ),
    GaugeSpec("gim_export_hwm_audit_key", "The export stream's high-water mark (last exported audit key)."),
    GaugeSpec(
        "gim_export_hwm_updated_timestamp_seconds",
        "Unix time the export high-water mark last moved (an export folder was published).",
    ),
    GaugeSpec(
        "gim_export_max_data_timestamp_seconds", "max-data-ts of the exports so far (UTC seconds of data)."
    ),
)


class GspMetrics:
    """The GSP endpoint's registry and families."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_read = Counter(
            "gim_gsp_records_read", "Raw records read by GSP micro-batches.", ["tenant"], registry=r
        )
        self.events_processed = Counter(
            "gim_gsp_events_processed",
            "Raw events processed by GSP, by event type.",
            ["tenant", "event_type"],
            registry=r,
        )
        self.facts_produced = Counter(
            "gim_gsp_facts_produced",
            "Fact records produced to <tenant>.gsp.facts, by Info Mart table.",
            ["tenant", "table"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "gim_gsp_dead_lettered_records",
            "Malformed raw records sent to <tenant>.gsp.deadletter.",
            ["tenant"],
            registry=r,
        )
        self.late = Counter(
            "gim_gsp_late_events", "Events that arrived out of order (late).", ["tenant"], registry=r
        )
        self.duplicates = Counter(
            "gim_gsp_duplicate_events", "Duplicate events dropped by GSP.", ["tenant"], registry=r
        )
        self.conflicting_duplicates = Counter(
            "gim_gsp_conflicting_duplicate_events",
            "Records with the event id of an earlier record and other content, dead-lettered by GSP.",
            ["tenant"],
            registry=r,
        )
        self.microbatch_duration = Histogram(
            "gim_gsp_microbatch_duration_seconds",
            "Duration of GSP micro-batches (read, process, produce, checkpoint).",
            ["tenant"],
            buckets=MICROBATCH_BUCKETS,
            registry=r,
        )
        self.last_microbatch = Gauge(
            "gim_gsp_last_microbatch_timestamp_seconds",
            "Unix time of the last successful GSP micro-batch.",
            ["tenant"],
            registry=r,
        )
        self.failed_runs = _failed_runs(r)
        self.refresh_errors = _refresh_errors(r)
        self.live = LiveGauges(GSP_LIVE)
        r.register(self.live)


class GimMetrics:
    """The GIM endpoint's registry and families (GCA, Info Mart load and maintenance, export)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_loaded = Counter(
            "gim_infomart_records_loaded",
            "Fact records read from Kafka and loaded by infomart_load.",
            ["tenant"],
            registry=r,
        )
        self.rows_loaded = Counter(
            "gim_infomart_rows_loaded",
            "Info Mart rows written by infomart_load, by table and operation (inserted, updated).",
            ["tenant", "table", "operation"],
            registry=r,
        )
        self.last_load = Gauge(
            "gim_infomart_last_load_timestamp_seconds",
            "Unix time of the last successful infomart_load.",
            ["tenant"],
            registry=r,
        )
        self.purged_rows = Counter(
            "gim_infomart_purged_rows",
            "Fact rows purged by infomart_maintenance (retention), by table.",
            ["tenant", "table"],
            registry=r,
        )
        self.last_maintenance = Gauge(
            "gim_infomart_last_maintenance_timestamp_seconds",
            "Unix time of the last successful infomart_maintenance.",
            ["tenant"],
            registry=r,
        )
        self.export_last_success = Gauge(
            "gim_export_last_success_timestamp_seconds",
            "Unix time of the last successful gim_export run (with or without new folders).",
            ["tenant"],
            registry=r,
        )
        self.export_folders = Counter(
            "gim_export_folders", "Export folders published by gim_export.", ["tenant"], registry=r
        )
        self.export_rows = Counter(
            "gim_export_rows", "Rows exported by gim_export, by table.", ["tenant", "table"], registry=r
        )
        self.gca_changes = Counter(
            "gim_gca_config_changes",
            "Configuration changes published by gca_snapshot, by operation (added, changed, deleted).",
            ["tenant", "operation"],
            registry=r,
        )
        self.gca_violations = Gauge(
            "gim_gca_model_violations",
            "Configuration objects violating the model at the last gca_snapshot.",
            ["tenant"],
            registry=r,
        )
        self.failed_runs = _failed_runs(r)
        self.refresh_errors = _refresh_errors(r)
        self.live = LiveGauges(GIM_LIVE)
        r.register(self.live)
