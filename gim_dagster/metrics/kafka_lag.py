"""Consumer lag of a stored position (GSP checkpoint, Info Mart offsets) against a topic's real end.

The broker's high watermark is only a hint (conventions.md: on Tansu it is the base offset of the last
record batch + 1). The end is therefore *read*: from ``max(position, hint - 1)`` to partition EOF, which is
at most the last batch on Tansu and a single record on a broker with an exact watermark. The lag in seconds
is the age of the first record not yet consumed, read at the stored position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from gim_dagster.core.kafka_io import TP, read_range

READ_TIMEOUT_S = 5.0
MAX_TAIL_RECORDS = 200_000
"""Bound on the records read to find the end; past it the lag is a lower bound (never an overestimate)."""


@dataclass(frozen=True)
class PartitionLag:
    position: int
    end: int
    oldest_unread_ms: int | None
    """Kafka timestamp of the record at ``position`` when the lag is positive."""

    @property
    def records(self) -> int:
        return max(self.end - self.position, 0)


def end_offsets(consumer: Consumer, positions: Mapping[TP, int]) -> dict[TP, int]:
    """The offset after the last record of each partition (at least its stored position)."""
    hints: dict[TP, int] = {}
    for tp in positions:
        _low, high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=READ_TIMEOUT_S, cached=False)
        hints[tp] = high
    starts = {tp: max(positions[tp], hints[tp] - 1, 0) for tp in positions}
    read = read_range(consumer, starts, MAX_TAIL_RECORDS, idle_timeout=READ_TIMEOUT_S)
    return {tp: max(read.end[tp], hints[tp], positions[tp]) for tp in positions}


def first_timestamp_ms(consumer: Consumer, tp: TP, offset: int) -> int | None:
    """Timestamp of the first record at or after ``offset`` (None when there is none)."""
    read = read_range(consumer, {tp: offset}, 1, idle_timeout=READ_TIMEOUT_S)
    return read.records[0].timestamp_ms if read.records else None


def partition_lags(consumer: Consumer, positions: Mapping[TP, int]) -> dict[TP, PartitionLag]:
    """Lag of each stored position; ``consumer`` must not reset to earliest (see ``lag_consumer_config``)."""
    ends = end_offsets(consumer, positions)
    result = {}
    for tp, position in positions.items():
        behind = ends[tp] > position
        oldest = first_timestamp_ms(consumer, tp, position) if behind else None
        result[tp] = PartitionLag(position, ends[tp], oldest)
    return result


def lag_consumer_config() -> dict[str, str | bool]:
    """Overrides for the lag consumer: a position past the end (an emptied broker) must not rewind to 0.

    (Kafka then reports the partition at its end, lag 0; Tansu neither delivers nor reports EOF there, so
    the read times out and the refresh of that tenant counts as failed, which is what it is.)
    """
    return {"auto.offset.reset": "latest", "group.id": "gim-metrics", "enable.auto.commit": False}


def lag_seconds(lags: Mapping[TP, PartitionLag], now_s: float, fallback_since_s: float | None) -> float:
    """Age of the oldest unconsumed record; ``fallback_since_s`` (e.g. the checkpoint time) when its
    timestamp could not be read; 0 when nothing is behind."""
    behind = [lag for lag in lags.values() if lag.records > 0]
    if not behind:
        return 0.0
    stamps = [
        lag.oldest_unread_ms
        for lag in behind
        if lag.oldest_unread_ms is not None and lag.oldest_unread_ms > 0
    ]
    if stamps:
        return max(now_s - min(stamps) / 1000.0, 0.0)
    return max(now_s - fallback_since_s, 0.0) if fallback_since_s is not None else 0.0


def lag_by_topic(lags: Mapping[TP, PartitionLag]) -> dict[str, int]:
    result: dict[str, int] = {}
    for (topic, _partition), lag in lags.items():
        result[topic] = result.get(topic, 0) + lag.records
    return result
