"""DATE_TIME through DST changes (issue #21 item 9): every period key is its local period's first interval.

Each interval's 30-minute, hour, day, week, month, quarter and year key must be the ``DATE_TIME_KEY`` of the
first interval of the local period the interval is in, so it is never later than the interval's own key.
A 30-minute or hour period is a local clock period *on one UTC offset*: the night the clocks go back has
two 01:00-02:00 hours (25 hour keys), the night they go forward has 23. Day and longer periods are calendar
periods: the day key is local midnight (or, where midnight is skipped, the first instant of that date).

The expected keys are computed here from Python's ``zoneinfo``, independently of the SQL that fills the
table, and compared row by row with what PostgreSQL produced.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from gim_dagster.core.infomart.date_time import INTERVAL_SECONDS, fill_date_time
from gim_dagster.core.infomart.schema import migrate

KEYS = (
    "date_time_30min_key",
    "date_time_hour_key",
    "date_time_day_key",
    "date_time_week_key",
    "date_time_month_key",
    "date_time_quarter_key",
    "date_time_year_key",
)

# (zone, local date, intervals in that local date, distinct hour keys in it)
CASES = [
    ("America/New_York", date(2027, 11, 7), 100, 25),  # 02:00 EDT -> 01:00 EST
    ("America/New_York", date(2027, 3, 14), 92, 23),  # 02:00 EST -> 03:00 EDT
    ("Europe/London", date(2027, 10, 31), 100, 25),  # 02:00 BST -> 01:00 GMT
    ("Europe/London", date(2027, 3, 28), 92, 23),  # 01:00 GMT -> 02:00 BST
    ("America/St_Johns", date(2027, 11, 7), 100, 25),  # -02:30 -> -03:30
    ("America/St_Johns", date(2027, 3, 14), 92, 23),  # -03:30 -> -02:30
    ("Australia/Adelaide", date(2027, 4, 4), 100, 25),  # +10:30 -> +09:30
    ("Australia/Adelaide", date(2027, 10, 3), 92, 23),  # +09:30 -> +10:30
    # 30-minute shift: 02:00 +11 -> 01:30 +10:30 (a second, half 01 hour), 02:00 +10:30 -> 02:30 +11
    ("Australia/Lord_Howe", date(2027, 4, 4), 98, 25),
    ("Australia/Lord_Howe", date(2027, 10, 3), 94, 24),
    ("Asia/Kathmandu", date(2027, 6, 15), 96, 24),  # +05:45, hours start at :15 UTC
    ("Asia/Kolkata", date(2027, 6, 15), 96, 24),  # +05:30
    # transitions at midnight: Havana repeats 00:00-01:00 (midnight is ambiguous) and skips midnight
    ("America/Havana", date(2027, 11, 7), 100, 25),
    ("America/Havana", date(2027, 3, 14), 92, 23),
    # Santiago repeats 23:00-24:00 of the Saturday and skips the Sunday's midnight
    ("America/Santiago", date(2027, 4, 3), 100, 25),
    ("America/Santiago", date(2027, 9, 5), 92, 23),
]


@pytest.fixture(scope="module")
def mart(pg_server_url: str) -> Iterator[sa.Engine]:
    """One migrated Info Mart for the module; each test refills DATE_TIME in a transaction it rolls back."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    try:
        migrate(url, date_time_range=(date(2027, 1, 1), date(2027, 1, 2)))
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _period_starts(day: date) -> list[date]:
    """Local dates on which the periods containing ``day`` start (day, week, month, quarter, year)."""
    return [
        day,
        day - timedelta(days=day.weekday()),
        day.replace(day=1),
        date(day.year, 3 * ((day.month - 1) // 3) + 1, 1),
        date(day.year, 1, 1),
    ]


def _fill(engine: sa.Engine, zone: str, days: list[date]) -> list[dict[str, Any]]:
    """DATE_TIME rows filled in ``zone`` for the UTC days around ``days``, each day filled separately.

    Filling the UTC days ``[d - 1, d + 2)`` of each local date ``d`` covers that whole local date and the
    first interval of every period starting on it. The table is emptied first and restored afterwards.
    """
    with engine.connect() as conn:
        try:
            conn.execute(sa.text("DELETE FROM date_time"))
            for utc_day in sorted({d + timedelta(days=n) for d in days for n in (-1, 0, 1)}):
                fill_date_time(conn, utc_day, utc_day + timedelta(days=1), audit_key=1, time_zone=zone)
            rows = conn.execute(sa.text("SELECT * FROM date_time ORDER BY date_time_key")).mappings().all()
            return [dict(r) for r in rows]
        finally:
            conn.rollback()


def _local(key: int, zone: ZoneInfo) -> tuple[datetime, int]:
    """Local wall clock (naive) and UTC offset in seconds at the instant ``key``."""
    wall = datetime.fromtimestamp(key, UTC).astimezone(zone)
    offset = wall.utcoffset()
    assert offset is not None
    return wall.replace(tzinfo=None), int(offset.total_seconds())


def _periods(wall: datetime, offset: int) -> dict[str, Any]:
    """The local period of each key column: clock periods on one offset, calendar periods for day+."""
    d = wall.date()
    return {
        "date_time_30min_key": (d, wall.hour, wall.minute // 30, offset),
        "date_time_hour_key": (d, wall.hour, offset),
        "date_time_day_key": d,
        "date_time_week_key": d - timedelta(days=d.weekday()),
        "date_time_month_key": (d.year, d.month),
        "date_time_quarter_key": (d.year, (d.month - 1) // 3),
        "date_time_year_key": d.year,
    }


def _check(zone_name: str, day: date, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assert the keys and labels of the rows of local date ``day``; return those rows."""
    zone = ZoneInfo(zone_name)
    first: dict[tuple[str, Any], int] = {}  # (key column, local period) -> first interval in it
    local: dict[int, tuple[datetime, int, dict[str, Any]]] = {}
    for row in rows:
        k = row["date_time_key"]
        wall, offset = _local(k, zone)
        periods = _periods(wall, offset)
        local[k] = (wall, offset, periods)
        for col, period in periods.items():
            first.setdefault((col, period), k)
    days_rows = [r for r in rows if local[r["date_time_key"]][0].date() == day]
    assert days_rows, f"no rows of {day} in {zone_name}"
    wrong: dict[str, list[str]] = {}  # key column -> "local time (offset): key - own key, expected - own key"
    for row in days_rows:
        k = row["date_time_key"]
        wall, offset, periods = local[k]
        assert row["date_time_tz"] == zone_name
        assert row["date_time_tz_offset"] == offset, k
        assert row["cal_date"] == day and row["cal_hour_24_num_in_day"] == wall.hour, k
        assert row["cal_minute_num_in_hour"] == wall.minute, k
        for col in KEYS:
            expected = first[(col, periods[col])]
            assert expected <= k
            if row[col] != expected:
                wrong.setdefault(col, []).append(
                    f"{wall:%H:%M} ({offset:+d}): {row[col] - k:+d}s, expected {expected - k:+d}s"
                )
        end15 = wall + timedelta(minutes=15)
        assert row["label_15_min"] == f"{wall:%H:%M}-{end15:%H:%M}", k
        h30 = wall.replace(minute=wall.minute - wall.minute % 30)
        assert row["label_30_min"] == f"{h30:%H:%M}-{h30 + timedelta(minutes=30):%H:%M}", k
        assert row["label_60_min"] == f"{wall.hour:02d}:00-{(wall.hour + 1) % 24:02d}:00", k
        assert row["label_hh24"] == f"{wall.hour:02d}" and row["label_yyyy_mm_dd"] == f"{day:%Y-%m-%d}", k
    assert not wrong, wrong
    assert all(row[col] <= row["date_time_key"] for row in days_rows for col in KEYS)
    # every row of one hour (30 minutes) carries the same label
    for col, label in [("date_time_hour_key", "label_60_min"), ("date_time_30min_key", "label_30_min")]:
        labels: dict[int, set[str]] = {}
        for row in days_rows:
            labels.setdefault(row[col], set()).add(row[label])
        assert all(len(v) == 1 for v in labels.values()), (col, labels)
    return days_rows


@pytest.mark.parametrize(("zone", "day", "intervals", "hours"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_period_keys_are_first_interval_of_own_local_period(
    mart: sa.Engine, zone: str, day: date, intervals: int, hours: int
) -> None:
    rows = _fill(mart, zone, _period_starts(day))
    days_rows = _check(zone, day, rows)
    assert len(days_rows) == intervals
    assert len({r["date_time_hour_key"] for r in days_rows}) == hours
    assert len({r["date_time_day_key"] for r in days_rows}) == 1
    # the day key is the first interval of the local date: local midnight, or the first instant after a
    # skipped midnight
    day_key = days_rows[0]["date_time_day_key"]
    assert day_key == days_rows[0]["date_time_key"]
    midnight = datetime(day.year, day.month, day.day)
    wall, _ = _local(day_key, ZoneInfo(zone))
    skipped = {("America/Havana", date(2027, 3, 14)), ("America/Santiago", date(2027, 9, 5))}
    assert wall == (midnight + timedelta(hours=1) if (zone, day) in skipped else midnight)


def test_new_york_fall_back_has_two_one_oclock_hours(mart: sa.Engine) -> None:
    day = date(2027, 11, 7)
    days_rows = _check("America/New_York", day, _fill(mart, "America/New_York", _period_starts(day)))
    utc = datetime(2027, 11, 7, tzinfo=UTC).timestamp()
    edt_one, est_one = int(utc + 5 * 3600), int(utc + 6 * 3600)  # 01:00 EDT = 05:00Z, 01:00 EST = 06:00Z
    one = [r for r in days_rows if r["label_60_min"] == "01:00-02:00"]
    assert [(r["date_time_key"] - edt_one, r["date_time_hour_key"]) for r in one] == [
        (n * INTERVAL_SECONDS, edt_one if n < 4 else est_one) for n in range(8)
    ]
    assert len(days_rows) == 100 and len({r["date_time_hour_key"] for r in days_rows}) == 25
    assert {r["date_time_day_key"] for r in days_rows} == {int(utc + 4 * 3600)}  # 00:00 EDT


def test_new_york_spring_forward_has_23_hours(mart: sa.Engine) -> None:
    day = date(2027, 3, 14)
    days_rows = _check("America/New_York", day, _fill(mart, "America/New_York", _period_starts(day)))
    assert len(days_rows) == 92 and len({r["date_time_hour_key"] for r in days_rows}) == 23
    assert "02:00-03:00" not in {r["label_60_min"] for r in days_rows}
    utc = datetime(2027, 3, 14, tzinfo=UTC).timestamp()
    assert {r["date_time_day_key"] for r in days_rows} == {int(utc + 5 * 3600)}  # 00:00 EST
