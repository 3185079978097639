"""A day's load and export read that day's partitions only, however long the Info Mart's history."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from gim_dagster.core.export.contract import Mark
from gim_dagster.core.export.writer import Source, relation_columns, window_span
from gim_dagster.core.infomart import loader
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.partitions import partition_name

from .conftest import TODAY, irf_row, records

IRF = "interaction_resource_fact"
DAYS = 6


def _load(engine: sa.Engine, rows: list[dict[str, Any]], offset: int) -> int:
    """Load ``rows`` as one audit key (they lie within a day); return the key."""
    recs = records(rows, start_offset=offset)
    result = load_batch(
        engine,
        recs,
        job_name="l",
        topic_offsets={(recs[0].topic, 0): offset + len(recs)},
        span_seconds=86_400,
    )
    assert len(result.audit_keys) == 1
    return result.audit_keys[0]


def _scanned(
    conn: sa.Connection, sql: str, params: dict[str, Any] | None = None, planned: bool = False
) -> set[str]:
    """The relations an EXPLAIN ANALYZE of ``sql`` scanned (or, ``planned``, has a scan of in its plan)."""
    plan = conn.execute(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"), params or {}).scalar_one()
    found: set[str] = set()
    stack = [(plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node["Node Type"].endswith("Scan") and (planned or node.get("Actual Loops", 0) > 0):
            found.add(node["Relation Name"])
        stack += node.get("Plans", [])
    return found


def test_an_update_of_one_days_rows_visits_only_that_days_partition(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = [TODAY - timedelta(days=DAYS - 1 - d) for d in range(DAYS)]
    for d in range(DAYS):
        _load(engine, [irf_row(d * 100 + i, day[d]) for i in range(5)], d * 5)
    issued: list[str] = []

    def update_sql(*args: Any) -> str:
        issued.append(real(*args))
        return issued[-1]

    real = loader.update_sql
    monkeypatch.setattr(loader, "update_sql", update_sql)
    recs = records([irf_row(200 + i, day[2], talk_duration=999) for i in range(2)], start_offset=DAYS * 5)
    with engine.connect() as conn, conn.begin():  # one transaction: the staging table is still there
        result = load_batch(conn, recs, job_name="l", topic_offsets={(recs[0].topic, 0): DAYS * 5 + 2})
        assert result.updated == 2
        scanned = _scanned(conn, issued[-1], {"ak": result.audit_keys[0]})
    assert {name for name in scanned if name.startswith(IRF)} == {partition_name(IRF, day[2])}


def test_export_select_of_one_key_probes_only_the_partitions_it_wrote(engine: sa.Engine) -> None:
    day = [TODAY - timedelta(days=DAYS - 1 - d) for d in range(DAYS)]
    keys = [_load(engine, [irf_row(d * 100 + i, day[d]) for i in range(5)], d * 5) for d in range(DAYS)]
    # a later key changes two rows of day 2: they keep create = keys[2] and get update = changed
    changed = _load(engine, [irf_row(200 + i, day[2], talk_duration=999) for i in range(2)], DAYS * 5)

    with engine.connect() as conn:
        source = Source(IRF, IRF, relation_columns(conn, IRF))
        for window, day_read in [
            ((keys[2] - 1, keys[2]), day[2]),  # created in the window, two of them updated after it
            ((keys[DAYS - 1], changed), day[2]),  # updated in the window
            ((keys[3], keys[4]), day[4]),
        ]:
            marks = (Mark(window[0], 0), Mark(window[1], 0))
            sql = source.select(marks)
            assert _scanned(conn, sql) - {"ctl_audit_log"} == {partition_name(IRF, day_read)}, window
            # with the span read first (as the export does) the other days are not even planned
            constant = source.select(marks, window_span(conn, marks))
            assert _scanned(conn, constant, planned=True) == {partition_name(IRF, day_read)}, window
            ids = sorted(r[0] for r in conn.execute(sa.text(sql)))
            assert ids == sorted(r[0] for r in conn.execute(sa.text(constant))), window
            everything = sql.split(" AND start_date_time_key >=")[0]  # the same rows without the bound
            assert ids == sorted(r[0] for r in conn.execute(sa.text(everything))), window
            assert ids == (
                [200, 201] if window[1] == changed else [day.index(day_read) * 100 + i for i in range(5)]
            )
