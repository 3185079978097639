"""Partition periods: day, ISO week, month; a change of period never overlaps or moves existing partitions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from gim_dagster.core.infomart import partitions
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.maintenance import maintain
from gim_dagster.core.infomart.partitions import (
    Partition,
    Period,
    day_key,
    ensure_partitions,
    key_day,
    list_partitions,
)

from .conftest import TODAY, end_offsets, irf_row, records

IRF = "interaction_resource_fact"


@pytest.mark.parametrize(
    ("period", "day", "bounds"),
    [
        (Period.DAY, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 1))),
        (Period.WEEK, date(2026, 11, 23), (date(2026, 11, 23), date(2026, 11, 30))),  # a Monday
        (Period.WEEK, date(2027, 1, 3), (date(2026, 12, 28), date(2027, 1, 4))),  # Sunday, across years
        (Period.MONTH, date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        (Period.MONTH, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
    ],
)
def test_period_bounds(period: Period, day: date, bounds: tuple[date, date]) -> None:
    assert period.bounds(day) == bounds


def _ranges(engine: sa.Engine, table: str = IRF) -> list[tuple[date, date]]:
    with engine.connect() as conn:
        parts = [p for p in list_partitions(conn, table) if not p.is_default]
    return [(key_day(p.lower), key_day(p.upper)) for p in parts]  # type: ignore[arg-type]


def test_monthly_partitions_and_a_switch_to_weekly_fills_only_the_gaps(engine: sa.Engine) -> None:
    far = date(2030, 1, 15)  # clear of the partitions the migration made
    with engine.begin() as conn:
        ensure_partitions(conn, [far, far + timedelta(days=3)], [IRF], Period.MONTH)
    assert [r for r in _ranges(engine) if r[0].year == 2030] == [(date(2030, 1, 1), date(2030, 2, 1))]

    with engine.begin() as conn:  # weekly from now on: the week of 2030-02-01 is clipped by January's
        created = ensure_partitions(
            conn, [date(2030, 1, 31), date(2030, 2, 1), date(2030, 2, 5)], [IRF], Period.WEEK
        )
    assert [r for r in _ranges(engine) if r[0].year == 2030] == [
        (date(2030, 1, 1), date(2030, 2, 1)),
        (date(2030, 2, 1), date(2030, 2, 4)),
        (date(2030, 2, 4), date(2030, 2, 11)),
    ]
    assert created == [f"{IRF}_p20300201", f"{IRF}_p20300204"]


def test_weekly_loads_route_rows_and_purge_deletes_only_before_the_cutoff(engine: sa.Engine) -> None:
    days = [TODAY - timedelta(days=d) for d in range(20)]
    rows = [irf_row(n * 10 + i, day) for n, day in enumerate(days) for i in range(3)]
    recs = records(rows)
    load_batch(engine, recs, job_name="l", topic_offsets=end_offsets(recs), partition_period=Period.WEEK)
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {IRF}_default")).scalar_one() == 0
    ranges = _ranges(engine)
    for first, end in ranges:  # no overlap, each a week or less (the migration made daily ones for today)
        assert first < end <= first + timedelta(days=7)
    assert sorted(set(ranges)) == ranges

    retention = 10
    result = maintain(engine, retention_days=retention, partition_period=Period.WEEK, today=TODAY)
    cutoff = day_key(TODAY - timedelta(days=retention))
    with engine.connect() as conn:
        kept = conn.execute(sa.text(f"SELECT start_date_time_key FROM {IRF}")).scalars().all()
    assert min(kept) >= cutoff
    assert len(kept) == 3 * (retention + 1)
    assert result.purged_rows == 3 * (20 - retention - 1)
    straddling = [r for r in ranges if day_key(r[0]) < cutoff < day_key(r[1])]
    assert result.deleted_rows[IRF] == sum(3 * (key_day(cutoff) - r[0]).days for r in straddling)

    again = maintain(engine, retention_days=retention, partition_period=Period.WEEK, today=TODAY)
    assert again.purged_rows == 0 and again.partitions_created == []


def test_covered_days_are_checked_without_listing_the_history(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader's per-batch check looks up a few partitions by name, bounds from the catalog."""
    week, month, odd = date(2031, 3, 12), date(2031, 6, 20), date(2032, 1, 1)
    lo, hi = day_key(odd), day_key(odd + timedelta(days=1))
    with engine.begin() as conn:
        ensure_partitions(conn, [week], [IRF], Period.WEEK)
        ensure_partitions(conn, [month], [IRF], Period.MONTH)
        # a partition under a name of nobody's making: found by the full list, never created twice
        conn.execute(sa.text(f"CREATE TABLE {IRF}_odd PARTITION OF {IRF} FOR VALUES FROM ({lo}) TO ({hi})"))

    def listing(conn: sa.Connection, table: str) -> list[Partition]:
        raise AssertionError("listed every partition")

    with engine.begin() as conn:
        with monkeypatch.context() as patched:
            patched.setattr(partitions, "list_partitions", listing)
            assert ensure_partitions(conn, [week, week + timedelta(days=3), month], [IRF]) == []
        assert ensure_partitions(conn, [odd], [IRF]) == []
        assert ensure_partitions(conn, [week + timedelta(days=7)], [IRF]) == [f"{IRF}_p20310319"]
