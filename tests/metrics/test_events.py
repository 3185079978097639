"""Materialization metadata → metrics, and the live-gauge collector, without any service."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from dagster import MetadataValue
from prometheus_client import generate_latest

from gim_dagster.metrics.events import EventRecorder, plain, purged_by_table
from gim_dagster.metrics.families import GimMetrics, GspMetrics, Reading
from gim_dagster.metrics.kafka_lag import PartitionLag, lag_by_topic, lag_seconds
from gim_dagster.metrics.tail import run_labels

GSP_META = {  # the keys assets/gsp.py emits
    "records": 120,
    "late": 3,
    "duplicates": 2,
    "dead_lettered": 1,
    "checkpoint_id": "0000000002-abc.ckpt",
    "offsets": MetadataValue.json({"acme.voice.events[0]": [0, 120]}),
    "events_by_type": MetadataValue.json({"EventRinging": 40, "EventReleased": 80}),
    "facts_by_table": MetadataValue.json({"interaction_resource_fact": 30, "interaction_fact": 10}),
    "stats": MetadataValue.json({"late": 3, "conflicting_duplicates": 1}),
    "timings_s": MetadataValue.json({"read": 0.2, "process": 0.5, "produce": 0.2, "checkpoint": 0.1}),
}


@pytest.fixture()
def metrics() -> tuple[GspMetrics, GimMetrics, EventRecorder]:
    gsp, gim = GspMetrics(), GimMetrics()
    return gsp, gim, EventRecorder(gsp, gim)


def value(metrics: GspMetrics | GimMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_gsp_microbatch_counts_events_facts_and_duration(metrics: tuple) -> None:
    gsp, _gim, recorder = metrics
    recorder.materialization("gsp_microbatch", "acme", plain(GSP_META), 1_800_000_000.0)
    recorder.materialization("gsp_microbatch", "acme", plain(GSP_META), 1_800_000_060.0)
    assert value(gsp, "gim_gsp_records_read_total", tenant="acme") == 240
    assert value(gsp, "gim_gsp_events_processed_total", tenant="acme", event_type="EventReleased") == 160
    assert value(gsp, "gim_gsp_facts_produced_total", tenant="acme", table="interaction_fact") == 20
    assert value(gsp, "gim_gsp_dead_lettered_records_total", tenant="acme") == 2
    assert value(gsp, "gim_gsp_late_events_total", tenant="acme") == 6
    assert value(gsp, "gim_gsp_duplicate_events_total", tenant="acme") == 4
    assert value(gsp, "gim_gsp_conflicting_duplicate_events_total", tenant="acme") == 2
    assert value(gsp, "gim_gsp_microbatch_duration_seconds_count", tenant="acme") == 2
    assert value(gsp, "gim_gsp_microbatch_duration_seconds_sum", tenant="acme") == pytest.approx(2.0)
    assert value(gsp, "gim_gsp_microbatch_duration_seconds_bucket", tenant="acme", le="1.0") == 2
    assert value(gsp, "gim_gsp_last_microbatch_timestamp_seconds", tenant="acme") == 1_800_000_060


def test_infomart_load_rows_per_table_and_operation(metrics: tuple) -> None:
    _gsp, gim, recorder = metrics
    meta = {  # KafkaLoadResult.metadata() as the asset stores it
        "records_read": 50,
        "records_already_loaded": 0,
        "rows_inserted": MetadataValue.json({"interaction_resource_fact": 40}),
        "rows_updated": MetadataValue.json({"interaction_resource_fact": 10, "interaction_fact": 2}),
        "audit_keys": MetadataValue.json([5]),
        "offsets_from": MetadataValue.json({"acme.gsp.facts[0]": 0}),
        "offsets_to": MetadataValue.json({"acme.gsp.facts[0]": 50}),
        "drained": True,
    }
    recorder.materialization("infomart_load", "acme", plain(meta), 1_800_000_000.0)
    labels = {"tenant": "acme", "table": "interaction_resource_fact"}
    assert value(gim, "gim_infomart_rows_loaded_total", operation="inserted", **labels) == 40
    assert value(gim, "gim_infomart_rows_loaded_total", operation="updated", **labels) == 10
    assert value(gim, "gim_infomart_records_loaded_total", tenant="acme") == 50
    assert value(gim, "gim_infomart_last_load_timestamp_seconds", tenant="acme") == 1_800_000_000


def test_maintenance_purges_per_table_from_details(metrics: tuple) -> None:
    _gsp, gim, recorder = metrics
    details = {
        "dropped": [
            {"table": "interaction_fact", "partition": "p1", "day": "2025-01-01", "rows": 7},
            {"table": "interaction_fact", "partition": "p2", "day": "2025-01-02", "rows": 3},
        ],
        "deleted_rows": {"sm_res_state_fact": 4},
    }
    meta = {"retention_days": 400, "purged_rows": 14, "details": MetadataValue.json(details)}
    recorder.materialization("infomart_maintenance", "acme", plain(meta), 1_800_000_000.0)
    assert value(gim, "gim_infomart_purged_rows_total", tenant="acme", table="interaction_fact") == 10
    assert value(gim, "gim_infomart_purged_rows_total", tenant="acme", table="sm_res_state_fact") == 4
    assert purged_by_table({"purged_rows": 5}) == {"unknown": 5}
    assert purged_by_table({"purged_rows": 0}) == {}


def test_export_and_gca(metrics: tuple) -> None:
    _gsp, gim, recorder = metrics
    export = {
        "folders": MetadataValue.json(["export_1", "export_2"]),
        "rows": 12,
        "rows_per_table": MetadataValue.json({"interaction_fact": 12}),
        "hwm_from": 1,
        "hwm_to": 9,
    }
    recorder.materialization("gim_export", "acme", plain(export), 1_800_000_000.0)
    recorder.materialization("gim_export", "acme", {"folders": [], "rows": 0}, 1_800_003_600.0)
    assert value(gim, "gim_export_folders_total", tenant="acme") == 2
    assert value(gim, "gim_export_rows_total", tenant="acme", table="interaction_fact") == 12
    assert value(gim, "gim_export_last_success_timestamp_seconds", tenant="acme") == 1_800_003_600
    recorder.materialization(
        "gca_snapshot", "acme", {"added": 5, "changed": 1, "deleted": 0, "violations": 2}, 1.0
    )
    assert value(gim, "gim_gca_config_changes_total", tenant="acme", operation="added") == 5
    assert value(gim, "gim_gca_model_violations", tenant="acme") == 2


def test_unknown_or_malformed_metadata_counts_nothing(metrics: tuple) -> None:
    gsp, _gim, recorder = metrics
    recorder.materialization("gsp_microbatch", "acme", {"records": "many", "events_by_type": [1]}, 1.0)
    recorder.materialization("gsp_microbatch", "acme", {"records": -5, "dead_lettered": True}, 1.0)
    recorder.materialization("some_other_asset", "acme", {"records": 5}, 1.0)
    assert value(gsp, "gim_gsp_records_read_total", tenant="acme") == 0
    assert value(gsp, "gim_gsp_dead_lettered_records_total", tenant="acme") == 0
    assert value(gsp, "gim_gsp_microbatch_duration_seconds_count", tenant="acme") is None


def test_failed_runs_go_to_the_endpoint_of_their_stage(metrics: tuple) -> None:
    gsp, gim, recorder = metrics
    recorder.failed_run("acme", "gsp")
    recorder.failed_run("acme", "export")
    recorder.failed_run("acme", "export")
    assert value(gsp, "gim_failed_runs_total", tenant="acme", stage="gsp") == 1
    assert value(gim, "gim_failed_runs_total", tenant="acme", stage="export") == 2
    assert value(gim, "gim_failed_runs_total", tenant="acme", stage="gsp") is None


def test_run_labels_from_gim_tags_or_partition_and_job() -> None:
    tagged = SimpleNamespace(tags={"gim/tenant": "acme", "gim/stage": "load"}, job_name="x")
    ui_launch = SimpleNamespace(tags={"dagster/partition": "beta"}, job_name="gim_export_job")
    reexport = SimpleNamespace(tags={"dagster/partition/tenant": "beta"}, job_name="__ASSET_JOB")
    assert run_labels(tagged) == ("acme", "load")
    assert run_labels(ui_launch) == ("beta", "export")
    assert run_labels(reexport) == ("beta", "__ASSET_JOB")


def test_live_gauges_replace_and_clear_per_tenant_and_source() -> None:
    gsp = GspMetrics()
    gsp.live.replace("acme", "gsp", [Reading("gim_gsp_raw_lag_records", 7, ("acme.voice.events",))])
    gsp.live.replace("beta", "gsp", [Reading("gim_gsp_checkpoint_age_seconds", 3)])
    assert value(gsp, "gim_gsp_raw_lag_records", tenant="acme", topic="acme.voice.events") == 7
    gsp.live.replace("acme", "gsp", [Reading("gim_gsp_raw_lag_records", 0, ("acme.voice.events",))])
    assert value(gsp, "gim_gsp_raw_lag_records", tenant="acme", topic="acme.voice.events") == 0
    gsp.live.clear("acme", "gsp")
    assert value(gsp, "gim_gsp_raw_lag_records", tenant="acme", topic="acme.voice.events") is None
    assert value(gsp, "gim_gsp_checkpoint_age_seconds", tenant="beta") == 3
    assert b"# TYPE gim_gsp_raw_lag_seconds gauge" in generate_latest(gsp.registry)
    with pytest.raises(ValueError, match="expected labels"):
        gsp.live.replace("acme", "gsp", [Reading("gim_gsp_raw_lag_records", 1)])


def test_lag_seconds_is_the_age_of_the_oldest_unread_record() -> None:
    lags = {
        ("t.voice.events", 0): PartitionLag(position=10, end=15, oldest_unread_ms=1_000_000),
        ("t.agent.events", 0): PartitionLag(position=4, end=9, oldest_unread_ms=1_060_000),
        ("t.digital.events", 0): PartitionLag(position=3, end=3, oldest_unread_ms=None),
    }
    assert lag_seconds(lags, now_s=1_100.0, fallback_since_s=None) == 100.0
    assert lag_by_topic(lags) == {"t.voice.events": 5, "t.agent.events": 5, "t.digital.events": 0}
    unreadable = {("t.voice.events", 0): PartitionLag(1, 2, None)}
    assert lag_seconds(unreadable, now_s=500.0, fallback_since_s=450.0) == 50.0
    caught_up = {("t.voice.events", 0): PartitionLag(9, 9, None)}
    assert lag_seconds(caught_up, now_s=500.0, fallback_since_s=0.0) == 0.0
    assert PartitionLag(position=12, end=9, oldest_unread_ms=None).records == 0


def test_refresh_without_a_kafka_client_counts_an_error_and_keeps_the_event_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster import AssetMaterialization, DagsterInstance

    from gim_dagster.metrics import MetricsService
    from gim_dagster.settings import parse_settings

    monkeypatch.delenv("GIM_TEST_UNSET_BOOTSTRAP", raising=False)
    settings = parse_settings(
        "kafka: {bootstrap_servers: {env: GIM_TEST_UNSET_BOOTSTRAP}}\ntenants: [{name: acme}]\n"
    )
    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            AssetMaterialization("gsp_microbatch", partition="acme", metadata=GSP_META)
        )
        service = MetricsService(settings, instance)
        service.gsp.live.replace("acme", "gsp", [Reading("gim_gsp_raw_lag_seconds", 5)])
        service.refresh()
    assert value(service.gsp, "gim_metrics_refresh_errors_total", tenant="", source="kafka") == 1
    assert value(service.gim, "gim_metrics_refresh_errors_total", tenant="", source="kafka") == 1
    assert value(service.gsp, "gim_gsp_raw_lag_seconds", tenant="acme") is None  # withdrawn, not stale
    assert value(service.gsp, "gim_gsp_records_read_total", tenant="acme") == 120
