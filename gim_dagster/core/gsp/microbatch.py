"""One GSP micro-batch against Kafka and S3: checkpoint in, records read, facts out, checkpoint written.

Order of effects, for exactly-once: (1) load the tenant's checkpoint (``latest`` pointer, then the immutable
object it names); (2) read the raw topics from the checkpoint's offsets with ``assign()``; (3) apply; (4)
produce the facts and dead letters and flush; (5) write a new immutable checkpoint object, then move
``latest``. A run killed before (5) leaves the old checkpoint in place; the re-run reads the same records
from the same state and produces the same keys and values again, which the loader's upsert absorbs.

A checkpoint offset outside its raw partition (past the end: the topic was recreated or the cluster
migrated; before the start: retention) stops the run with ``StoredOffsetOutOfRange`` before anything is
read; ``reset_checkpoint_offset`` (``gim gsp reset-offset``) is the explicit way on.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from gim_dagster.core.facts.records import encode
from gim_dagster.core.gsp.context import GspConfig
from gim_dagster.core.gsp.keys import KeyResolver
from gim_dagster.core.gsp.processor import BatchOutput, DeadLetter, Processor
from gim_dagster.core.gsp.state import GspState, dumps, loads
from gim_dagster.core.kafka_io import (
    TP,
    ReadResult,
    StoredOffsetOutOfRange,
    existing_partitions,
    offsets_out_of_range,
    read_range,
)
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.s3_objects import get_body

LATEST = "latest.json"
RESETS = "resets"
OUT_OF_RANGE_REMEDY = (
    "GSP stops until an operator resets the checkpoint's offset: `gim gsp reset-offset --tenant <tenant> "
    "--topic <topic> --partition <p> --to earliest|latest|<offset>` (docs/operations.md, "
    '"Stored offset out of range").'
)


class GspStopped(RuntimeError):
    """The tenant's GSP must not run until an operator acts (docs/operations.md, "GSP stopped").

    ``reason`` is ``checkpoint_lost`` (no checkpoint, yet the facts topic holds facts: starting from empty
    state would re-derive facts from whatever raw records retention kept and write them over good ones) or
    ``no_gca_snapshot`` (every configuration key would resolve to -1 and be written over good keys).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def has_records(consumer: Consumer, topics: list[str]) -> bool:
    """Whether any partition of ``topics`` ever held a record (its end offset is past 0; a hint that is
    exact for this question even on Tansu, conventions.md)."""
    for tp in existing_partitions(consumer, topics):
        _low, high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=10, cached=False)
        if high > 0:
            return True
    return False


def stop_reason(consumer: Consumer, tenant: str, has_checkpoint: bool, has_gca_snapshot: bool) -> str | None:
    """Why the tenant's GSP must not run now (a ``GspStopped`` reason), or None."""
    names = TenantNames(tenant)
    if not has_gca_snapshot and has_records(consumer, list(names.raw_topics)):
        return "no_gca_snapshot"
    if not has_checkpoint and has_records(consumer, [names.facts_topic]):
        return "checkpoint_lost"
    return None


_STOPPED = {
    "checkpoint_lost": "no GSP checkpoint under {where} but {facts} holds facts: the checkpoint was lost. "
    "GSP stops rather than start from empty state (`gim gsp restart --tenant {tenant}`, docs/operations.md)",
    "no_gca_snapshot": "no GCA snapshot under {where}: GSP stops rather than resolve every configuration key "
    "to -1; materialize gca_snapshot for {tenant} (docs/operations.md)",
}


def ensure_may_run(
    consumer: Consumer, tenant: str, where: str, *, has_checkpoint: bool, has_gca_snapshot: bool
) -> None:
    """Raise ``GspStopped`` (naming ``where``, the S3 prefix that is missing) if the tenant must not run."""
    reason = stop_reason(consumer, tenant, has_checkpoint, has_gca_snapshot)
    if reason is not None:
        facts = TenantNames(tenant).facts_topic
        raise GspStopped(
            reason, f"{tenant}: " + _STOPPED[reason].format(where=where, facts=facts, tenant=tenant)
        )


