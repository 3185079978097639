"""Reading a bounded range of Kafka records with ``assign()``, to partition EOF.

Pipelines here store their own offsets (GSP in its S3 checkpoint, the loader in the Info Mart), so they read
with ``assign()`` from explicit offsets instead of consumer-group subscriptions (slow to get an assignment on
Tansu). The broker's reported high watermark is not trusted as the end of a range (on Tansu it is the base
offset of the last record batch + 1, see conventions.md): a read goes to partition EOF or to the record bound
and reports the offsets it actually reached, and whether it reached EOF.

The watermark is still a good *hint* that something is new: if a partition's read ended at EOF at offset
``n``, anything produced after it lies in a batch whose base offset is ``>= n``, so ``high > n`` exactly when
there is something new. After a read cut short by the bound (``at_eof`` False) there is always more.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

TP = tuple[str, int]


class KafkaReadError(RuntimeError):
    """The broker could not be read (not a data problem: nothing was consumed)."""


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """A stored position outside what its partition holds: past the end (the topic was recreated, the
    cluster migrated, a memory-only broker restarted) or before the start (retention deleted it)."""

    topic: str
    partition: int
    stored: int
    low: int
    """The partition's first offset still kept."""
    high: int
    """The offset after its last record (read, not the broker's hint)."""

    @property
    def side(self) -> str:
        return "past_end" if self.stored > self.high else "before_start"

    def describe(self) -> str:
        where = "past the end" if self.side == "past_end" else "before the start"
        return (
            f"{self.topic}[{self.partition}]: stored offset {self.stored} is {where} of the partition "
            f"(low watermark {self.low}, high watermark {self.high})"
        )


class StoredOffsetOutOfRange(RuntimeError):
    """Stored positions that reading cannot continue from; the stage stops until an operator resets them."""

    def __init__(self, stage: str, problems: list[OutOfRange], remedy: str) -> None:
        self.problems = problems
        lines = "; ".join(p.describe() for p in problems)
        super().__init__(f"{stage}: {lines}. Nothing was read. {remedy}")


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


@dataclass
class ReadResult:
    records: list[Record]
    start: dict[TP, int]
    end: dict[TP, int] = field(default_factory=dict)
    """Next offset to read per partition (last offset read + 1, or the start if nothing was read)."""
    at_eof: dict[TP, bool] = field(default_factory=dict)

    @property
    def drained(self) -> bool:
        return all(self.at_eof.values())


def existing_partitions(consumer: Consumer, topics: Iterable[str], timeout: float = 10.0) -> list[TP]:
    """All partitions of the topics that exist (a topic not created yet has none)."""
    metadata = consumer.list_topics(timeout=timeout)
    result: list[TP] = []
    for topic in topics:
        meta = metadata.topics.get(topic)
        if meta is None or meta.error is not None:
            continue
        result.extend((topic, p) for p in sorted(meta.partitions))
    return result


def read_range(
    consumer: Consumer,
    start: Mapping[TP, int],
    max_records: int,
    *,
    poll_timeout: float = 1.0,
    idle_timeout: float = 30.0,
    batch: int = 10_000,
) -> ReadResult:
    """Read from ``start`` offsets until every partition reaches EOF or ``max_records`` are read.

    Records come back per partition in offset order. ``idle_timeout`` bounds waiting for a partition that
    neither delivers nor reports EOF (a broker problem): it raises ``KafkaReadError``.
    """
    result = ReadResult(records=[], start=dict(start), end=dict(start), at_eof=dict.fromkeys(start, False))
    if not start:
        return result
    consumer.assign([TopicPartition(t, p, o) for (t, p), o in start.items()])
    pending = set(start)
    last_progress = time.monotonic()
    try:
        while pending and len(result.records) < max_records:
            messages = _next_messages(consumer, min(batch, max_records - len(result.records)), poll_timeout)
            if messages:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > idle_timeout:
                raise KafkaReadError(f"no data and no EOF from {sorted(pending)} for {idle_timeout:.0f}s")
            for msg in messages:
                tp = (msg.topic(), msg.partition())
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        result.at_eof[tp] = True
                        pending.discard(tp)
                        continue
                    raise KafkaReadError(f"reading {tp}: {err.str()}")
                if tp not in pending:
                    continue  # past this partition's EOF, fetched in the same poll: next read gets it
                result.records.append(
                    Record(
                        msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(), msg.timestamp()[1]
                    )
                )
                result.end[tp] = msg.offset() + 1
                if len(result.records) >= max_records:
                    break
    finally:
        consumer.unassign()
    return result


