"""Re-export by data day (today included) and restart from a data date into a destination named at run time,
on a real Info Mart loaded the production way: one audit key per hour of data time, late updates in keys of
their own."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gim_dagster.core.export.contract import ORIGIN, is_reexport
from gim_dagster.core.export.importer import check_day_rule, import_exports, open_source, verify_folder
from gim_dagster.core.export.plan import DAY_SECONDS, day_start, read_state
from gim_dagster.core.export.publish import LocalDestination, S3Destination, destination_at
from gim_dagster.core.export.stream import export_stream, reexport_day, restart_into, stream_for
from gim_dagster.core.export.target_schema import target_schema_sql
from gim_dagster.core.infomart.tables import EXPORTED_TABLES

from .conftest import TODAY, WEEK_START, Mart, irf, ixn, run_script, table_rows, ts_of

HOUR = 3600
FACTS = [t.name for t in EXPORTED_TABLES if t.name.endswith("_fact")]


def _load_hours(mart: Mart, day: date, hours: range, late: bool = True) -> list[int]:
    """Six-hour loads of ``day`` as the loader cuts them (hour spans); each also closes three facts of two
    days before (late updates), which land in audit keys of that earlier day."""
    keys = []
    for chunk in range(hours.start, hours.stop, 6):
        start = ts_of(day, chunk * HOUR)
        ids = [next(mart.next_id) for _ in range(12)]
        tables: dict[str, list[dict[str, Any]]] = {
            "interaction_resource_fact": [irf(i, start + n * 1700) for n, i in enumerate(ids)],
            "interaction_fact": [ixn(i, start + n * 3400) for n, i in enumerate(ids[::2])],
        }
        if late and day - timedelta(days=2) >= WEEK_START:
            old = ts_of(day - timedelta(days=2), chunk * HOUR)
            first = ids[0] - 2 * 4 * 12
            tables["interaction_resource_fact"] += [
                irf(i, old + n * 1700, talk_duration=99, active_flag=0)
                for n, i in enumerate(range(first, first + 3))
            ]
        keys += mart.load_spans(tables, HOUR)
        mart.date_audit(keys[0], keys[-1], start + 6 * HOUR + 600)
    return keys


def _data_times(engine: sa.Engine, table: str, lo: int, hi: int) -> list[int]:
    """Data time (the later of start and end) of the rows whose last change is in ``(lo, hi]``."""
    sql = (
        f"SELECT GREATEST(start_ts, COALESCE(end_ts, start_ts)) FROM {table} "
        "WHERE update_audit_key > :lo AND update_audit_key <= :hi"
    )
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), {"lo": lo, "hi": hi}).scalars())


def _folders_of(root: Path) -> list[Any]:
    source = open_source(str(root), root)
    return [verify_folder(source, name) for name in source.folders()]


def test_reexport_of_past_days_and_of_today_holds_each_day_only(mart: Mart, local: LocalDestination) -> None:
    for d in range(4):
        _load_hours(mart, WEEK_START + timedelta(days=d), range(0, 24))
    _load_hours(mart, TODAY, range(0, 6), late=False)
    stream = export_stream(mart.engine, [local], max_folders=20)
    with mart.engine.connect() as conn:
        hwm = read_state(conn)
    assert hwm is not None and stream[-1].hwm_to == hwm.mark

    reexports = LocalDestination(local.root)
    days = [WEEK_START + timedelta(days=d) for d in range(4)] + [TODAY]
    per_day = {day: reexport_day(mart.engine, [reexports], day) for day in days}
    for day, folders in per_day.items():
        assert folders, day
        lo = day_start(day)
        for folder in folders:
            assert folder.name.startswith(f"reexport_{day:%Y_%m_%d}_")
            for table in FACTS:
                times = _data_times(mart.engine, table, folder.hwm_from.audit_key, folder.hwm_to.audit_key)
                assert all(lo <= t < lo + DAY_SECONDS for t in times), (folder.name, table)
    # Late updates of day 0 were loaded with day 2, in keys of their own between day 2's: day 0 takes a
    # folder per run of its keys.
    assert len(per_day[WEEK_START]) > 1
    with mart.engine.connect() as conn:
        assert read_state(conn) == hwm, "a re-export does not move the stream's HWM"
        data_keys = conn.execute(
            sa.text("SELECT audit_key FROM ctl_audit_log WHERE max_chunk_ts IS NOT NULL")
        ).scalars()
        covered = {
            k
            for fs in per_day.values()
            for f in fs
            for k in range(f.hwm_from.audit_key + 1, f.hwm_to.audit_key + 1)
        }
        assert set(data_keys) <= covered, "every key with data is in its day's re-export"

    checked = _folders_of(local.root)
    names = [f.name for f in checked]
    assert names == sorted(names) and all(is_reexport(n) for n in names[len(stream) :])
    assert check_day_rule(checked, after=None) == []

    # A day with nothing exported yet (ahead of the HWM) re-exports nothing; the stream's next day too.
    _load_hours(mart, TODAY, range(6, 12), late=False)
    assert [f.hwm_to.audit_key <= hwm.mark.audit_key for f in reexport_day(mart.engine, [reexports], TODAY)]
    assert reexport_day(mart.engine, [reexports], TODAY + timedelta(days=1)) == []


def test_a_receiving_side_flags_folders_holding_more_than_a_day(mart: Mart, local: LocalDestination) -> None:
    """Keys that carry several days (loads before the hour spans, or one load as one key) break the rule."""
    starts = [ts_of(WEEK_START, 0) + n * 3600 for n in range(3 * 24)]
    mart.load({"interaction_resource_fact": [irf(next(mart.next_id), t) for t in starts]})
    mart.load_day(WEEK_START + timedelta(days=4))  # one key per six hours, with late updates of day 2
    export_stream(mart.engine, [local], max_folders=5)
    reexport_day(mart.engine, [local], WEEK_START + timedelta(days=4))
    problems = check_day_rule(_folders_of(local.root), after=None)
    assert "h after the earliest data it holds (at most 24 h)" in problems[0]
    assert any(f"holds data outside {WEEK_START + timedelta(days=4)}" in p for p in problems)


def test_restart_from_a_data_date_into_a_new_destination_imports_those_dates(
    mart: Mart, local: LocalDestination, target: sa.Engine, tmp_path: Path
) -> None:
    for d in range(5):
        _load_hours(mart, WEEK_START + timedelta(days=d), range(0, 24))
    main = export_stream(mart.engine, [local], max_folders=20)
    with mart.engine.connect() as conn:
        hwm = read_state(conn)

    since = WEEK_START + timedelta(days=2)
    elsewhere = LocalDestination(tmp_path / "restarted")
    restarted = restart_into(mart.engine, elsewhere, since.isoformat(), max_folders=20)
    assert restarted and restarted[0].hwm_from != ORIGIN
    with mart.engine.connect() as conn:
        assert read_state(conn) == hwm, "the tenant's stream does not move"
        own = read_state(conn, stream_for(elsewhere))
    assert own is not None and own.mark == restarted[-1].hwm_to == main[-1].hwm_to
    assert restart_into(mart.engine, elsewhere, None) == [], "caught up: continuing exports nothing"
    with pytest.raises(ValueError, match=r"already holds .* a restarted stream goes to an empty destination"):
        restart_into(mart.engine, elsewhere, "beginning")

    run_script(target, target_schema_sql())
    result = import_exports(open_source(str(elsewhere.root), elsewhere.root), target)
    assert result.day_rule == [] and len(result.applied) == len(restarted) >= 3
    cut = day_start(since)
    for table in ("interaction_fact", "interaction_resource_fact"):
        mine = [r for r in table_rows(mart.engine, table) if _is_since(mart.engine, table, r, cut)]
        theirs = [r for r in table_rows(target, table) if _is_since(target, table, r, cut)]
        assert mine and theirs == mine, table


def _is_since(engine: sa.Engine, table: str, row: tuple[Any, ...], cut: int) -> bool:
    columns = [c.name for c in next(t for t in EXPORTED_TABLES if t.name == table).columns]
    start = row[columns.index("start_ts")]
    end = row[columns.index("end_ts")] if "end_ts" in columns else None
    return max(start, end or start) >= cut


def test_run_time_destinations_are_checked(s3_dest: S3Destination, tmp_path: Path) -> None:
    assert destination_at(str(tmp_path / "x"), None) == LocalDestination(tmp_path / "x")
    s3 = destination_at(f"s3://{s3_dest.bucket}/some/prefix/", s3_dest.client)
    assert isinstance(s3, S3Destination) and s3.location == f"s3://{s3_dest.bucket}/some/prefix"
    assert s3.folders() == []
    for bad in ("s3://bucket-only", "s3:///p", "https://host/p", " "):
        with pytest.raises(ValueError, match="destination"):
            destination_at(bad, None)