def restart_from_raw(consumer: Consumer, store: CheckpointStore, tenant: str) -> tuple[str, dict[TP, int]]:
    """The documented recovery from a lost checkpoint: an explicit empty checkpoint at each raw partition's
    first offset still kept, so GSP re-derives the facts from the raw topics (same keys: the load upserts).
    Returns the checkpoint id and the offsets it starts from (non-zero where retention deleted records)."""
    offsets = {}
    for tp in existing_partitions(consumer, TenantNames(tenant).raw_topics):
        low, _high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=10, cached=False)
        offsets[tp] = max(low, 0)
    state = GspState(tenant, offsets=offsets)
    return store.save(state), offsets


def reset_checkpoint_offset(
    store: CheckpointStore, tp: TP, offset: int, *, low: int, high: int, reason: str
) -> tuple[str, dict[str, Any]]:
    """Move one raw partition's offset in the current checkpoint (backwards too), keeping the rest of the
    state: an audit object ``resets/<time>-<checkpoint>.json`` first, then a new checkpoint and pointer (so
    no reset takes effect unrecorded). Returns the new checkpoint id and the audit record."""
    state, previous_id = store.load()
    if state is None or previous_id is None:
        raise ValueError(f"no GSP checkpoint under s3://{store.bucket}/{store.prefix}/: nothing to reset")
    record: dict[str, Any] = {
        "topic": tp[0],
        "partition": tp[1],
        "previous": state.offsets.get(tp),
        "offset": offset,
        "low": low,
        "high": high,
        "reason": reason,
        "from_checkpoint": previous_id,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    key = f"{store.prefix}/{RESETS}/{time.time_ns()}-{previous_id}.json"
    store.s3.put_object(Bucket=store.bucket, Key=key, Body=json.dumps(record).encode())
    state.offsets[tp] = offset
    state.at_eof[tp] = False
    return store.save(state), record


@dataclass(frozen=True)
class Pointer:
    """The ``latest`` object: which checkpoint is current and the positions it covers (read by the sensor).

    ``pending_since_ms``: of the raw partitions that still hold events back for lateness, the oldest
    broker timestamp of the newest record read (``Clock.last_append_ms``); None when nothing is held back.
    It tells the sensor when an idle flush becomes due although no new record arrives (``idle_flush_due``).
    Pointers written before it existed read as None.
    """

    checkpoint_id: str
    offsets: dict[TP, int]
    at_eof: dict[TP, bool]
    pending_since_ms: int | None = None

    def to_json(self) -> bytes:
        parts = [[t, p, o, self.at_eof.get((t, p), False)] for (t, p), o in sorted(self.offsets.items())]
        doc: dict[str, Any] = {"checkpoint_id": self.checkpoint_id, "partitions": parts}
        if self.pending_since_ms is not None:
            doc["pending_since_ms"] = self.pending_since_ms
        return json.dumps(doc).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Pointer:
        doc = json.loads(data)
        parts = doc["partitions"]
        return cls(
            doc["checkpoint_id"],
            {(t, p): o for t, p, o, _ in parts},
            {(t, p): e for t, p, _, e in parts},
            doc.get("pending_since_ms"),
        )

    def idle_flush_due(self, now_ms: int, idle_flush_ms: int) -> bool:
        """Whether a run from this checkpoint at ``now_ms`` would release events held back for lateness by
        an idle flush (the same test as ``Processor``'s, for the partition that has been silent longest)."""
        return self.pending_since_ms is not None and now_ms - self.pending_since_ms >= idle_flush_ms


def pending_since(state: GspState) -> int | None:
    """``Pointer.pending_since_ms`` of a state."""
    return min((c.last_append_ms for c in state.clocks.values() if c.pending), default=None)


class CheckpointStore:
    """Checkpoints of one tenant under ``prefix`` in an S3 bucket (a boto3 client)."""

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.rstrip("/")
        self.lost: list[str] = []
        """Checkpoints the last ``load`` found missing (``latest`` named the first)."""

    def pointer(self) -> Pointer | None:
        body = get_body(self.s3, self.bucket, f"{self.prefix}/{LATEST}")
        return None if body is None else Pointer.from_json(body)

    def load(self) -> tuple[GspState | None, str | None]:
        """The state ``latest`` names, and its id. If that object is gone (deleted, or lost with a restore of
        the bucket), the newest older checkpoint still there: the batch then re-reads the raw records since
        it and produces the same facts again (same keys and values: the load upserts), so the Info Mart ends
        the same. ``lost`` names the checkpoints passed over, for the run to report. None when no checkpoint
        is left: the caller decides (``ensure_may_run``)."""
        pointer = self.pointer()
        if pointer is None:
            return None, None
        self.lost = []
        for checkpoint_id in [pointer.checkpoint_id, *self._older(pointer.checkpoint_id)]:
            body = get_body(self.s3, self.bucket, f"{self.prefix}/{checkpoint_id}")
            if body is None:
                self.lost.append(checkpoint_id)
                continue
            return loads(body), checkpoint_id
        return None, None

    def _older(self, checkpoint_id: str) -> list[str]:
        """The checkpoint objects older than ``checkpoint_id`` (names lead with the batch), newest first."""
        names: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/"
        ):
            names += [o["Key"].rsplit("/", 1)[-1] for o in page.get("Contents", [])]
        return sorted((n for n in names if n.endswith(".ckpt") and n < checkpoint_id), reverse=True)

    def save(self, state: GspState) -> str:
        """Write the state as a new immutable object, then point ``latest`` at it; returns its id."""
        data = dumps(state)
        checkpoint_id = f"{state.batches:010d}-{hashlib.sha256(data).hexdigest()[:16]}.ckpt"
        self.s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{checkpoint_id}", Body=data)
        pointer = Pointer(checkpoint_id, dict(state.offsets), dict(state.at_eof), pending_since(state))
        self.s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{LATEST}", Body=pointer.to_json())
        return checkpoint_id


