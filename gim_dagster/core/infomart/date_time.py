"""DATE_TIME: one row per 15-minute interval, filled set-based inside PostgreSQL.

``DATE_TIME_KEY`` is the interval start in UTC seconds. CAL_* and LABEL_* attributes (and the day, week,
month ... keys) are in the tenant's time zone (``DATE_TIME_TZ``, UTC by default); UTC_* attributes are in
UTC. The time zone is fixed when the table is first filled; later extensions reuse it.

Every period key is the ``DATE_TIME_KEY`` of the first interval of the local period the interval is in, so
it is never later than the interval's own key, also on the days the clocks change:

* a 30-minute or hour period is a local clock period on one UTC offset. The night the clocks go back has
  two 01:00-02:00 hours (25 hour keys), each keyed by its own first interval; the night they go forward
  has 23. An hour entered by a clock change (Lord Howe's 30-minute shift: 02:00 -> 01:30) starts at the
  change.
* a day, week, month, quarter or year is a calendar period: its key is the first instant the local clock
  shows that date -- local midnight, the earlier one if midnight is repeated, the clock change if it is
  skipped.

``date_trunc(unit, local) AT TIME ZONE tz`` alone is wrong there: PostgreSQL resolves an ambiguous local
time to the later instant. Each key is computed from the row's own instant (never from neighbouring
rows), so filling the table in pieces gives the same keys as filling it at once.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from gim_dagster.core.infomart.partitions import day_key

INTERVAL_SECONDS = 900
DEFAULT_TIME_ZONE = "UTC"

_WALL = "(to_timestamp({t}) AT TIME ZONE :tz)"  # the local wall clock at the UTC second t
# The first interval of the clock period (30 minutes, hour) of row k whose local clock lt is e seconds into
# it: k - e if the UTC offset then was k's (an instant c is on k's offset iff its wall clock is k - c
# before lt); otherwise the clocks changed within the period and it began on k's offset with the change.
_CLOCK_KEY = f"""CASE WHEN {_WALL.format(t="k - {e}")} = lt - {{e}} * interval '1 second' THEN k - {{e}}
        ELSE (SELECT min(c) FROM generate_series(k - {{e}} + {INTERVAL_SECONDS}, k, {INTERVAL_SECONDS}) AS c
              WHERE {_WALL.format(t="c")} = lt - (k - c) * interval '1 second') END"""
_CALENDAR_UNITS = ("day", "week", "month", "quarter", "year")
_FILL_SQL = f"""
WITH t AS (
    SELECT k, lt, ut, h30, extract(epoch FROM lt - h30)::integer AS e30,
        extract(epoch FROM lt - date_trunc('hour', lt))::integer AS e60
    FROM generate_series(
        CAST(:lo AS integer), CAST(:hi AS integer) - {INTERVAL_SECONDS}, {INTERVAL_SECONDS}) AS k
    CROSS JOIN LATERAL (
        SELECT to_timestamp(k) AT TIME ZONE :tz AS lt, to_timestamp(k) AT TIME ZONE 'UTC' AS ut) z
    CROSS JOIN LATERAL (SELECT lt - (extract(minute FROM lt)::integer % 30) * interval '1 minute' AS h30) h
), starts AS (
    SELECT DISTINCT date_trunc(unit, lt) AS s
    FROM t CROSS JOIN unnest(ARRAY{list(_CALENDAR_UNITS)}) AS unit
), firsts AS (
    -- The first interval of a calendar period: the first instant its local start s is reached. p is s on
    -- the offset PostgreSQL picks (the later instant of a repeated local time); with no clock change in
    -- the 3 hours before p that is the only instant, otherwise the first interval there at or after s.
    SELECT s, CASE WHEN {_WALL.format(t="p - 10800")} = {_WALL.format(t="p")} - interval '3 hours' THEN p
        ELSE (SELECT min(c) FROM generate_series(p - 10800, p, {INTERVAL_SECONDS}) AS c
              WHERE {_WALL.format(t="c")} >= s) END AS key
    FROM starts CROSS JOIN LATERAL (SELECT extract(epoch FROM s AT TIME ZONE :tz)::integer AS p) z
)
INSERT INTO date_time (
    date_time_key, date_time_30min_key, date_time_hour_key, date_time_day_key, date_time_week_key,
    date_time_month_key, date_time_quarter_key, date_time_year_key, date_time_tz, date_time_tz_offset,
    cal_date, cal_year_num, cal_quarter_num_in_year, cal_month_num_in_year, cal_week_num_in_year,
    cal_day_num_in_week, cal_day_num_in_month, cal_day_num_in_year, cal_day_name, cal_month_name,
    cal_hour_24_num_in_day, cal_minute_num_in_hour, label_yyyy, label_yyyy_mm, label_yyyy_mm_dd, label_hh24,
    label_15_min, label_30_min, label_60_min, utc_date, utc_year_num, utc_month_num_in_year,
    utc_day_num_in_month, utc_hour_24_num_in_day, utc_minute_num_in_hour, create_audit_key, update_audit_key)