def _next_messages(consumer: Consumer, limit: int, timeout: float) -> list[Message]:
    """Up to ``limit`` messages (or events such as EOF): wait up to ``timeout`` for the first, then take what
    is already fetched. ``consume(limit, timeout)`` alone waits the whole timeout whenever fewer than
    ``limit`` are on their way, a second lost on every read that ends at a partition's EOF."""
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(num_messages=limit - 1, timeout=0)] if limit > 1 else [first]


def has_new_records(consumer: Consumer, positions: Mapping[TP, int], at_eof: Mapping[TP, bool]) -> bool:
    """Cheap hint: is there anything past ``positions``? (See the module docstring for why it is exact.)"""
    for tp, offset in positions.items():
        if not at_eof.get(tp, False):
            return True
        _low, high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=10, cached=False)
        if high > offset:
            return True
    return False


def partition_bounds(
    consumer: Consumer, tp: TP, timeout: float = 10.0, upto: int | None = None
) -> tuple[int, int]:
    """``(low, high)``: the first offset kept and the offset after the last record, read to partition EOF
    from the broker's hint - 1 (the hint is short by up to one record batch on Tansu, conventions.md).

    With ``upto`` the read stops there: ``high`` is then ``upto`` when the partition reaches that far.
    The read starts at a record that exists, so it ends by EOF or by count, never by a timeout (a read
    past the end is neither delivered nor reported as EOF on Tansu)."""
    low, hint = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=timeout, cached=False)
    start = max(hint - 1, low, 0)
    limit = 1_000_000 if upto is None else max(upto - start, 1)
    read = read_range(consumer, {tp: start}, max_records=limit, idle_timeout=timeout)
    return low, max(read.end[tp], hint)


def offsets_out_of_range(consumer: Consumer, stored: Mapping[TP, int]) -> list[OutOfRange]:
    """The stored positions outside ``[low, high]`` of their partition (partitions that no longer exist are
    not checked). Cheap when all is well: one watermark request per partition, and for a position past the
    broker's hint (always, on Tansu: the hint is short by up to a batch) a read from the hint up to the
    position or the partition's end, whichever comes first."""
    existing = set(existing_partitions(consumer, {t for t, _ in stored}))
    problems = []
    for tp, offset in sorted(stored.items()):
        if tp not in existing:
            continue
        low, high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=10, cached=False)
        if offset > high:
            low, high = partition_bounds(consumer, tp, upto=offset)
        if not low <= offset <= high:
            problems.append(OutOfRange(tp[0], tp[1], offset, low, high))
    return problems


def resolve_offset(consumer: Consumer, tp: TP, to: str) -> tuple[int, int, int]:
    """``(offset, low, high)`` for ``to`` = ``earliest`` (``low``), ``latest`` (``high``) or an offset in
    ``[low, high]``; ``ValueError`` otherwise."""
    low, high = partition_bounds(consumer, tp)
    if to == "earliest":
        return low, low, high
    if to == "latest":
        return high, low, high
    try:
        offset = int(to)
    except ValueError:
        raise ValueError(f"--to must be earliest, latest or an offset, not {to!r}") from None
    if not low <= offset <= high:
        raise ValueError(f"{tp[0]}[{tp[1]}]: offset {offset} is outside the partition ({low}..{high})")
    return offset, low, high


def distinct_keys(consumer: Consumer, topic: str) -> int:
    """How many distinct record keys ``topic`` holds, read to its end: a dead letter's key names its source
    record, so a batch that a killed run produced and its re-run produced again counts once."""
    start = dict.fromkeys(existing_partitions(consumer, [topic]), 0)
    return len({r.key for r in read_range(consumer, start, max_records=100_000_000).records})
