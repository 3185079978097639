"""Range partitions of the fact tables by ``start_date_time_key``: one per UTC day, ISO week or month.

Each partitioned table has a DEFAULT partition (created by the migration) that catches rows of days without
a partition of their own, and partitions ``<table>_pYYYYMMDD`` named after their first day, each holding
``[first day 00:00 UTC, first day after it)``. The width is the tenant's ``partition_period`` (``Period``):
a day, an ISO week (from Monday) or a calendar month. Partitions are created ahead by maintenance and on
demand by the loader (for the days of its batch), so the default partition normally stays empty.

Changing the period never moves data: a new partition takes its period's range minus whatever existing
partitions already cover, so partitions of the old width stay as they are and the new width applies from
the first uncovered day on. Bounds are always read from the catalog, never parsed from names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from gim_dagster.core.infomart.tables import PARTITION_KEY, PARTITIONED_TABLES

DAY_SECONDS = 86_400
_BOUND_RE = re.compile(r"FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


class Period(StrEnum):
    """Width of the fact tables' partitions (the tenant setting ``partition_period``)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    def bounds(self, day: date) -> tuple[date, date]:
        """The first day of the period containing ``day`` and the first day after it."""
        if self is Period.DAY:
            return day, day + timedelta(days=1)
        if self is Period.WEEK:
            monday = day - timedelta(days=day.weekday())
            return monday, monday + timedelta(days=7)
        first = day.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1)


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
    conn: sa.Connection,
    days: Iterable[date],
    tables: Iterable[str] | None = None,
    period: Period = Period.DAY,
) -> list[str]:
    """Create partitions (of ``period``) so that every day of ``days`` has one; return the names created.

    Cheap when nothing is missing, however long the history (``_covered``: one look-up of a few partitions
    by name per table), so the loader calls it for every batch; only a missing day lists the partitions.
    """
    wanted = sorted(set(days))
    created: list[str] = []
    for table in tables if tables is not None else [t.name for t in PARTITIONED_TABLES]:
        if _covered(conn, table, wanted):
            continue
        existing = [p for p in list_partitions(conn, table) if not p.is_default]
        for day in wanted:
            if _covering(existing, day_key(day)) is None:
                first, end = _free_range(existing, day, period)
                _create_partition(conn, table, first, end)
                existing.append(Partition(table, partition_name(table, first), day_key(first), day_key(end)))
                created.append(partition_name(table, first))
    return created


def _covered(conn: sa.Connection, table: str, days: list[date]) -> bool:
    """Whether the partitions named after a period's first day of each of ``days`` cover all of them.

    The names only pick the candidates (the day itself, its ISO week's Monday, its month's first day: where
    this module starts a partition of any period); their bounds come from the catalog. A day that none of
    them covers (not created yet, or in a partition narrowed by a change of period) sends the caller to
    the full list.
    """
    names = sorted({partition_name(table, period.bounds(day)[0]) for day in days for period in Period})
    bounds = conn.execute(
        sa.text(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
            "JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = CAST(:t AS regclass) "
            "WHERE c.relname = ANY(CAST(:names AS name[]))"
        ),
        {"t": table, "names": names},
    ).scalars()
    parts = [Partition(table, "", int(m[1]), int(m[2])) for bound in bounds if (m := _BOUND_RE.search(bound))]
    return all(_covering(parts, day_key(day)) is not None for day in days)


def _covering(partitions: Iterable[Partition], key: int) -> Partition | None:
    return next((p for p in partitions if p.lower <= key < p.upper), None)  # type: ignore[operator]


def _free_range(existing: list[Partition], day: date, period: Period) -> tuple[date, date]:
    """``period``'s range around ``day``, narrowed to stay clear of the ``existing`` partitions."""
    first, end = period.bounds(day)
    key = day_key(day)
    uppers_below = [key_day(p.upper) for p in existing if p.upper <= key]  # type: ignore[operator]
    lowers_above = [key_day(p.lower) for p in existing if p.lower > key]  # type: ignore[operator]
    return max([first, *uppers_below]), min([end, *lowers_above])


def _create_partition(conn: sa.Connection, table: str, first: date, end: date) -> None:
    """Create the partition ``[first, end)``, moving rows of that range out of the default partition first.

    PostgreSQL refuses ``CREATE TABLE ... PARTITION OF`` while the default partition holds rows of the new
    range, so such rows are moved into a stand-alone table that is then attached.
    """
    name, default = partition_name(table, first), default_partition_name(table)
    lo, hi = day_key(first), day_key(end)
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
