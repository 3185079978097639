"""CTL_AUDIT_LOG: one audit key per writing transaction, handed out in commit order.

The export selects rows by ``update_audit_key > high-water mark``. That is only safe if a transaction with a
lower audit key can never commit after one with a higher key. Every writer (loader, GCA dimension sync,
maintenance) therefore takes ``AUDIT_LOCK_ID`` as a transaction-level advisory lock *before* drawing its key
and keeps it until commit: audit keys commit strictly in key order, and an export snapshot never sees key
K+1 without K. The lock also serialises loaders of one Info Mart, which the exactly-once offset check needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

AUDIT_LOCK_ID = 0x47494D_41554454  # "GIM" "AUDT"


@dataclass(frozen=True)
class AuditStats:
    """What a transaction committed, for its CTL_AUDIT_LOG row."""

    row_count: int
    min_start_date_time_key: int | None = None
    max_start_date_time_key: int | None = None
    max_chunk_ts: int | None = None


def begin_audit(conn: sa.Connection, *, job_id: str, job_name: str) -> int:
    """Take the audit lock, draw the next audit key and insert its CTL_AUDIT_LOG row; return the key."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})
    return conn.execute(
        sa.text(
            "INSERT INTO ctl_audit_log "
            "(audit_key, job_id, job_name, created, processing_status_key, created_ts) "
            "SELECT nextval('ctl_audit_log_audit_key_seq'), :job_id, :job_name, "
            "       clock_timestamp() AT TIME ZONE 'UTC', 0, extract(epoch FROM clock_timestamp())::integer "
            "RETURNING audit_key"
        ),
        {"job_id": job_id[:64], "job_name": job_name[:64]},
    ).scalar_one()


def finish_audit(conn: sa.Connection, audit_key: int, stats: AuditStats) -> None:
    """Record what the transaction wrote; a transaction that wrote nothing leaves no audit row at all."""
    if stats.row_count == 0:
        conn.execute(sa.text("DELETE FROM ctl_audit_log WHERE audit_key = :k"), {"k": audit_key})
        return
    conn.execute(
        sa.text(
            "UPDATE ctl_audit_log SET inserted = clock_timestamp() AT TIME ZONE 'UTC', row_count = :n, "
            "min_start_date_time_key = :lo, max_start_date_time_key = :hi, max_chunk_ts = :chunk "
            "WHERE audit_key = :k"
        ),
        {
            "k": audit_key,
            "n": stats.row_count,
            "lo": stats.min_start_date_time_key,
            "hi": stats.max_start_date_time_key,
            "chunk": stats.max_chunk_ts,
        },
    )


def written_span(conn: sa.Connection, after: int, upto: int) -> tuple[int, int] | None:
    """The START_DATE_TIME_KEY range of the fact rows that audit keys ``(after, upto]`` wrote (None: they
    wrote none). The loader, the only writer of facts, records it per key: readers of what those keys changed
    bound their scans of the partitioned fact tables with it, so the cost does not grow with the history."""
    lo, hi = conn.execute(
        sa.text(
            "SELECT min(min_start_date_time_key), max(max_start_date_time_key) FROM ctl_audit_log "
            "WHERE audit_key > :a AND audit_key <= :b"
        ),
        {"a": after, "b": upto},
    ).one()
    return None if lo is None else (lo, hi)
