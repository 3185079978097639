"""Job_MaintainGIM core: purge old facts, create partitions ahead, extend DATE_TIME, ANALYZE, record the run.

Purge rule, with ``cutoff`` = 00:00 UTC of ``today - retention_days``: a partition is dropped only if its
whole range lies before the cutoff (upper bound <= cutoff); from a partition that straddles the cutoff (a
week or month partition) and from the DEFAULT partition, rows are deleted only if their
``start_date_time_key`` is before the cutoff. Nothing at or after the cutoff is ever touched, and
configuration history (``RESOURCE_GROUP_FACT_`` ...) and dimensions are never purged. The aggregates lose the
rows of the periods wholly before the cutoff in the same transaction (``aggregates.purge``).

ANALYZE stays bounded however long the history: it takes the partitions written since the previous run (the
data time of the audit keys committed since, read from CTL_AUDIT_LOG) and those it deleted rows from, never
the unchanged days. A fact table's own statistics (which autovacuum never gathers for a partitioned table)
are refreshed when more than ``PARENT_ANALYZE_SCALE`` of its rows changed since its last ANALYZE (rows of
the partitions written since, or purged), as autovacuum does for plain tables: each refresh reads the whole
history (all of it, or with PostgreSQL 18's ``ANALYZE ONLY`` a sample of it), so it gets rarer as history
grows and costs about the same per day on average.

Everything happens in one transaction that first takes the audit lock, so it never interleaves with a load
(no lock-order deadlock between partition DDL and the loader) and a second run on the same day changes
nothing. Each run, successful or not, adds a CTL_ETL_HISTORY row.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from gim_dagster.core.infomart._db import engine_for
from gim_dagster.core.infomart.aggregates import purge as purge_aggregates
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit
from gim_dagster.core.infomart.date_time import fill_date_time, missing_intervals
from gim_dagster.core.infomart.partitions import (
    Partition,
    Period,
    day_key,
    days_between,
    ensure_partitions,
    key_day,
    list_partitions,
)
from gim_dagster.core.infomart.tables import PARTITION_KEY, PARTITIONED_TABLES

JOB_NAME = "Job_MaintainGIM"
PARENT_ANALYZE_SCALE = 0.1
"""Share of a fact table's rows that must have changed since its last ANALYZE to ANALYZE it again."""


@dataclass(frozen=True)
class PurgedPartition:
    table: str
    partition: str
    day: date
    rows: int


@dataclass(frozen=True)
class MaintenanceResult:
    job_id: str
    cutoff: date
    """Facts that started before 00:00 UTC of this day were purged; nothing from it on was touched."""
    dropped: list[PurgedPartition] = field(default_factory=list)
    deleted_rows: dict[str, int] = field(default_factory=dict)
    """Rows deleted per table: facts from the DEFAULT partition and from partitions straddling the cutoff,
    and the aggregate rows of periods wholly before it (``aggregates.purge``)."""
    partitions_created: list[str] = field(default_factory=list)
    date_time_rows: int = 0
    analyzed: list[str] = field(default_factory=list)
    """Partitions and tables ANALYZEd (a partitioned table by its own name)."""
    audit_key: int = 0
    """This run's audit key: the next run analyzes what keys after it wrote."""

    @property
    def purged_rows(self) -> int:
        return sum(p.rows for p in self.dropped) + sum(self.deleted_rows.values())

    def summary(self) -> dict[str, object]:
        """JSON-friendly summary (also stored in CTL_ETL_HISTORY.DETAILS)."""
        return json.loads(json.dumps(asdict(self) | {"purged_rows": self.purged_rows}, default=str))


