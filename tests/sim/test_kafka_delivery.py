"""Simulated traffic through the real broker: the Kafka sink and kcat, read back and parsed."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gim_dagster.core.events.models import TOPIC_KINDS
from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.kafka_io import read_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, TrafficParams, simulate
from gim_dagster.core.sim.sinks import produce, write_file
from gim_dagster.resources import KafkaResource


def _small_run(tenant: str, malformed: float = 0.0):
    params = TrafficParams(
        tenant=tenant,
        start=datetime(2026, 11, 2, 8, tzinfo=UTC),
        hours=1,
        calls_per_hour=40,
        chats_per_hour=10,
        emails_per_hour=5,
        seed=7,
        duplicates=0.02,
        late=0.02,
        malformed=malformed,
    )
    return simulate(Roster.synthetic(8, 7), params)


def _read_topic(kafka: KafkaResource, topic: str) -> list[bytes]:
    consumer = kafka.consumer()
    try:
        result = read_range(consumer, {(topic, 0): 0}, max_records=1_000_000)
    finally:
        consumer.close()
    assert result.drained
    return [r.value for r in result.records]


def test_kafka_sink_delivers_every_record_in_order(kafka_bootstrap: str, unique: str) -> None:
    tenant = f"sim{unique}"
    names = TenantNames(tenant)
    kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
    kafka.ensure_topics(list(names.raw_topics))
    sim = _small_run(tenant, malformed=0.01)
    assert produce(kafka.producer(), sim.records, names) == len(sim.records)

    faults = sim.ledger.tables["faults"].to_pylist()
    malformed_positions = {(f["topic"], f["topic_position"]) for f in faults if f["kind"] == "malformed"}
    for kind, topic in zip(
        TOPIC_KINDS, (names.voice_topic, names.digital_topic, names.agent_topic), strict=True
    ):
        values = _read_topic(kafka, topic)
        assert values == [v for k, _, v in sim.records if k == kind]
        events, rejected = parse_records(kind, values, tenant=tenant)
        assert {(kind, i) for i, _ in rejected} == {p for p in malformed_positions if p[0] == kind}
        assert len(events) + len(rejected) == len(values)


def _kcat_env(tmp_path: Path) -> dict[str, str]:
    """Run Debian's kcat on the librdkafka of the confluent-kafka wheel (see docs/events.md for why)."""
    import confluent_kafka

    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    bundled = next(libs.glob("librdkafka-*.so.1"))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "librdkafka.so.1").symlink_to(bundled)
    return {**os.environ, "LD_LIBRARY_PATH": str(tmp_path / "lib")}


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat (Debian package kcat) is not installed")
def test_records_produced_by_kcat_are_accepted(kafka_bootstrap: str, unique: str, tmp_path: Path) -> None:
    """The documented kcat recipe (docs/events.md) gives the consumer side the same events."""
    tenant = f"kcat{unique}"
    names = TenantNames(tenant)
    KafkaResource(bootstrap_servers=kafka_bootstrap).ensure_topics(list(names.raw_topics))
    sim = _small_run(tenant)
    env = _kcat_env(tmp_path)
    records_file = tmp_path / "records.tsv"
    write_file(sim.records, records_file)
    for kind, topic in zip(
        TOPIC_KINDS, (names.voice_topic, names.digital_topic, names.agent_topic), strict=True
    ):
        recipe = (
            f"grep -P '^{kind}\\t' {records_file} | cut -f2- | "
            f"kcat -P -b {kafka_bootstrap} -t {topic} -K '\\t'"
        )
        subprocess.run(["bash", "-o", "pipefail", "-c", recipe], check=True, timeout=60, env=env)
        values = _read_topic(KafkaResource(bootstrap_servers=kafka_bootstrap), topic)
        expected = [v for k, _, v in sim.records if k == kind]
        assert values == expected
        events, rejected = parse_records(kind, values, tenant=tenant)
        assert rejected == [] and len(events) == len(expected)