@dataclass
class MicrobatchResult:
    read: ReadResult
    output: BatchOutput
    checkpoint_id: str
    state_bytes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    lost_checkpoints: list[str] = field(default_factory=list)
    """Checkpoints found missing at the start: the batch resumed from an older one (``CheckpointStore``)."""

    def metadata(self) -> dict[str, Any]:
        """A JSON-friendly summary for Dagster metadata and logs."""
        out, read = self.output, self.read
        return {
            "offsets": {f"{t}[{p}]": [read.start[(t, p)], read.end[(t, p)]] for t, p in sorted(read.start)},
            "records": len(read.records),
            "drained": read.drained,
            "events_by_type": dict(sorted(out.events_by_type.items())),
            "facts_by_table": dict(sorted(out.facts_by_table.items())),
            "late": out.stats["late"],
            "duplicates": out.stats["duplicates"],
            "dead_lettered": len(out.dead_letters),
            "stats": dict(sorted(out.stats.items())),
            "checkpoint_id": self.checkpoint_id,
            "state_bytes": self.state_bytes,
            "lost_checkpoints": self.lost_checkpoints,
        }


def start_positions(consumer: Consumer, tenant: str, state: GspState) -> dict[TP, int]:
    """The checkpoint's offsets, plus offset 0 for raw partitions it has not seen yet."""
    positions = dict.fromkeys(existing_partitions(consumer, TenantNames(tenant).raw_topics), 0)
    positions.update(state.offsets)
    return positions


