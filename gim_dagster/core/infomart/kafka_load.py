"""One `infomart_load` run: read ``<tenant>.gsp.facts`` from the offsets the Info Mart stored, load, repeat.

Each round reads at most ``batch_records`` records (``kafka_io.read_range``, to partition EOF) and commits
them with their end offsets (``loader.load_batch``: one transaction per span of data time). The run stops
when every partition is at EOF or ``max_records`` were loaded; ``drained`` tells the sensor whether more is
waiting.

Before reading, the stored offsets are checked against the partitions (``offsets_out_of_range``): one past
the end (the topic was recreated, the cluster migrated) or before the start (retention) stops the load with
``StoredOffsetOutOfRange`` naming both; reading on from there would skip or silently re-read records. The
way on is explicit: ``gim infomart reset-offset`` (``offset_reset.reset_offset``, docs/operations.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from confluent_kafka import Consumer

from gim_dagster.core.infomart.loader import DEFAULT_SPAN_SECONDS, load_batch, read_offsets
from gim_dagster.core.infomart.partitions import Period
from gim_dagster.core.kafka_io import (
    TP,
    StoredOffsetOutOfRange,
    existing_partitions,
    offsets_out_of_range,
    read_range,
)

REMEDY = (
    "The Info Mart stops loading {topic} until an operator resets the offset: "
    "`gim infomart reset-offset --tenant <tenant> --partition <p> --to earliest|latest|<offset>` "
    '(docs/operations.md, "Stored offset out of range").'
)


@dataclass
class KafkaLoadResult:
    rounds: int = 0
    records: int = 0
    skipped: int = 0
    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    audit_keys: list[int] = field(default_factory=list)
    offsets_from: dict[TP, int] = field(default_factory=dict)
    offsets_to: dict[TP, int] = field(default_factory=dict)
    drained: bool = False

    def metadata(self) -> dict[str, object]:
        """Plain values for run metadata (offsets as ``topic[partition]`` → offset)."""
        return {
            "records_read": self.records,
            "records_already_loaded": self.skipped,
            "rows_inserted": dict(self.inserted),
            "rows_updated": dict(self.updated),
            "audit_keys": self.audit_keys,
            "offsets_from": {f"{t}[{p}]": o for (t, p), o in self.offsets_from.items()},
            "offsets_to": {f"{t}[{p}]": o for (t, p), o in self.offsets_to.items()},
            "drained": self.drained,
        }


def load_from_kafka(
    engine: sa.Engine,
    consumer: Consumer,
    topic: str,
    *,
    job_name: str,
    job_id: str | None = None,
    batch_records: int = 100_000,
    max_records: int = 2_000_000,
    partition_period: Period = Period.DAY,
    span_seconds: int = DEFAULT_SPAN_SECONDS,
) -> KafkaLoadResult:
    """Load the facts topic into the Info Mart from its stored offsets; see the module docstring."""
    stored = read_offsets(engine, topic)
    problems = offsets_out_of_range(consumer, stored)
    if problems:
        raise StoredOffsetOutOfRange("Info Mart load", problems, REMEDY.format(topic=topic))
    position = {tp: stored.get(tp, 0) for tp in existing_partitions(consumer, [topic])}
    result = KafkaLoadResult(offsets_from=dict(position), offsets_to=dict(position))
    while result.records < max_records:
        read = read_range(consumer, position, min(batch_records, max_records - result.records))
        result.rounds += 1
        if read.records:
            loaded = load_batch(
                engine,
                [(r.topic, r.partition, r.offset, r.key, r.value) for r in read.records],
                job_name=job_name,
                job_id=f"{job_id}-{result.rounds}" if job_id else None,
                topic_offsets=read.end,
                partition_period=partition_period,
                span_seconds=span_seconds,
            )
            result.records += loaded.records
            result.skipped += loaded.skipped
            for name, counts in loaded.tables.items():
                result.inserted[name] += counts.inserted
                result.updated[name] += counts.updated
            result.audit_keys += loaded.audit_keys
        position = read.end
        result.offsets_to = dict(position)
        result.drained = read.drained
        if read.drained:
            break
    return result
