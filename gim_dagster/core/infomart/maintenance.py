"""Job_MaintainGIM core: purge old facts, create partitions ahead, extend DATE_TIME, ANALYZE, record the run.

Purge rule, with ``cutoff`` = 00:00 UTC of ``today - retention_days``: a partition is dropped only if its
whole range lies before the cutoff (upper bound <= cutoff); from a partition that straddles the cutoff (a
week or month partition) and from the DEFAULT partition, rows are deleted only if their
``start_date_time_key`` is before the cutoff. Nothing at or after the cutoff is ever touched, and
configuration history (``RESOURCE_GROUP_FACT_`` ...) and dimensions are never purged.

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
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit
from gim_dagster.core.infomart.date_time import fill_date_time, missing_intervals
from gim_dagster.core.infomart.partitions import (
    Period,
    day_key,
    days_between,
    ensure_partitions,
    key_day,
    list_partitions,
)
from gim_dagster.core.infomart.tables import PARTITION_KEY, PARTITIONED_TABLES

JOB_NAME = "Job_MaintainGIM"


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
    """Rows deleted per table from the DEFAULT partition and from partitions straddling the cutoff."""
    partitions_created: list[str] = field(default_factory=list)
    date_time_rows: int = 0
    analyzed: list[str] = field(default_factory=list)

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
    dropped, deleted = _purge(conn, day_key(plan.cutoff))
    created = ensure_partitions(conn, plan.partition_days, period=plan.period)
    date_time_rows = 0
    if missing_intervals(conn, plan.today, plan.date_time_end):
        date_time_rows = fill_date_time(conn, plan.today, plan.date_time_end, audit_key=audit_key)
    finish_audit(conn, audit_key, AuditStats(row_count=date_time_rows))
    changed = (
        {p.table for p in dropped} | {t for t, n in deleted.items() if n} | {_parent(n) for n in created}
    )
    analyzed = sorted(changed | ({"date_time"} if date_time_rows else set()))
    for name in analyzed:
        conn.execute(sa.text(f"ANALYZE {name}"))
    return MaintenanceResult(job_id, plan.cutoff, dropped, deleted, created, date_time_rows, analyzed)


def _purge(conn: sa.Connection, cutoff_key: int) -> tuple[list[PurgedPartition], dict[str, int]]:
    """Drop the partitions wholly before ``cutoff_key``; delete older rows from the others that have some."""
    dropped: list[PurgedPartition] = []
    deleted: dict[str, int] = {}
    for tbl in PARTITIONED_TABLES:
        deleted[tbl.name] = 0
        for part in list_partitions(conn, tbl.name):
            if part.is_default or part.lower < cutoff_key < part.upper:  # type: ignore[operator]
                deleted[tbl.name] += conn.execute(
                    sa.text(f"DELETE FROM {part.name} WHERE {PARTITION_KEY} < :cutoff"),
                    {"cutoff": cutoff_key},
                ).rowcount
            elif part.upper <= cutoff_key:  # type: ignore[operator]
                rows = conn.execute(sa.text(f"SELECT count(*) FROM {part.name}")).scalar_one()
                conn.execute(sa.text(f"DROP TABLE {part.name}"))
                dropped.append(PurgedPartition(tbl.name, part.name, key_day(part.lower), rows))  # type: ignore[arg-type]
    return dropped, deleted


def _parent(partition: str) -> str:
    """``interaction_fact_p20261123`` -> ``interaction_fact``."""
    return partition.rsplit("_p", 1)[0]


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