def maintain(
    url_or_engine: str | sa.URL | sa.Engine,
    *,
    retention_days: int,
    partitions_ahead_days: int = 3,
    partition_period: Period = Period.DAY,
    date_time_days_ahead: int = 366,
    today: date | None = None,
    job_id: str | None = None,
    job_version: str = "",
) -> MaintenanceResult:
    """Run one maintenance pass on an Info Mart (schema already migrated); see the module docstring."""
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, got {retention_days}")
    today = today or datetime.now(UTC).date()
    job_id = job_id or f"maintain-{uuid.uuid4().hex[:12]}"
    started = datetime.now(UTC).replace(tzinfo=None)
    plan = _Plan(
        today=today,
        cutoff=today - timedelta(days=retention_days),
        partition_days=days_between(today, today + timedelta(days=partitions_ahead_days)),
        period=partition_period,
        date_time_end=today + timedelta(days=date_time_days_ahead),
    )
    with engine_for(url_or_engine) as engine:
        try:
            with engine.begin() as conn:
                result = _maintain(conn, job_id, plan)
                _record_run(conn, job_id, job_version, started, "COMPLETE", result.summary())
            return result
        except Exception as exc:
            with engine.begin() as conn:
                _record_run(conn, job_id, job_version, started, "FAILED", {"error": str(exc)[:2000]})
            raise


@dataclass(frozen=True)
class _Plan:
    today: date
    cutoff: date
    partition_days: list[date]
    period: Period
    date_time_end: date


def _maintain(conn: sa.Connection, job_id: str, plan: _Plan) -> MaintenanceResult:
    audit_key = begin_audit(conn, job_id=job_id, job_name=JOB_NAME)
    written = _written_since(conn, _previous_audit_key(conn), audit_key)
    dropped, deleted = _purge(conn, day_key(plan.cutoff))
    aggregate_rows = purge_aggregates(conn, day_key(plan.cutoff))
    created = ensure_partitions(conn, plan.partition_days, period=plan.period)
    date_time_rows = 0
    if missing_intervals(conn, plan.today, plan.date_time_end):
        date_time_rows = fill_date_time(conn, plan.today, plan.date_time_end, audit_key=audit_key)
    finish_audit(conn, audit_key, AuditStats(row_count=date_time_rows))
    analyzed = _analyze(conn, written, {t: set(parts) for t, parts in deleted.items()}, audit_key)
    if date_time_rows:
        conn.execute(sa.text("ANALYZE date_time"))
        analyzed.append("date_time")
    return MaintenanceResult(
        job_id,
        plan.cutoff,
        dropped,
        _sum_deleted(deleted) | aggregate_rows,
        created,
        date_time_rows,
        analyzed,
        audit_key,
    )


def _sum_deleted(deleted: dict[str, dict[str, int]]) -> dict[str, int]:
    """Rows deleted per table from the per-partition counts."""
    return {table: sum(parts.values()) for table, parts in deleted.items()}


def _previous_audit_key(conn: sa.Connection) -> int:
    """The audit key of the last complete run (0 before the first: everything counts as written)."""
    details = conn.execute(
        sa.text(
            "SELECT details FROM ctl_etl_history WHERE job_name = :n AND status = 'COMPLETE' "
            "ORDER BY start_time DESC LIMIT 1"
        ),
        {"n": JOB_NAME},
    ).scalar()
    return int(json.loads(details).get("audit_key", 0)) if details else 0


def _written_since(conn: sa.Connection, after: int, before: int) -> list[tuple[int, int]]:
    """START_DATE_TIME_KEY ranges of the fact rows that transactions committed in ``(after, before)`` wrote.

    Every writer holds the audit lock from drawing its key to its commit, and so does this run: the keys
    below ``before`` are exactly those committed so far.
    """
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT min_start_date_time_key, max_start_date_time_key FROM ctl_audit_log "
            "WHERE audit_key > :a AND audit_key < :b AND min_start_date_time_key IS NOT NULL"
        ),
        {"a": after, "b": before},
    ).all()
    return [(lo, hi) for lo, hi in rows]


def _key_before(conn: sa.Connection, when: datetime) -> int:
    """The last audit key created at or before ``when`` (UTC): read backwards from the newest."""
    return conn.execute(
        sa.text(
            "SELECT coalesce((SELECT audit_key FROM ctl_audit_log WHERE created <= :w "
            "ORDER BY audit_key DESC LIMIT 1), 0)"
        ),
        {"w": when},
    ).scalar_one()


