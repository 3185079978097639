"""Daily range partitions of the fact tables (by ``start_date_time_key``, UTC days).

Each partitioned table has a DEFAULT partition (created by the migration) that catches rows of days without
a partition of their own, and daily partitions ``<table>_pYYYYMMDD`` holding ``[day 00:00 UTC, next day)``.
Partitions are created ahead by maintenance and on demand by the loader (for the days of its batch), so the
default partition normally stays empty. Bounds are always read from the catalog, never parsed from names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from gim_dagster.core.infomart.tables import PARTITION_KEY, PARTITIONED_TABLES

DAY_SECONDS = 86_400
_BOUND_RE = re.compile(r"FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


@dataclass(frozen=True)
class Partition:
    """One partition of a fact table; ``lower``/``upper`` are None for the DEFAULT partition."""

    table: str
    name: str
    lower: int | None
    upper: int | None

    @property
    def is_default(self) -> bool:
        return self.lower is None


def day_key(day: date) -> int:
    """UTC seconds of ``day`` 00:00 UTC (the lower bound of its partition)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def key_day(key: int) -> date:
    """The UTC day containing the date-time key (UTC seconds)."""
    return datetime.fromtimestamp(key - key % DAY_SECONDS, tz=UTC).date()


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def list_partitions(conn: sa.Connection, table: str) -> list[Partition]:
    """Partitions of ``table`` from the catalog, ordered by lower bound (the default partition first)."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).all()
    parts = []
    for name, bound in rows:
        match = _BOUND_RE.search(bound)
        lower, upper = (int(match[1]), int(match[2])) if match else (None, None)
        parts.append(Partition(table, name, lower, upper))
    return sorted(parts, key=lambda p: (p.lower is not None, p.lower or 0))


def ensure_partitions(
    conn: sa.Connection, days: Iterable[date], tables: Iterable[str] | None = None
) -> list[str]:
    """Create the daily partitions of ``days`` that do not exist yet; return the names created.

    Cheap when nothing is missing (one catalog query per table), so the loader calls it for every batch.
    """
    wanted = sorted(set(days))
    created: list[str] = []
    for table in tables if tables is not None else [t.name for t in PARTITIONED_TABLES]:
        existing = [p for p in list_partitions(conn, table) if not p.is_default]
        for day in wanted:
            lo = day_key(day)
            if not any(p.lower <= lo < p.upper for p in existing):  # type: ignore[operator]
                _create_partition(conn, table, day)
                created.append(partition_name(table, day))
    return created


def _create_partition(conn: sa.Connection, table: str, day: date) -> None:
    """Create one daily partition, moving rows of that day out of the default partition first if any.

    PostgreSQL refuses ``CREATE TABLE ... PARTITION OF`` while the default partition holds rows of the new
    range, so such rows are moved into a stand-alone table that is then attached.
    """
    name, default = partition_name(table, day), default_partition_name(table)
    lo, hi = day_key(day), day_key(day + timedelta(days=1))
    in_default = conn.execute(
        sa.text(
            f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {PARTITION_KEY} >= :lo AND {PARTITION_KEY} < :hi)"
        ),
        {"lo": lo, "hi": hi},
    ).scalar_one()
    if not in_default:
        conn.execute(sa.text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({lo}) TO ({hi})"))
        return
    conn.execute(sa.text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(
        sa.text(
            f"WITH moved AS (DELETE FROM {default} WHERE {PARTITION_KEY} >= :lo AND {PARTITION_KEY} < :hi "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        {"lo": lo, "hi": hi},
    )
    conn.execute(sa.text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})"))


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
