"""Moving a stored Info Mart offset on purpose: the explicit way on after ``StoredOffsetOutOfRange``.

The load never moves its offsets backwards and never skips (``loader``), so after the facts topic was
recreated or retention deleted unread records it stops (``kafka_load``). An operator then chooses where to
resume: ``earliest`` (re-read what the partition still holds: the facts have deterministic keys, the load
upserts them), ``latest`` (skip to the end), or an offset. ``reset_offset`` writes the new offset and a
``CTL_ETL_HISTORY`` row (job ``GIM_OFFSET_RESET``, details: topic, partition, previous and new offset, the
partition's watermarks, the reason) in one transaction, under the audit lock that serialises the loads.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from gim_dagster.core.infomart.audit import AUDIT_LOCK_ID
from gim_dagster.core.kafka_io import TP

JOB_NAME = "GIM_OFFSET_RESET"


@dataclass(frozen=True)
class OffsetReset:
    job_id: str
    topic: str
    partition: int
    previous: int | None
    """The stored offset before the reset (None: the partition had none)."""
    offset: int
    low: int
    high: int
    reason: str


def reset_offset(
    engine: sa.Engine, tp: TP, offset: int, *, low: int, high: int, reason: str, job_id: str | None = None
) -> OffsetReset:
    """Store ``offset`` for ``tp`` (backwards too) and record it in CTL_ETL_HISTORY, in one transaction."""
    job_id = job_id or f"offset-reset-{uuid.uuid4().hex[:12]}"
    topic, partition = tp
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})
        previous = conn.execute(
            sa.text("SELECT next_offset FROM gim_kafka_offsets WHERE topic = :t AND partition = :p"),
            {"t": topic, "p": partition},
        ).scalar_one_or_none()
        conn.execute(
            sa.text(
                "INSERT INTO gim_kafka_offsets (topic, partition, next_offset, updated) "
                "VALUES (:t, :p, :o, clock_timestamp() AT TIME ZONE 'UTC') "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, "
                "updated = EXCLUDED.updated"
            ),
            {"t": topic, "p": partition, "o": offset},
        )
        record = OffsetReset(job_id, topic, partition, previous, offset, low, high, reason)
        details = {k: v for k, v in asdict(record).items() if k != "job_id"}
        conn.execute(
            sa.text(
                "INSERT INTO ctl_etl_history "
                "(job_id, job_name, job_version, start_time, end_time, status, details) "
                "VALUES (:id, :name, '', clock_timestamp() AT TIME ZONE 'UTC', "
                "clock_timestamp() AT TIME ZONE 'UTC', 'COMPLETE', :details)"
            ),
            {"id": job_id, "name": JOB_NAME, "details": json.dumps(details)},
        )
    return record


def reset_history(engine: sa.Engine) -> list[OffsetReset]:
    """Every offset reset recorded in CTL_ETL_HISTORY, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT job_id, details FROM ctl_etl_history WHERE job_name = :n ORDER BY start_time, job_id"
            ),
            {"n": JOB_NAME},
        ).all()
    return [OffsetReset(job_id=job_id, **json.loads(details)) for job_id, details in rows]
