"""Integrity checks of an Info Mart, as SQL over the model in ``tables.py`` (no table list kept here).

* referential integrity: every fact ``*_key`` column that names a dimension's single-column primary key,
  the ``*_date_time_key`` columns (``DATE_TIME``) and the audit keys (``CTL_AUDIT_LOG``) point at a row;
* audit keys: no fact row without both audit keys;
* validity in time: every fact's dimension row (a version of a configuration object) was valid when the fact
  started, so a time-valid join (``fact.start_ts >= dim.start_ts AND (dim.end_ts IS NULL OR fact.start_ts <
  dim.end_ts)``) keeps every fact;
* offsets: successive loads cover contiguous offset ranges (from run metadata: ``offsets_contiguous``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from gim_dagster.core.infomart.tables import EXPORTED_TABLES, primary_key

AUDIT_TABLE, AUDIT_KEY = "ctl_audit_log", "audit_key"
DATE_TIME_TABLE, DATE_TIME_KEY = "date_time", "date_time_key"
FACT_KINDS = ("fact", "config_fact")


@dataclass(frozen=True)
class Reference:
    table: str
    column: str
    target: str
    target_column: str


def references() -> list[Reference]:
    """The key columns of the fact tables and what they must point at."""
    dimensions = {
        primary_key(t)[0]: t.name
        for t in EXPORTED_TABLES
        if t.info["kind"] in ("dimension", "static_dimension") and len(primary_key(t)) == 1
    }
    dimensions.pop(DATE_TIME_KEY, None)
    result = []
    for fact in (t for t in EXPORTED_TABLES if t.info["kind"] in FACT_KINDS):
        for column in fact.columns:
            name = column.name
            if name in dimensions:
                result.append(Reference(fact.name, name, dimensions[name], name))
            elif name.endswith("date_time_key"):
                result.append(Reference(fact.name, name, DATE_TIME_TABLE, DATE_TIME_KEY))
            elif name in ("create_audit_key", "update_audit_key"):
                result.append(Reference(fact.name, name, AUDIT_TABLE, AUDIT_KEY))
    return result


def orphan_counts(conn: sa.Connection) -> dict[str, int]:
    """``table.column -> rows whose non-null key points at no row``, for the references that have any."""
    counts = {}
    for ref in references():
        sql = (
            f"SELECT count(*) FROM {ref.table} f WHERE f.{ref.column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {ref.target} d WHERE d.{ref.target_column} = f.{ref.column})"
        )
        orphans = conn.execute(sa.text(sql)).scalar_one()
        if orphans:
            counts[f"{ref.table}.{ref.column}"] = int(orphans)
    return counts


def facts_outside_validity(conn: sa.Connection) -> dict[str, int]:
    """``table.column -> facts that started outside the validity of the dimension row they point at``, for
    the references into time-valid dimensions (those with START_TS and END_TS; static rows have none)."""
    timed = {t.name for t in EXPORTED_TABLES if {"start_ts", "end_ts"} <= set(t.columns.keys())}
    facts = {t.name for t in EXPORTED_TABLES if t.info["kind"] == "fact" and "start_ts" in t.columns}
    counts = {}
    for ref in references():
        if ref.target not in timed or ref.table not in facts:
            continue
        join = f"JOIN {ref.target} d ON d.{ref.target_column} = f.{ref.column}"
        sql = (
            f"SELECT count(*) FROM {ref.table} f {join} "
            "WHERE d.start_ts IS NOT NULL AND (f.start_ts < d.start_ts OR f.start_ts >= d.end_ts)"
        )
        outside = conn.execute(sa.text(sql)).scalar_one()
        if outside:
            counts[f"{ref.table}.{ref.column}"] = int(outside)
    return counts


def rows_without_audit_key(conn: sa.Connection) -> dict[str, int]:
    """``table -> rows missing an audit key`` for the exported tables that have any."""
    counts = {}
    for tbl in EXPORTED_TABLES:
        sql = f"SELECT count(*) FROM {tbl.name} WHERE create_audit_key IS NULL OR update_audit_key IS NULL"
        missing = conn.execute(sa.text(sql)).scalar_one()
        if missing:
            counts[tbl.name] = int(missing)
    return counts


def offset_gaps(loads: Sequence[tuple[Mapping[str, int], Mapping[str, int]]]) -> list[str]:
    """Gaps between successive loads, given ``(offsets_from, offsets_to)`` oldest first.

    A load must start every partition where the previous one ended (or at 0 for a partition seen first).
    """
    gaps = []
    previous_end: dict[str, int] = {}
    for n, (start, end) in enumerate(loads):
        for tp, offset in start.items():
            expected = previous_end.get(tp, offset if n == 0 else 0)
            if offset != expected:
                gaps.append(f"load {n}: {tp} starts at {offset}, previous load ended at {expected}")
        previous_end.update(end)
    return gaps
