"""Create and upgrade an Info Mart database: alembic migrations plus the runtime-filled parts.

``migrate`` is idempotent and cheap when the database is current, so callers run it before every load.
Concurrent callers serialise on a PostgreSQL advisory lock held for the whole (single) transaction: the
second one waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gim_dagster.core.infomart._db import engine_for
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit
from gim_dagster.core.infomart.date_time import fill_date_time, missing_intervals
from gim_dagster.core.infomart.partitions import Period, days_between, ensure_partitions

MIGRATE_LOCK_ID = 0x47494D_4D494752  # "GIM" "MIGR"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DEFAULT_DAYS_BACK = 31
DEFAULT_DAYS_AHEAD = 366
DEFAULT_PARTITIONS_AHEAD = 3


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic configuration of the Info Mart migrations (for ``gim infomart migrate`` and tests)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def default_date_time_range(today: date | None = None) -> tuple[date, date]:
    """``DEFAULT_DAYS_BACK`` days before today up to ``DEFAULT_DAYS_AHEAD`` days after (UTC days)."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=DEFAULT_DAYS_BACK), today + timedelta(days=DEFAULT_DAYS_AHEAD)


def migrate(
    url_or_engine: str | sa.URL | sa.Engine,
    *,
    date_time_range: tuple[date, date] | None = None,
    time_zone: str | None = None,
    partitions_ahead_days: int = DEFAULT_PARTITIONS_AHEAD,
    partition_period: Period = Period.DAY,
) -> str:
    """Upgrade the Info Mart at ``url_or_engine`` to the newest schema; return its schema version.

    Also makes sure DATE_TIME covers ``date_time_range`` (UTC days ``[first, end)``; default
    ``default_date_time_range()``, filled in ``time_zone`` when the table is new, default UTC) and that the
    fact tables have partitions (of ``partition_period``) from today to ``partitions_ahead_days`` ahead. All
    in one transaction.
    """
    first, end = date_time_range or default_date_time_range()
    today = datetime.now(UTC).date()
    with engine_for(url_or_engine) as engine, engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATE_LOCK_ID})
        if MigrationContext.configure(conn).get_current_revision() != head_revision():
            command.upgrade(alembic_config(conn), "head")
        _extend_date_time(conn, first, end, time_zone)
        ahead = days_between(today, today + timedelta(days=partitions_ahead_days))
        ensure_partitions(conn, ahead, period=partition_period)
        return schema_version(conn)


def _extend_date_time(conn: sa.Connection, first: date, end: date, time_zone: str | None) -> None:
    if missing_intervals(conn, first, end) == 0:
        return
    audit_key = begin_audit(conn, job_id=f"migrate-{datetime.now(UTC):%Y%m%dT%H%M%S}", job_name="migrate")
    added = fill_date_time(conn, first, end, audit_key=audit_key, time_zone=time_zone)
    finish_audit(conn, audit_key, AuditStats(row_count=added))


def schema_version(conn: sa.Connection) -> str:
    """The newest applied schema version (``gim-schema-version`` of the export)."""
    return conn.execute(
        sa.text("SELECT schema_version FROM gim_schema_version ORDER BY schema_version DESC LIMIT 1")
    ).scalar_one()
