"""Whole micro-batches against the real broker and S3: reconciliation, kill, splits, tenants, Dagster."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from dagster import DagsterInstance, build_sensor_context, materialize

from gim_dagster.core.gsp import CheckpointStore, GspState, Processor, run_microbatch
from gim_dagster.core.gsp.microbatch import (
    DEAD_LETTER_VALUE_BYTES,
    GspStopped,
    restart_from_raw,
    start_positions,
)
from gim_dagster.core.gsp.state import loads
from gim_dagster.core.kafka_io import distinct_keys, read_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, Simulation
from gim_dagster.metrics.families import Reading
from gim_dagster.metrics.live import gsp_readings
from gim_dagster.resources import KafkaResource
from gim_dagster.stack import S3_BUCKET
from tests.gsp.helpers import (
    FAR_FUTURE_MS,
    as_records,
    final_facts,
    malformed_values,
    reconcile,
    resolver_for,
    simulated,
    write_empty_gca_snapshot,
)

RESOLVER = resolver_for(Roster.synthetic(12, seed=1))
CREDENTIALS = {"aws_access_key_id": "gim-local", "aws_secret_access_key": "gim-local-secret"}


@pytest.fixture(scope="module")
def kafka(kafka_bootstrap: str) -> KafkaResource:
    return KafkaResource(bootstrap_servers=kafka_bootstrap)


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)


@pytest.fixture()
def gsp_for(kafka: KafkaResource, s3: Any) -> Iterator[Callable[[str], Gsp]]:
    """Makes ``Gsp`` drivers and closes their Kafka clients afterwards."""
    made: list[Gsp] = []

    def make(tenant: str) -> Gsp:
        made.append(Gsp(kafka, s3, tenant))
        return made[-1]

    yield make
    for gsp in made:
        gsp.consumer.close()
        gsp.producer.flush(5)


def produce_simulation(kafka: KafkaResource, tenant: str, sim: Simulation) -> None:
    names = TenantNames(tenant)
    topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
    kafka.ensure_topics([*names.raw_topics, names.facts_topic, names.deadletter_topic])
    producer = kafka.producer()
    for rec in sim.records:
        producer.produce(topics[rec.kind], key=rec.key, value=rec.value)
    assert producer.flush(30) == 0


class Gsp:
    """One tenant's GSP driven directly (no Dagster), with its own checkpoint prefix."""

    def __init__(self, kafka: KafkaResource, s3: Any, tenant: str) -> None:
        self.kafka, self.tenant, self.names = kafka, tenant, TenantNames(tenant)
        self.store = CheckpointStore(s3, S3_BUCKET, f"test/{tenant}/gsp")
        self.consumer = kafka.consumer(**{"fetch.wait.max.ms": 10})
        self.producer = kafka.producer(**{"linger.ms": 5})

    def batch(self, max_records: int, now_ms: int | None = None, store: CheckpointStore | None = None) -> Any:
        return run_microbatch(
            self.tenant,
            self.consumer,
            self.producer,
            store or self.store,
            max_records,
            resolver=RESOLVER,
            now_ms=now_ms,
        )

    def drain(self, max_records: int) -> int:
        """Run micro-batches until one reads nothing, then one more that flushes what waits for lateness."""
        runs = 1
        while self.batch(max_records).read.records:
            runs += 1
        self.batch(max_records, now_ms=FAR_FUTURE_MS)  # the traffic is over: flush what waits for lateness
        return runs + 1

    def topic(self, topic: str) -> list[Any]:
        return read_range(self.consumer, {(topic, 0): 0}, 10**7).records

    def facts(self) -> dict[str, Any]:
        docs = (json.loads(r.value) for r in self.topic(self.names.facts_topic))
        return final_facts((d["table"], d["row"]) for d in docs)