SELECT
    k,
    {_CLOCK_KEY.format(e="e30")},
    {_CLOCK_KEY.format(e="e60")},
    {", ".join(f"f_{u}.key" for u in _CALENDAR_UNITS)},
    :tz,
    extract(epoch FROM (lt - ut))::integer,
    lt::date, extract(year FROM lt), extract(quarter FROM lt), extract(month FROM lt), extract(week FROM lt),
    extract(isodow FROM lt), extract(day FROM lt), extract(doy FROM lt),
    to_char(lt, 'FMDay'), to_char(lt, 'FMMonth'), extract(hour FROM lt), extract(minute FROM lt),
    to_char(lt, 'YYYY'), to_char(lt, 'YYYY-MM'), to_char(lt, 'YYYY-MM-DD'), to_char(lt, 'HH24'),
    to_char(lt, 'HH24:MI') || '-' || to_char(lt + interval '15 minutes', 'HH24:MI'),
    to_char(h30, 'HH24:MI') || '-' || to_char(h30 + interval '30 minutes', 'HH24:MI'),
    to_char(date_trunc('hour', lt), 'HH24:MI') || '-'
        || to_char(date_trunc('hour', lt) + interval '1 hour', 'HH24:MI'),
    ut::date, extract(year FROM ut), extract(month FROM ut), extract(day FROM ut), extract(hour FROM ut),
    extract(minute FROM ut),
    :audit_key, :audit_key
FROM t
{chr(10).join(f"JOIN firsts AS f_{u} ON f_{u}.s = date_trunc('{u}', lt)" for u in _CALENDAR_UNITS)}
ON CONFLICT (date_time_key) DO NOTHING
"""


def table_time_zone(conn: sa.Connection) -> str | None:
    """The time zone DATE_TIME was filled with, or None while it is empty."""
    return conn.execute(sa.text("SELECT date_time_tz FROM date_time ORDER BY date_time_key LIMIT 1")).scalar()


def missing_intervals(conn: sa.Connection, first: date, end: date) -> int:
    """How many 15-minute rows of the UTC days ``[first, end)`` are missing."""
    lo, hi = day_key(first), day_key(end)
    have = conn.execute(
        sa.text("SELECT count(*) FROM date_time WHERE date_time_key >= :lo AND date_time_key < :hi"),
        {"lo": lo, "hi": hi},
    ).scalar_one()
    return max(0, (hi - lo) // INTERVAL_SECONDS - have)


def fill_date_time(
    conn: sa.Connection, first: date, end: date, *, audit_key: int, time_zone: str | None = None
) -> int:
    """Insert the missing rows of the UTC days ``[first, end)``; return how many were inserted.

    ``time_zone`` applies only to an empty table; once filled, the table's own zone is used (mixing zones
    would make the day keys inconsistent).
    """
    if end <= first:
        return 0
    tz = table_time_zone(conn) or time_zone or DEFAULT_TIME_ZONE
    result = conn.execute(
        sa.text(_FILL_SQL), {"lo": day_key(first), "hi": day_key(end), "tz": tz, "audit_key": audit_key}
    )
    return result.rowcount