def run_microbatch(
    tenant: str,
    consumer: Consumer,
    producer: Producer,
    store: CheckpointStore,
    max_records: int,
    *,
    config: GspConfig | None = None,
    resolver: KeyResolver | None = None,
    now_ms: int | None = None,
) -> MicrobatchResult:
    """Process the next range of the tenant's raw topics (the module docstring gives the order of effects)."""
    tick = time.perf_counter
    timings: dict[str, float] = {}
    t0 = tick()
    state, _ = store.load()
    if state is None:
        where = f"s3://{store.bucket}/{store.prefix}/"
        ensure_may_run(consumer, tenant, where, has_checkpoint=False, has_gca_snapshot=True)
        state = GspState(tenant)
    problems = offsets_out_of_range(consumer, state.offsets)
    if problems:
        raise StoredOffsetOutOfRange(f"{tenant}: GSP", problems, OUT_OF_RANGE_REMEDY)
    read = read_range(consumer, start_positions(consumer, tenant, state), max_records)
    t1 = tick()
    output = Processor(state, config, resolver).process(
        read.records, now_ms, partitions=read.start, at_eof=read.at_eof
    )
    t2 = tick()
    produce_all(producer, TenantNames(tenant), output)
    t3 = tick()
    state.offsets, state.at_eof = dict(read.end), dict(read.at_eof)
    checkpoint_id = store.save(state)
    timings.update(read=t1 - t0, process=t2 - t1, produce=t3 - t2, checkpoint=tick() - t3)
    return MicrobatchResult(read, output, checkpoint_id, len(dumps(state)), timings, list(store.lost))


def produce_all(producer: Producer, names: TenantNames, output: BatchOutput) -> None:
    """Produce the facts and dead letters and wait until all are acknowledged; raise on any failure."""
    errors: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    for table, row in output.facts:
        record = encode(table, row)
        _produce(producer, names.facts_topic, record.key, record.value, record.headers, on_delivery)
    for dead in output.dead_letters:
        key, value, headers = dead_letter_record(dead)
        _produce(producer, names.deadletter_topic, key, value, headers, on_delivery)
    remaining = producer.flush(60)
    if remaining or errors:
        raise KafkaException(f"GSP output not acknowledged: {remaining} pending, errors: {errors[:3]}")


DEAD_LETTER_VALUE_BYTES = 16_384
"""A dead letter carries at most this much of the rejected value; headers give its size and sha256 and the
source coordinates to fetch the original (a raw record may be as large as the broker takes)."""
DEAD_LETTER_FIELD_BYTES = 1_024
"""The reason and the source key are cut to this many bytes."""


def dead_letter_record(dead: DeadLetter) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key ``topic|partition|offset`` (so a re-run's copy is recognisable), a bounded prefix of the value, and
    headers: the reason, the source key, topic, partition and offset, the value's size and sha256, and
    ``truncated`` (``1`` when the value was cut). So a dead letter always fits in a Kafka record."""
    value = dead.value or b""
    key = f"{dead.topic}|{dead.partition}|{dead.offset}".encode()
    headers = [
        ("reason", dead.reason.encode()[:DEAD_LETTER_FIELD_BYTES]),
        ("source_key", (dead.key or b"")[:DEAD_LETTER_FIELD_BYTES]),
        ("source_topic", dead.topic.encode()),
        ("source_partition", str(dead.partition).encode()),
        ("source_offset", str(dead.offset).encode()),
        ("value_bytes", str(len(value)).encode()),
        ("value_sha256", hashlib.sha256(value).hexdigest().encode()),
        ("truncated", b"1" if len(value) > DEAD_LETTER_VALUE_BYTES else b"0"),
    ]
    return key, value[:DEAD_LETTER_VALUE_BYTES], headers


def _produce(
    producer: Producer, topic: str, key: bytes, value: bytes, headers: Any, on_delivery: Callable[..., None]
) -> None:
    while True:
        try:
            producer.produce(topic, key=key, value=value, headers=headers, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.05)