def test_reconciles_with_the_ledger_over_many_micro_batches(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    tenant = f"r{unique}"
    sim = simulated(tenant, hours=3)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    assert gsp.drain(max_records=500) > 3
    reconcile(tenant, sim, gsp.facts())
    dead = gsp.topic(gsp.names.deadletter_topic)
    assert Counter(malformed_values(sim)) <= Counter(r.value for r in dead)
    assert all(r.key and r.key.count(b"|") == 2 for r in dead)


class KilledAfterProducing(CheckpointStore):
    """A store whose save fails: the run dies after its facts were produced, before the checkpoint."""

    def save(self, state: GspState) -> str:
        raise RuntimeError("killed before the checkpoint")


def test_kill_before_checkpoint_and_rerun_gives_the_facts_of_a_clean_run(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    tenant = f"k{unique}"
    sim = simulated(tenant, hours=2, seed=5)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    gsp.batch(700)
    gsp.batch(700)
    killed = KilledAfterProducing(gsp.store.s3, gsp.store.bucket, gsp.store.prefix)
    with pytest.raises(RuntimeError, match="killed"):
        gsp.batch(700, store=killed)
    produced_before_rerun = len(gsp.topic(gsp.names.facts_topic))
    gsp.drain(700)
    assert len(gsp.topic(gsp.names.facts_topic)) > produced_before_rerun

    clean = Processor(GspState(tenant), None, RESOLVER).process(as_records(tenant, sim), now_ms=FAR_FUTURE_MS)
    assert gsp.facts() == final_facts(clean.facts)
    # The killed batch's dead letters were produced twice; counted by source record, once.
    dead = gsp.topic(gsp.names.deadletter_topic)
    assert len(dead) > len(clean.dead_letters) == distinct_keys(gsp.consumer, gsp.names.deadletter_topic)


def test_a_lost_latest_checkpoint_resumes_from_the_one_before_to_the_facts_of_a_clean_run(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    """Drill: the newest checkpoint object is lost (latest.json still names it). The next batch resumes from
    the one before, names the lost one, re-reads the records since, and the facts are those of a clean run."""
    tenant = f"l{unique}"
    sim = simulated(tenant, hours=2, seed=6)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    first = gsp.batch(700).checkpoint_id
    lost = gsp.batch(700).checkpoint_id
    gsp.store.s3.delete_object(Bucket=gsp.store.bucket, Key=f"{gsp.store.prefix}/{lost}")
    resumed = gsp.batch(700)
    assert resumed.lost_checkpoints == [lost] and resumed.metadata()["lost_checkpoints"] == [lost]
    assert resumed.read.start == gsp_for_state_offsets(gsp, first)
    gsp.drain(700)
    clean = Processor(GspState(tenant), None, RESOLVER).process(as_records(tenant, sim), now_ms=FAR_FUTURE_MS)
    assert gsp.facts() == final_facts(clean.facts)


def gsp_for_state_offsets(gsp: Gsp, checkpoint_id: str) -> dict[Any, int]:
    """The raw offsets the checkpoint ``checkpoint_id`` resumes from (0 for partitions it has not seen)."""
    obj = gsp.store.s3.get_object(Bucket=gsp.store.bucket, Key=f"{gsp.store.prefix}/{checkpoint_id}")
    return start_positions(gsp.consumer, gsp.tenant, loads(obj["Body"].read()))


def test_every_checkpoint_lost_stops_gsp_naming_the_prefix(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    tenant = f"m{unique}"
    produce_simulation(kafka, tenant, simulated(tenant, hours=0.5, seed=8, agents=6))
    gsp = gsp_for(tenant)
    gsp.batch(300)
    for page in gsp.store.s3.get_paginator("list_objects_v2").paginate(
        Bucket=gsp.store.bucket, Prefix=f"{gsp.store.prefix}/"
    ):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".ckpt"):
                gsp.store.s3.delete_object(Bucket=gsp.store.bucket, Key=obj["Key"])
    with pytest.raises(GspStopped, match="checkpoint was lost") as stopped:
        gsp.batch(300)
    assert stopped.value.reason == "checkpoint_lost" and gsp.store.prefix in str(stopped.value)


@pytest.mark.parametrize("batches", [1, 7, 100])
def test_one_seven_or_a_hundred_kafka_micro_batches_reconcile(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str, batches: int
) -> None:
    tenant = f"b{batches}{unique}"
    sim = simulated(tenant, hours=0.5, seed=7, agents=8)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    bound = -(-len(sim.records) // batches)
    assert gsp.drain(max_records=bound) >= -(-len(sim.records) // bound)
    facts = gsp.facts()
    reconcile(tenant, sim, facts)
    clean = Processor(GspState(tenant), None, RESOLVER).process(as_records(tenant, sim), now_ms=FAR_FUTURE_MS)
    assert facts == final_facts(clean.facts)


def test_two_tenants_in_interleaved_runs_stay_isolated(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    tenants = [f"i{unique}a", f"i{unique}b"]
    sims = {t: simulated(t, hours=1, seed=i + 11) for i, t in enumerate(tenants)}
    for t in tenants:
        produce_simulation(kafka, t, sims[t])
    gsps = {t: gsp_for(t) for t in tenants}
    drained = dict.fromkeys(tenants, False)
    while not all(drained.values()):
        for t in tenants:
            drained[t] = not gsps[t].batch(300).read.records
    for t in tenants:
        gsps[t].batch(300, now_ms=FAR_FUTURE_MS)
        reconcile(t, sims[t], gsps[t].facts())


def test_dagster_asset_and_sensor(
    kafka: KafkaResource, s3_endpoint: str, kafka_bootstrap: str, unique: str, tmp_path: Any
) -> None:
    from dagster_aws.s3 import S3Resource

    from gim_dagster.assets.gsp import definitions
    from gim_dagster.settings import parse_settings

    tenant = f"d{unique}"
    settings = parse_settings(
        f"kafka: {{bootstrap_servers: '{kafka_bootstrap}'}}\n"
        f"s3: {{bucket: {S3_BUCKET}, prefix: test-{unique}, endpoint_url: '{s3_endpoint}',"
        " access_key_id: gim-local, secret_access_key: gim-local-secret}\n"
        "dagster: {gsp_batch_max_records: 100}\n"
        f"tenants: [{{name: {tenant}}}]\n"
    )
    sim = simulated(tenant, hours=0.5, seed=2, agents=6)
    produce_simulation(kafka, tenant, sim)
    defs = definitions(settings)
    resources = {
        "kafka": kafka,
        "s3": S3Resource(endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS),
    }
    sensor = defs.sensors[0]  # type: ignore[index]
    with DagsterInstance.ephemeral() as instance:
        requests = list(sensor(build_sensor_context(instance=instance, resources=resources)))
        assert [r.run_key for r in requests if hasattr(r, "run_key")] == [f"{tenant}:start"]
        assert [r.tags["gim/gsp-trigger"] for r in requests if hasattr(r, "tags")] == ["new-records"]
        # Raw events but no GCA snapshot: the run stops rather than resolve every key to -1.
        with pytest.raises(GspStopped, match="no GCA snapshot"):
            materialize([defs.assets[0]], partition_key=tenant, resources=resources, instance=instance)  # type: ignore[index]
        s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
        write_empty_gca_snapshot(s3, S3_BUCKET, f"test-{unique}", tenant)
        result = materialize(
            [defs.assets[0]],
            partition_key=tenant,
            resources=resources,
            instance=instance,  # type: ignore[index]
        )
        assert result.success
        meta = result.asset_materializations_for_node("gsp_microbatch")[0].metadata
        assert meta["records"].value == 100
        assert meta["checkpoint_id"].value.startswith("0000000001-")
        again = sensor(build_sensor_context(instance=instance, resources=resources))
        assert [r.run_key for r in again if hasattr(r, "run_key")] == [
            f"{tenant}:{meta['checkpoint_id'].value}"
        ]


def test_a_record_larger_than_a_dead_letter_may_be_is_dead_lettered_in_bounds(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    """A 2 MB malformed record (the broker took it) used to be dead-lettered whole, which the broker refused
    (MSG_SIZE_TOO_LARGE), so every run failed on it; a 200 kB valid-looking one likewise."""
    tenant = f"big{unique}"
    names = TenantNames(tenant)
    kafka.ensure_topics([*names.raw_topics, names.facts_topic, names.deadletter_topic])
    huge = b"{" + b"x" * 2_000_000
    event = {"event_id": "e1", "event_type": "ringing", "ts": 1, "seq": 1, "tenant": tenant}
    large = json.dumps({**event, "subject": "y" * 200_000}).encode()
    producer = kafka.producer(**{"message.max.bytes": 4_000_000})
    for value in (huge, large):
        producer.produce(names.voice_topic, key=b"k" * 5000, value=value)
    assert producer.flush(30) == 0
    gsp = gsp_for(tenant)
    gsp.batch(100, now_ms=FAR_FUTURE_MS)
    dead = _with_headers(kafka, names.deadletter_topic)
    assert [len(value) for value, _headers in dead] == [DEAD_LETTER_VALUE_BYTES] * 2
    for (value, headers), original in zip(dead, (huge, large), strict=True):
        assert headers["value_bytes"] == str(len(original)).encode()
        assert headers["value_sha256"] == hashlib.sha256(original).hexdigest().encode()
        assert headers["truncated"] == b"1" and len(headers["source_key"]) == 1024
        assert (headers["source_topic"], headers["source_partition"]) == (names.voice_topic.encode(), b"0")
        assert value == original[:DEAD_LETTER_VALUE_BYTES]
    assert dead[0][1]["reason"].startswith(b"malformed: record too large: 2000001 bytes")


def _with_headers(kafka: KafkaResource, topic: str) -> list[tuple[bytes, dict[str, bytes]]]:
    """Every record of partition 0 of ``topic``: value and headers, read to partition EOF."""
    from confluent_kafka import TopicPartition

    consumer = kafka.consumer(**{"enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out = []
    try:
        while True:
            msg = consumer.poll(10)
            assert msg is not None, f"no EOF from {topic}"
            if msg.error():
                return out
            out.append((msg.value(), dict(msg.headers() or [])))
    finally:
        consumer.close()


def test_a_lost_checkpoint_stops_the_tenant_until_an_operator_restarts_it(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    """With the checkpoint gone (bucket emptied) while facts exist, GSP used to start from empty state in
    silence. Now it refuses, the metrics say why, and the documented restart re-derives the same facts."""
    tenant = f"lost{unique}"
    sim = simulated(tenant, hours=1, seed=9, agents=6)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    gsp.drain(max_records=400)
    before = gsp.facts()
    listed = gsp.store.s3.list_objects_v2(Bucket=gsp.store.bucket, Prefix=gsp.store.prefix)
    for obj in listed["Contents"]:
        gsp.store.s3.delete_object(Bucket=gsp.store.bucket, Key=obj["Key"])

    with pytest.raises(GspStopped, match="the checkpoint was lost") as stopped:
        gsp.batch(400)
    assert stopped.value.reason == "checkpoint_lost"
    readings = gsp_readings(tenant, gsp.consumer, gsp.store, now_s=0.0)
    assert Reading("gim_gsp_stopped", 1.0, ("checkpoint_lost",)) in readings

    restart_from_raw(gsp.consumer, gsp.store, tenant)
    gsp.drain(max_records=400)
    assert gsp.facts() == before
    assert not [r for r in gsp_readings(tenant, gsp.consumer, gsp.store, 0.0) if r.name == "gim_gsp_stopped"]


def test_the_sensor_requests_the_idle_flush_once_traffic_stops(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], unique: str
) -> None:
    """Traffic stops with the last allowed lateness of events held back: no record is new, yet the sensor asks
    for one run (keyed by its checkpoint) once the pointer says the idle flush is due; none after it."""
    from gim_dagster.assets.gsp import _request_for
    from gim_dagster.settings import parse_settings

    tenant = f"f{unique}"
    settings = parse_settings(f"tenants: [{{name: {tenant}}}]\n")
    sim = simulated(tenant, hours=0.5, seed=4, agents=6)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    while gsp.batch(10**6).read.records:  # no clock: nothing is idle-flushed
        pass
    pointer = gsp.store.pointer()
    assert pointer is not None and pointer.pending_since_ms is not None
    with pytest.raises((AssertionError, KeyError)):  # the last interactions are still held back
        reconcile(tenant, sim, gsp.facts())
    idle_ms = 600_000
    due = pointer.pending_since_ms + idle_ms
    with DagsterInstance.ephemeral() as instance:

        def request_at(now_ms: int) -> Any:
            context = build_sensor_context(instance=instance)
            return _request_for(settings, context, gsp.consumer, gsp.store, tenant, now_ms, idle_ms)

        assert request_at(due - 1) is None
        request = request_at(due)
        assert request is not None and request.run_key == f"{tenant}:{pointer.checkpoint_id}"
        assert request.tags["gim/gsp-trigger"] == "idle-flush"
        flushed = gsp.batch(10**6, now_ms=due)  # the run the request starts, at the sensor's time
        assert not flushed.read.records and flushed.output.facts
        after = gsp.store.pointer()
        assert after is not None and after.pending_since_ms is None
        assert after.checkpoint_id != pointer.checkpoint_id
        assert request_at(due) is None and request_at(FAR_FUTURE_MS) is None
    reconcile(tenant, sim, gsp.facts())


def test_a_pointer_written_before_pending_since_reads_as_nothing_pending() -> None:
    from gim_dagster.core.gsp.microbatch import Pointer

    old = json.dumps({"checkpoint_id": "c1", "partitions": [["t.voice.events", 0, 7, True]]}).encode()
    pointer = Pointer.from_json(old)
    assert pointer.pending_since_ms is None and not pointer.idle_flush_due(FAR_FUTURE_MS, 0)
    assert Pointer.from_json(Pointer("c2", {("t", 0): 1}, {}, 42).to_json()).pending_since_ms == 42


def test_a_recreated_raw_topic_stops_gsp_loudly_until_an_audited_reset(
    kafka: KafkaResource, gsp_for: Callable[[str], Gsp], kafka_bootstrap: str, unique: str
) -> None:
    """The GSP checkpoint's offset of a raw partition past its end (the topic was recreated) used to read
    nothing in silence; now the run fails naming both offsets, the sensor requests that one run instead of
    skipping, the metric shows it, and ``reset_checkpoint_offset`` (an audit object first) is the way on."""
    from confluent_kafka.admin import AdminClient, NewTopic

    from gim_dagster.assets.gsp import _request_for
    from gim_dagster.core.gsp.microbatch import RESETS, reset_checkpoint_offset
    from gim_dagster.core.kafka_io import StoredOffsetOutOfRange, resolve_offset
    from gim_dagster.settings import parse_settings

    tenant = f"rt{unique}"
    sim = simulated(tenant, hours=0.5, seed=4, agents=6)
    produce_simulation(kafka, tenant, sim)
    gsp = gsp_for(tenant)
    gsp.drain(max_records=1000)
    voice = (gsp.names.voice_topic, 0)
    stored = gsp.store.pointer().offsets[voice]  # type: ignore[union-attr]
    assert stored > 10
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    for future in admin.delete_topics([voice[0]], operation_timeout=10).values():
        future.result()
    for future in admin.create_topics([NewTopic(voice[0], 1, 1)]).values():
        future.result()
    producer = kafka.producer()
    again = [r for r in sim.records if r.kind == "voice"][:10]
    for rec in again:
        producer.produce(voice[0], key=rec.key, value=rec.value)
    assert producer.flush(15) == 0

    with pytest.raises(StoredOffsetOutOfRange) as stopped:
        gsp.batch(1000)
    assert (
        f"{voice[0]}[0]: stored offset {stored} is past the end of the partition (low watermark 0, "
        "high watermark 10)" in str(stopped.value)
    )
    assert "gim gsp reset-offset" in str(stopped.value)
    readings = gsp_readings(tenant, gsp.consumer, gsp.store, now_s=0.0)
    assert Reading("gim_gsp_checkpoint_offset_out_of_range", 1.0, (voice[0], "0", "past_end")) in readings
    settings = parse_settings(
        f"kafka: {{bootstrap_servers: '{kafka_bootstrap}'}}\ntenants: [{{name: {tenant}}}]\n"
    )
    checkpoint = gsp.store.pointer().checkpoint_id  # type: ignore[union-attr]
    with DagsterInstance.ephemeral() as instance:
        request = _request_for(
            settings, build_sensor_context(instance=instance), gsp.consumer, gsp.store, tenant, 0, 10**12
        )
    assert request is not None and request.run_key == f"{tenant}:{checkpoint}:offset-out-of-range"
    assert request.tags["gim/gsp-trigger"] == "offset-out-of-range"

    offset, low, high = resolve_offset(gsp.consumer, voice, "earliest")
    new_id, record = reset_checkpoint_offset(gsp.store, voice, offset, low=low, high=high, reason="recreated")
    assert (record["previous"], record["offset"], record["from_checkpoint"]) == (stored, 0, checkpoint)
    audits = gsp.store.s3.list_objects_v2(Bucket=gsp.store.bucket, Prefix=f"{gsp.store.prefix}/{RESETS}/")
    assert len(audits["Contents"]) == 1
    assert gsp.store.pointer().checkpoint_id == new_id  # type: ignore[union-attr]
    resumed = gsp.batch(1000)
    assert len(resumed.read.records) == 10
    assert gsp.store.pointer().offsets[voice] == 10  # type: ignore[union-attr]
    assert not [r for r in gsp_readings(tenant, gsp.consumer, gsp.store, 0.0) if "out_of_range" in r.name]
