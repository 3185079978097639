"""DATE_TIME: one row per 15-minute interval, filled set-based inside PostgreSQL.

``DATE_TIME_KEY`` is the interval start in UTC seconds. CAL_* and LABEL_* attributes (and the day, week,
month ... keys) are in the tenant's time zone (``DATE_TIME_TZ``, UTC by default); UTC_* attributes are in
UTC. The time zone is fixed when the table is first filled; later extensions reuse it.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from gim_dagster.core.infomart.partitions import day_key

INTERVAL_SECONDS = 900
DEFAULT_TIME_ZONE = "UTC"

_LOCAL_KEY = "extract(epoch FROM (date_trunc('{unit}', lt) AT TIME ZONE :tz))::integer"
_FILL_SQL = f"""
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
    k - (extract(minute FROM lt)::integer % 30) * 60,
    {_LOCAL_KEY.format(unit="hour")},
    {_LOCAL_KEY.format(unit="day")},
    {_LOCAL_KEY.format(unit="week")},
    {_LOCAL_KEY.format(unit="month")},
    {_LOCAL_KEY.format(unit="quarter")},
    {_LOCAL_KEY.format(unit="year")},
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
FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer) - {INTERVAL_SECONDS}, {INTERVAL_SECONDS}) AS k
CROSS JOIN LATERAL (SELECT to_timestamp(k) AT TIME ZONE :tz AS lt, to_timestamp(k) AT TIME ZONE 'UTC' AS ut) t
CROSS JOIN LATERAL (SELECT lt - (extract(minute FROM lt)::integer % 30) * interval '1 minute' AS h30) h
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