def _analyze(
    conn: sa.Connection, written: list[tuple[int, int]], deleted_from: dict[str, set[str]], audit_key: int
) -> list[str]:
    """ANALYZE the partitions written or purged from, and each fact table whose rows changed enough."""
    version = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
    only = "ONLY " if version >= 180_000 else ""  # older servers cannot gather a parent's alone
    analyzed: list[str] = []
    for tbl in PARTITIONED_TABLES:
        parts = list_partitions(conn, tbl.name)
        changed = {p.name for p in parts if _overlaps(p, written)} | deleted_from.get(tbl.name, set())
        for name in sorted(changed):
            conn.execute(sa.text(f"ANALYZE {name}"))
            analyzed.append(name)
        if _changed_share(conn, tbl.name, parts, audit_key) > PARENT_ANALYZE_SCALE:
            conn.execute(sa.text(f"ANALYZE {only}{tbl.name}"))
            analyzed.append(tbl.name)
    return analyzed


def _overlaps(part: Partition, written: list[tuple[int, int]]) -> bool:
    if part.is_default:
        return False  # the loader creates the partitions of its days: it never writes here
    return any(lo < part.upper and part.lower <= hi for lo, hi in written)  # type: ignore[operator]


def _changed_share(conn: sa.Connection, table: str, parts: list[Partition], audit_key: int) -> float:
    """How much of ``table`` changed since its own last ANALYZE, as a share of the rows it counted then.

    The larger of the net change of its partitions' ``reltuples`` (a purge) and the rows of the partitions
    written since (new days: with retention, a day in and a day out change the total by nothing).
    """
    own, analyzed_at = conn.execute(
        sa.text(
            "SELECT c.reltuples, s.last_analyze AT TIME ZONE 'UTC' FROM pg_class c "
            "LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid WHERE c.oid = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).one()
    rows = dict(
        conn.execute(
            sa.text(
                "SELECT c.relname, greatest(c.reltuples, 0) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:t AS regclass)"
            ),
            {"t": table},
        ).all()
    )
    total = sum(rows.values())
    if own < 0 or analyzed_at is None:  # never analyzed (or its statistics' time was reset)
        return float("inf") if total > 0 else 0.0
    since = _written_since(conn, _key_before(conn, analyzed_at), audit_key)
    written = sum(rows[p.name] for p in parts if _overlaps(p, since))
    return max(abs(total - own), written) / max(own, 1.0)


def _purge(conn: sa.Connection, cutoff_key: int) -> tuple[list[PurgedPartition], dict[str, dict[str, int]]]:
    """Drop the partitions wholly before ``cutoff_key``; delete older rows from the others that have some.

    Returns the dropped partitions and, per table, the rows deleted per partition.
    """
    dropped: list[PurgedPartition] = []
    deleted: dict[str, dict[str, int]] = {}
    for tbl in PARTITIONED_TABLES:
        deleted[tbl.name] = {}
        for part in list_partitions(conn, tbl.name):
            if part.is_default or part.lower < cutoff_key < part.upper:  # type: ignore[operator]
                rows = conn.execute(
                    sa.text(f"DELETE FROM {part.name} WHERE {PARTITION_KEY} < :cutoff"),
                    {"cutoff": cutoff_key},
                ).rowcount
                if rows:
                    deleted[tbl.name][part.name] = rows
            elif part.upper <= cutoff_key:  # type: ignore[operator]
                rows = conn.execute(sa.text(f"SELECT count(*) FROM {part.name}")).scalar_one()
                conn.execute(sa.text(f"DROP TABLE {part.name}"))
                dropped.append(PurgedPartition(tbl.name, part.name, key_day(part.lower), rows))  # type: ignore[arg-type]
    return dropped, deleted


def _record_run(
    conn: sa.Connection, job_id: str, version: str, started: datetime, status: str, details: dict[str, object]
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO ctl_etl_history "
            "(job_id, job_name, job_version, start_time, end_time, status, details) "
            "VALUES (:id, :name, :version, :start, clock_timestamp() AT TIME ZONE 'UTC', :status, :details)"
        ),
        {
            "id": job_id,
            "name": JOB_NAME,
            "version": version,
            "start": started,
            "status": status,
            "details": json.dumps(details),
        },
    )
