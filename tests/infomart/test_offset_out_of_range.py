"""A stored Info Mart offset past the end of its partition (the facts topic was recreated): the load used to
skip in silence forever (issue 19). Now the sensor requests one run, the run fails naming the topic, the
partition, the stored offset and both watermarks, the metrics show it, and `gim infomart reset-offset` is the
explicit way on (audited in CTL_ETL_HISTORY); the load then resumes and reconciles."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from confluent_kafka.admin import AdminClient, NewTopic
from dagster import DagsterInstance, Definitions, build_sensor_context, materialize
from typer.testing import CliRunner

from gim_dagster.assets import infomart as infomart_assets
from gim_dagster.commands.infomart import app as infomart_app
from gim_dagster.core.infomart.loader import read_offsets
from gim_dagster.core.infomart.offset_reset import reset_history
from gim_dagster.core.kafka_io import OutOfRange, StoredOffsetOutOfRange
from gim_dagster.metrics.families import Reading
from gim_dagster.metrics.live import gim_readings
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import load_settings

from .conftest import irf_row
from .test_assets import _produce, _settings_file


def recreate_topic(bootstrap: str, topic: str) -> None:
    """Delete and create ``topic`` (empty again, offsets from 0), as after a broker or cluster change."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics([topic], operation_timeout=10).values():
        future.result()
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result()


def count_facts(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM interaction_resource_fact")).scalar_one())


def test_a_recreated_facts_topic_stops_the_load_loudly_until_an_audited_reset(
    tmp_path: Path, pg_server_url: str, kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"oor{unique}"
    settings_file = _settings_file(tmp_path, pg_server_url, kafka_bootstrap, tenant)
    monkeypatch.setenv("GIM_SETTINGS", settings_file)
    postgres = PostgresResource(settings_file=settings_file)
    kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
    resources = {"postgres": postgres, "kafka": kafka}
    area = infomart_assets.definitions(load_settings(settings_file))
    defs = Definitions.merge(area, Definitions(resources=resources))
    load_asset = next(a for a in area.assets if a.key.to_user_string() == "infomart_load")  # type: ignore[union-attr]
    sensor = defs.resolve_sensor_def("infomart_load_sensor")
    instance = DagsterInstance.ephemeral()
    topic = f"{tenant}.gsp.facts"

    def run_keys() -> list[str | None]:
        with build_sensor_context(instance=instance, resources=resources) as context:
            return [r.run_key for r in sensor(context) or []]

    def load() -> object:
        return materialize(
            [load_asset], partition_key=tenant, resources=resources, instance=instance, raise_on_error=False
        )

    _produce(kafka, topic, [irf_row(i) for i in range(50)])
    assert load().success  # type: ignore[attr-defined]
    engine = postgres.infomart_engine(tenant)
    assert read_offsets(engine, topic) == {(topic, 0): 50}

    recreate_topic(kafka_bootstrap, topic)  # the 50 facts are loaded; their topic starts again at 0
    _produce(kafka, topic, [irf_row(i) for i in range(100, 120)])

    assert run_keys() == [f"{tenant}:0=50:offset-out-of-range"]  # not a silent skip
    failed = load()
    assert not failed.success  # type: ignore[attr-defined]
    failure = failed.get_step_failure_events()[0].step_failure_data.error.cause  # type: ignore[attr-defined]
    assert failure.cls_name == "StoredOffsetOutOfRange"
    assert (
        f"{topic}[0]: stored offset 50 is past the end of the partition (low watermark 0, high watermark 20)"
        in failure.message
    )
    assert "gim infomart reset-offset" in failure.message
    assert count_facts(engine) == 50 and read_offsets(engine, topic) == {(topic, 0): 50}
    consumer = kafka.consumer()
    try:
        readings = gim_readings(tenant, engine, consumer, now_s=0.0)
    finally:
        consumer.close()
    assert Reading("gim_infomart_offset_out_of_range", 1.0, (topic, "0", "past_end")) in readings

    runner = CliRunner()
    dry = runner.invoke(infomart_app, ["reset-offset", "--tenant", tenant, "--to", "earliest"])
    assert dry.exit_code == 0, dry.output
    assert "would move" in dry.output and read_offsets(engine, topic) == {(topic, 0): 50}
    bad = runner.invoke(infomart_app, ["reset-offset", "--tenant", tenant, "--to", "21", "--yes"])
    assert bad.exit_code == 2 and "outside the partition (0..20)" in bad.output
    done = runner.invoke(
        infomart_app,
        ["reset-offset", "--tenant", tenant, "--to", "earliest", "--reason", "topic recreated", "--yes"],
    )
    assert done.exit_code == 0, done.output
    [reset] = reset_history(engine)
    assert (reset.topic, reset.partition, reset.previous, reset.offset) == (topic, 0, 50, 0)
    assert (reset.low, reset.high, reset.reason) == (0, 20, "topic recreated")

    assert run_keys() == [f"{tenant}:0=0"]
    resumed = load()
    assert resumed.success  # type: ignore[attr-defined]
    meta = resumed.asset_materializations_for_node("infomart_load")[0].metadata  # type: ignore[attr-defined]
    assert meta["rows_inserted"].value == {"interaction_resource_fact": 20}
    assert count_facts(engine) == 70 and read_offsets(engine, topic) == {(topic, 0): 20}
    assert run_keys() == []
    engine.dispose()
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "gim_infomart_{tenant}" WITH (FORCE)'))
    admin.dispose()


def test_the_error_names_both_sides() -> None:
    past = OutOfRange("t.gsp.facts", 0, 2093, 0, 114)
    before = OutOfRange("t.voice.events", 2, 5, 40, 90)
    error = StoredOffsetOutOfRange("Info Mart load", [past, before], "Reset it.")
    assert (past.side, before.side) == ("past_end", "before_start")
    assert str(error) == (
        "Info Mart load: t.gsp.facts[0]: stored offset 2093 is past the end of the partition "
        "(low watermark 0, "
        "high watermark 114); t.voice.events[2]: stored offset 5 is before the start of the partition "
        "(low watermark 40, high watermark 90). Nothing was read. Reset it."
    )
