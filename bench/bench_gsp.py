"""GSP throughput: the core alone, a whole micro-batch, and reading the same records with ``assign()``.

Reproduce (starts its own local stack in a temporary directory, about a minute):

    .venv/bin/python bench/bench_gsp.py --hours 8 --calls-per-hour 1500

Figures printed:
* parse: ``parse_records`` alone on the same records, in the processor's chunks, events/s;
* core: ``Processor.process`` (parse + dedup/lateness + state machines + fact rows) on all records in
  micro-batches of ``--batch`` records, events/s on one core, best and median of ``--repeat`` runs from an
  empty state (a busy host only ever slows a run down, so the best run is the code's speed);
* read only: ``read_range`` of the same records from the broker with ``assign()``, doing nothing else
  (the physical ceiling of a micro-batch here);
* micro-batch: ``run_microbatch`` end to end (checkpoint load, read, process, produce facts and dead letters,
  flush, checkpoint write), records/s, and its ratio to the read-only rate.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import boto3

from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.gsp import CheckpointStore, GspState, Processor, run_microbatch
from gim_dagster.core.gsp.processor import CHUNK_RECORDS, topic_kinds
from gim_dagster.core.kafka_io import Record, existing_partitions, read_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, TrafficParams, simulate
from gim_dagster.resources import KafkaResource
from gim_dagster.stack import S3_BUCKET, LocalStack

TENANT = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--calls-per-hour", type=float, default=1500)
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--batch", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    records = simulated_records(args.hours, args.calls_per_hour, args.agents)
    offsets = Counter(r.topic for r in records)
    print(f"records: {len(records):,} ({', '.join(f'{k}={v:,}' for k, v in offsets.items())})")

    parse_rate = parse_alone(records)
    print(f"parse:       {parse_rate:>10,.0f} events/s")
    runs = [core(records, args.batch) for _ in range(args.repeat)]
    rates = [rate for rate, _facts in runs]
    print(
        f"core:        {max(rates):>10,.0f} events/s (best of {args.repeat}; median "
        f"{statistics.median(rates):,.0f}; {runs[0][1]:,} fact rows)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        stack = LocalStack(Path(tmp))
        env = stack.up()
        try:
            whole_batch(env, records)
        finally:
            stack.down()


def simulated_records(hours: float, calls_per_hour: float, agents: int) -> list[Record]:
    """The benchmark's traffic (with 1 % duplicates, 2 % late, 0.1 % malformed), one partition per topic."""
    params = TrafficParams(
        tenant=TENANT, start=datetime(2026, 1, 5, 6, tzinfo=UTC), hours=hours,
        calls_per_hour=calls_per_hour, chats_per_hour=calls_per_hour / 5,
        emails_per_hour=calls_per_hour / 10, seed=1, duplicates=0.01, late=0.02, malformed=0.001,
        shifts="window", daily_shape=False,
    )  # fmt: skip
    sim = simulate(Roster.synthetic(agents, seed=1), params)
    names = TenantNames(TENANT)
    topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
    offsets = dict.fromkeys(topics.values(), 0)
    records = []
    for rec in sim.records:
        topic = topics[rec.kind]
        records.append(Record(topic, 0, offsets[topic], rec.key, rec.value, 0))
        offsets[topic] += 1
    return records


def core(records: list[Record], batch: int) -> tuple[float, int]:
    """``Processor.process`` from an empty state over ``records`` in batches: events/s and fact rows."""
    state, facts = GspState(TENANT), 0
    start = time.perf_counter()
    for i in range(0, len(records), batch):
        facts += len(Processor(state).process(records[i : i + batch]).facts)
    return len(records) / (time.perf_counter() - start), facts


def parse_alone(records: list[Record]) -> float:
    """``parse_records`` over every raw partition in the processor's chunks: events/s."""
    kinds = topic_kinds(TENANT)
    start = time.perf_counter()
    for topic, kind in kinds.items():
        values = [r.value for r in records if r.topic == topic]
        for i in range(0, len(values), CHUNK_RECORDS):
            parse_records(kind, values[i : i + CHUNK_RECORDS], TENANT)
    return len(records) / (time.perf_counter() - start)


def whole_batch(env: dict[str, str], records: list[Record]) -> None:
    kafka = KafkaResource(bootstrap_servers=env["GIM_KAFKA_BOOTSTRAP_SERVERS"])
    names = TenantNames(TENANT)
    kafka.ensure_topics([*names.raw_topics, names.facts_topic, names.deadletter_topic])
    producer = kafka.producer()
    n = len(records)
    for rec in records:
        while True:
            try:
                producer.produce(rec.topic, key=rec.key, value=rec.value)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(120)
    consumer = kafka.consumer()
    positions = dict.fromkeys(existing_partitions(consumer, names.raw_topics), 0)
    start = time.perf_counter()
    read = read_range(consumer, positions, n + 1)
    read_s = time.perf_counter() - start
    read_rate = len(read.records) / read_s
    print(f"read only:   {read_rate:>10,.0f} records/s ({len(read.records):,} records, {read_s:.2f} s)")

    s3 = boto3.client(
        "s3", endpoint_url=env["GIM_S3_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "gim-local"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "gim-local-secret"),
    )  # fmt: skip
    store = CheckpointStore(s3, S3_BUCKET, "bench/gsp")
    start = time.perf_counter()
    result = run_microbatch(TENANT, consumer, producer, store, n + 1)
    batch_s = time.perf_counter() - start
    rate = len(result.read.records) / batch_s
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
    print(
        f"micro-batch: {rate:>10,.0f} records/s ({batch_s:.2f} s: {phases}; state {result.state_bytes:,} B)"
    )
    print(f"micro-batch / read only: {rate / read_rate:.2f}")
    consumer.close()


if __name__ == "__main__":
    main()
