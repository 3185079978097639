"""Aggregates after the Genesys RAA model (SUBHR, HOUR, DAY, MONTH): the interval-based agent tables
AGT_I_AGENT_*, AGT_I_SESS_STATE_*, AGT_I_STATE_RSN_* and the disposition-based queue tables AGT_QUEUE_*,
AGT_QUEUE_ABN_*, AGT_QUEUE_ACC_AGENT_*.

Interval-based means time-sliced: a fact's time is split across the 15-minute intervals it spans, each
interval getting the seconds that fall into it; a count goes to the interval in which the counted thing
started. Disposition-based means everything about one queue stay (its wait, its outcome, the handling it was
distributed to) goes to the interval in which the interaction entered the queue. SUBHR rows are computed from
the facts; HOUR and DAY rows are the sums of their SUBHR rows and MONTH rows of their DAY rows, keyed by
DATE_TIME's ``date_time_hour_key``, ``date_time_day_key`` and ``date_time_month_key`` (the tenant's time zone
lives in DATE_TIME, so a local day of 23 or 25 hours is simply the intervals DATE_TIME gives that day).

One ``aggregate`` run, in one transaction:

1. take the aggregation lock (a second run waits, then finds nothing new) and read the high-water mark
   (``GIM_AGG_HWM``, 0 before the first run) and the newest committed audit key;
2. collect the 15-minute intervals touched by the fact rows whose UPDATE_AUDIT_KEY lies between them
   (``gim_agg_touched``, a temporary table);
3. per aggregate: delete the SUBHR rows of those intervals and recompute them from the facts, then the
   same for the HOUR, DAY and MONTH rows containing them, from the level below;
4. move the high-water mark to the newest audit key.

Killed anywhere, nothing of it commits: the tables and the mark stay as they were and the next run redoes
the same keys. A run with no new audit key writes nothing. Audit keys commit in key order (``audit``), so
every key up to the newest one visible here is committed: none can be skipped.

Assumptions, documented in docs/aggregates.md: a fact's START_TS never moves and an update never shortens
it (GSP only closes open facts and adds ACW after a call's end), so an update's intervals include those of
the version it replaces; open facts (no END_TS yet) count only once closed; a fact lasts at most
``max_fact_seconds`` (a login session at most ``MAX_SESSION_SECONDS``), which bounds how far back a
recompute looks for facts overlapping an interval.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.infomart._db import EngineLike, transaction
from gim_dagster.core.infomart.audit import written_span
from gim_dagster.core.infomart.date_time import INTERVAL_SECONDS
from gim_dagster.core.infomart.tables import (
    AGGREGATE_LEVEL_KEYS,
    AGGREGATE_TABLES,
    AGT_I_AGENT,
    AGT_I_SESS_STATE,
    AGT_I_STATE_RSN,
    AGT_QUEUE,
    AGT_QUEUE_ABN,
    AGT_QUEUE_ACC_AGENT,
    AUDIT_COLUMNS,
    TIME_RANGE_BUCKETS,
)

AGGREGATION = "AGT_I"
"""GIM_AGG_HWM row of the interval-based aggregates."""
AGG_LOCK_ID = 0x47494D_41474752  # "GIM" "AGGR"
DEFAULT_MAX_FACT_SECONDS = 86_400
MAX_SESSION_SECONDS = 7 * 86_400
"""Longest login session a recompute finds: agents stay logged in past a day (rows are few, so cheap)."""
"""Longest fact (a login session, a state, a call and its ACW) a recompute finds (module docstring)."""
TOUCHED = "gim_agg_touched"
QUEUE_STAYS = "gim_agg_queue_stays"
_ROLLUP_FROM = {"hour": ("subhr", 2 * 3600), "day": ("subhr", 26 * 3600), "month": ("day", 32 * 86_400)}
"""Level -> (the level it sums, a bound on how far after a touched interval a row of that level ends)."""
DEFAULT_TIME_RANGE_BOUNDS = (
    5,
    10,
    15,
    20,
    25,
    30,
    40,
    50,
    60,
    90,
    120,
    180,
    240,
    300,
    420,
    600,
    900,
    1200,
    1800,
)
"""Upper bounds (seconds) of the first 19 time-range buckets; the 20th has none (docs/aggregates.md)."""


@dataclass(frozen=True)
class Thresholds:
    """The queue thresholds (from the tenant's settings): service level, short abandon, time-range buckets."""

    service_level_seconds: int = 20
    """Accepted (abandoned) within this many seconds of entering the queue counts in ``*_THR``."""
    short_abandon_seconds: int = 10
    """Abandoned before this counts as ``ABANDONED_SHORT``, at or after it as ``ABANDONED_STANDARD``."""
    queue_service_level_seconds: Mapping[str, int] = field(default_factory=dict)
    """Per queue (its RESOURCE_NAME): a service-level threshold that overrides the tenant's."""
    abandon_bounds: tuple[int, ...] = DEFAULT_TIME_RANGE_BOUNDS
    accept_bounds: tuple[int, ...] = DEFAULT_TIME_RANGE_BOUNDS

    def __post_init__(self) -> None:
        for name in ("abandon_bounds", "accept_bounds"):
            bounds = getattr(self, name)
            if len(bounds) != TIME_RANGE_BUCKETS - 1 or list(bounds) != sorted(set(bounds)) or bounds[0] <= 0:
                raise ValueError(
                    f"{name}: {TIME_RANGE_BUCKETS - 1} ascending positive bounds in seconds, "
                    f"got {list(bounds)}"
                )


def time_range_key(name: str, bounds: tuple[int, ...]) -> int:
    """The TIME_RANGE key of a set of buckets: stable for the same bounds, another key when they change (so
    rows aggregated under old bounds keep their meaning)."""
    return zlib.crc32(f"{name}:{','.join(map(str, bounds))}".encode()) & 0x7FFFFFFF


# Every segment source selects, per fact, the aggregate's keys then (m, a, b, n): the measure, the UTC
# seconds [a, b) it spans and the count it adds to the interval where it starts. A measure X of an
# aggregate is the count n of segments m = X, X_TIME their seconds. Only closed facts of known agents.
_FACTS = f"start_date_time_key BETWEEN :lo AND :hi AND end_ts IS NOT NULL AND resource_key <> {K.UNKNOWN_KEY}"

# IRF carries totals, not the time of each ring, talk or hold: they are laid out from START_TS in that
# order (ring, then talk, then hold), the after-call work from END_TS.
_IRF_SEGMENTS = f"""
SELECT f.tenant_key, f.media_type_key, f.resource_key, f.interaction_type_key,
    coalesce(f.resource_group_combination_key, {K.NO_GROUP_COMBINATION_KEY})
        AS resource_group_combination_key,
    s.m, s.a, s.b, s.n
FROM (SELECT irf.*, irf.start_ts + coalesce(irf.ring_duration, 0) AS answered,
        irf.start_ts + coalesce(irf.ring_duration, 0) + coalesce(irf.talk_duration, 0) AS talked,
        td.resource_role_code = 'RECEIVED' AS offered,
        td.resource_role_code = 'RECEIVED' AND td.result_reason_code = 'ANSWEREDBYAGENT' AS accepted
      FROM interaction_resource_fact irf JOIN technical_descriptor td USING (technical_descriptor_key)
      WHERE irf.{_FACTS}) f
CROSS JOIN LATERAL (VALUES
    ('offered', f.start_ts, f.start_ts, f.offered::integer),
    ('accepted', f.answered, f.answered, f.accepted::integer),
    ('invite', f.start_ts, f.answered, coalesce(f.ring_count, 0)),
    ('engage', f.answered, f.talked, coalesce(f.talk_count, 0)),
    ('hold', f.talked, f.talked + coalesce(f.hold_duration, 0), coalesce(f.hold_count, 0)),
    ('wrap', f.end_ts, f.end_ts + coalesce(f.after_call_work_duration, 0),
        coalesce(f.after_call_work_count, 0))
) AS s(m, a, b, n)
WHERE s.n > 0 OR s.b > s.a
"""

_SM_KEYS = f"""tenant_key, media_type_key, resource_key,
    coalesce(resource_group_combination_key, {K.NO_GROUP_COMBINATION_KEY})
        AS resource_group_combination_key"""
_STATE_MEASURE = (
    "CASE resource_state_key "
    + " ".join(
        f"WHEN {state.key} THEN '{measure}'"
        for state, measure in [
            (K.STATE_READY, "ready"),
            (K.STATE_NOTREADY, "not_ready"),
            (K.STATE_BUSY, "busy"),
            (K.STATE_ACW, "wrap"),
        ]
    )
    + " END"
)
_SESS_STATE_SEGMENTS = f"""
SELECT {_SM_KEYS}, 'active' AS m, start_ts AS a, end_ts AS b, 0 AS n
FROM sm_res_session_fact WHERE {_FACTS.replace(":lo", ":lo_session")}
UNION ALL
SELECT {_SM_KEYS}, {_STATE_MEASURE}, start_ts, end_ts, 1 FROM sm_res_state_fact WHERE {_FACTS}
"""
_STATE_RSN_SEGMENTS = f"""
SELECT {_SM_KEYS}, resource_state_key, resource_state_reason_key,
    'state_rsn' AS m, start_ts AS a, end_ts AS b, 1 AS n
FROM sm_res_state_reason_fact WHERE {_FACTS}
"""

# The span of time each changed fact row touches (its intervals are recomputed), per source table. A queue
# stay touches the interval it entered in (its row counts there).
_TOUCH_SOURCES = {
    "interaction_resource_fact": (
        "greatest(end_ts + coalesce(after_call_work_duration, 0), start_ts + coalesce(ring_duration, 0)"
        " + coalesce(talk_duration, 0) + coalesce(hold_duration, 0))"
    ),
    "sm_res_session_fact": "end_ts",
    "sm_res_state_fact": "end_ts",
    "sm_res_state_reason_fact": "end_ts",
    "mediation_segment_fact": "start_ts",
}


@dataclass(frozen=True)
class _Family:
    """One aggregate (its four levels) and how its SUBHR rows are computed.

    Interval-based (``segments``): time-sliced from segment rows (see ``_IRF_SEGMENTS``). Disposition-based
    (``measures``): one aggregate expression per measure over the queue stays (``QUEUE_STAYS``, alias ``q``)
    that pass ``where``; key columns in ``constants`` take that value instead of one of the stay's.
    """

    tables: list[sa.Table]
    """SUBHR, HOUR, DAY, MONTH, in ``AGGREGATE_LEVELS`` order."""
    segments: str = ""
    measure_sql: Mapping[str, str] = field(default_factory=dict)
    where: str = "true"
    constants: Mapping[str, int] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [c.name for c in self.tables[0].primary_key.columns][1:]

    @property
    def measures(self) -> list[str]:
        pk = {c.name for c in self.tables[0].primary_key.columns}
        return [c.name for c in self.tables[0].columns if c.name not in pk and c.name not in AUDIT_COLUMNS]


INTERVAL_FAMILIES = (
    _Family(AGT_I_AGENT, _IRF_SEGMENTS),
    _Family(AGT_I_SESS_STATE, _SESS_STATE_SEGMENTS),
    _Family(AGT_I_STATE_RSN, _STATE_RSN_SEGMENTS),
)


def _queue_stays_sql(
    th: Thresholds, first: int, last: int, max_fact_seconds: int
) -> tuple[str, dict[str, Any]]:
    """The closed stays of known queues entered in a touched interval, each with its wait, its outcome, its
    service-level threshold and the closed IRF it was distributed to (the ranges inlined as constants so the
    planner prunes the fact partitions)."""
    params: dict[str, Any] = {}
    threshold, join = str(int(th.service_level_seconds)), ""
    if th.queue_service_level_seconds:
        rows = []
        for n, (queue, seconds) in enumerate(sorted(th.queue_service_level_seconds.items())):
            params[f"qn{n}"], params[f"qs{n}"] = queue, int(seconds)
            rows.append(f"(CAST(:qn{n} AS text), CAST(:qs{n} AS integer))")
        join = (
            "LEFT JOIN resource_ r ON r.resource_key = m.resource_key "
            f"LEFT JOIN (VALUES {', '.join(rows)}) AS qt(name, seconds) ON qt.name = r.resource_name"
        )
        threshold = f"coalesce(qt.seconds, {threshold})"
    waited = "coalesce(m.mediation_duration, m.end_ts - m.start_ts)"
    sql = f"""
CREATE TEMP TABLE {QUEUE_STAYS} ON COMMIT DROP AS
SELECT m.start_date_time_key AS date_time_key, m.tenant_key, m.media_type_key, m.resource_key,
    coalesce(m.interaction_type_key, {K.UNKNOWN_KEY}) AS interaction_type_key,
    coalesce(m.resource_group_combination_key, {K.NO_GROUP_COMBINATION_KEY})
        AS resource_group_combination_key,
    {waited} AS waited, {threshold} AS sl,
    td.technical_result_code = 'ABANDONED' AS abandoned,
    td.technical_result_code = 'DIVERTED' AS distributed,
    td.technical_result_code = 'DIVERTED' AND td.result_reason_code = 'ABANDONEDWHILERINGING'
        AS abandoned_invite,
    td.technical_result_code = 'CLEARED' AS cleared,
    i.interaction_resource_id IS NOT NULL AS handled,
    coalesce(itd.result_reason_code = 'ANSWEREDBYAGENT', false) AS accepted,
    coalesce(i.resource_key <> {K.UNKNOWN_KEY}, false) AS by_agent,
    coalesce(itd.technical_result_code, '') AS handling_result,
    {waited} + coalesce(i.ring_duration, 0) AS to_accept,
    coalesce(i.ring_count, 0) AS ring_count, coalesce(i.ring_duration, 0) AS ring_duration,
    coalesce(i.talk_count, 0) AS talk_count, coalesce(i.talk_duration, 0) AS talk_duration,
    coalesce(i.hold_count, 0) AS hold_count, coalesce(i.hold_duration, 0) AS hold_duration,
    coalesce(i.after_call_work_count, 0) AS acw_count,
    coalesce(i.after_call_work_duration, 0) AS acw_duration
FROM mediation_segment_fact m
JOIN {TOUCHED} t ON t.date_time_key = m.start_date_time_key
JOIN technical_descriptor td ON td.technical_descriptor_key = m.technical_descriptor_key
LEFT JOIN interaction_resource_fact i ON i.interaction_resource_id = m.target_ixn_resource_id
    AND i.start_date_time_key BETWEEN {int(first)} AND {int(last) + int(max_fact_seconds)}
    AND i.end_ts IS NOT NULL
LEFT JOIN technical_descriptor itd ON itd.technical_descriptor_key = i.technical_descriptor_key
{join}
WHERE m.start_date_time_key BETWEEN {int(first)} AND {int(last)} AND m.end_ts IS NOT NULL
    AND m.resource_key <> {K.UNKNOWN_KEY}
"""
    return sql, params


def _count(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


def _sum(value: str, condition: str = "true") -> str:
    return f"coalesce(sum({value}) FILTER (WHERE {condition}), 0)"


def _buckets(prefix: str, value: str, bounds: tuple[int, ...]) -> dict[str, str]:
    """``<prefix>_1`` ... ``_20``: stays whose ``value`` falls in bucket n (n-1 bounds below it)."""
    edges = ", ".join(map(str, (0, *bounds)))
    return {
        f"{prefix}_{n}": _count(f"width_bucket({value}, ARRAY[{edges}]) = {n}")
        for n in range(1, TIME_RANGE_BUCKETS + 1)
    }


def queue_families(th: Thresholds) -> tuple[_Family, ...]:
    """AGT_QUEUE, AGT_QUEUE_ABN, AGT_QUEUE_ACC_AGENT under these thresholds (docs/aggregates.md)."""
    accepted, agent = "q.accepted", "q.accepted AND q.by_agent"
    queue = {
        "entered": "count(*)",
        "abandoned": _count("q.abandoned"),
        "abandoned_time": _sum("q.waited", "q.abandoned"),
        "abandoned_short": _count(f"q.abandoned AND q.waited < {int(th.short_abandon_seconds)}"),
        "abandoned_standard": _count(f"q.abandoned AND q.waited >= {int(th.short_abandon_seconds)}"),
        "abandoned_thr": _count("q.abandoned AND q.waited <= q.sl"),
        "abandoned_invite": _count("q.abandoned_invite"),
        "distributed": _count("q.distributed"),
        "distributed_time": _sum("q.waited", "q.distributed"),
        "redirected": _count("q.handling_result = 'REDIRECTED'"),
        "routed_other": _count("q.handled AND NOT q.by_agent"),
        "cleared": _count("q.cleared"),
        "accepted": _count(accepted),
        "accepted_time": _sum("q.to_accept", accepted),
        "accepted_time_max": f"coalesce(max(q.to_accept) FILTER (WHERE {accepted}), 0)",
        "accepted_thr": _count(f"{accepted} AND q.to_accept <= q.sl"),
        "accepted_agent": _count(agent),
        "accepted_agent_time": _sum("q.to_accept", agent),
        "accepted_agent_thr": _count(f"{agent} AND q.to_accept <= q.sl"),
        "transfer_init_agent": _count(f"{agent} AND q.handling_result = 'TRANSFERRED'"),
        "invite": _sum("q.ring_count"),
        "invite_time": _sum("q.ring_duration"),
        "engage": _sum("q.talk_count"),
        "engage_time": _sum("q.talk_duration"),
        "hold": _sum("q.hold_count"),
        "hold_time": _sum("q.hold_duration"),
        "wrap": _sum("q.acw_count"),
        "wrap_time": _sum("q.acw_duration"),
    }
    abandon_key = time_range_key("QUEUE-ABN", th.abandon_bounds)
    accept_key = time_range_key("QUEUE-ACC", th.accept_bounds)
    return (
        _Family(AGT_QUEUE, measure_sql=queue),
        _Family(
            AGT_QUEUE_ABN,
            measure_sql={"abandoned": "count(*)", **_buckets("abandoned_sti", "q.waited", th.abandon_bounds)},
            where="q.abandoned",
            constants={"time_range_key": abandon_key},
        ),
        _Family(
            AGT_QUEUE_ACC_AGENT,
            measure_sql={
                "accepted_agent": "count(*)",
                **_buckets("accepted_agent_sti", "q.to_accept", th.accept_bounds),
            },
            where=agent,
            constants={"time_range_key": accept_key},
        ),
    )


@dataclass(frozen=True)
class AggregationResult:
    """What one ``aggregate`` run committed."""

    hwm_from: int
    """High-water mark before the run: audit keys above it were aggregated."""
    hwm_to: int
    """High-water mark after it (equal to ``hwm_from`` when there was nothing new)."""
    intervals: int = 0
    """15-minute intervals recomputed."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows written per aggregate table."""


def aggregate(
    engine_or_conn: EngineLike,
    *,
    thresholds: Thresholds | None = None,
    max_fact_seconds: int = DEFAULT_MAX_FACT_SECONDS,
) -> AggregationResult:
    """Recompute the intervals touched by the audit keys committed since the last run (module docstring)."""
    th = thresholds or Thresholds()
    with transaction(engine_or_conn) as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": AGG_LOCK_ID})
        hwm = read_hwm(conn)
        top = conn.execute(sa.text("SELECT coalesce(max(audit_key), 0) FROM ctl_audit_log")).scalar_one()
        if top <= hwm:
            return AggregationResult(hwm, hwm)
        first, last, intervals = _collect_touched(conn, hwm, top, max_fact_seconds)
        rows: dict[str, int] = {}
        if intervals:
            bounds = {
                "lo": first - max_fact_seconds,
                "lo_session": first - max(max_fact_seconds, MAX_SESSION_SECONDS),
                "hi": last,
                "ak": top,
            }
            for family in INTERVAL_FAMILIES:
                rows |= _recompute(conn, family, bounds)
            _write_time_ranges(conn, th, top)
            stays, params = _queue_stays_sql(th, first, last, max_fact_seconds)
            conn.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{QUEUE_STAYS}"))
            conn.execute(sa.text(stays), params)
            for family in queue_families(th):
                rows |= _recompute(conn, family, bounds)
        _write_hwm(conn, top, intervals)
        return AggregationResult(hwm, top, intervals, rows)


def pending_audit_key(engine: sa.Engine) -> int | None:
    """The newest committed audit key when it is past the high-water mark (a run has work), else None."""
    with engine.connect() as conn:
        top = conn.execute(sa.text("SELECT coalesce(max(audit_key), 0) FROM ctl_audit_log")).scalar_one()
        return top if top > read_hwm(conn) else None


def read_hwm(conn: sa.Connection) -> int:
    """The last audit key aggregated (0 before the first run)."""
    return conn.execute(
        sa.text("SELECT coalesce((SELECT hwm_audit_key FROM gim_agg_hwm WHERE aggregation = :a), 0)"),
        {"a": AGGREGATION},
    ).scalar_one()


def _collect_touched(conn: sa.Connection, hwm: int, top: int, max_fact_seconds: int) -> tuple[int, int, int]:
    """Fill ``gim_agg_touched`` with the intervals the rows of audit keys ``(hwm, top]`` span.

    Returns the first and last interval key and how many there are. Only intervals DATE_TIME has count (the
    loader fills the days its facts refer to).
    """
    conn.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{TOUCHED}"))
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {TOUCHED} (date_time_key integer PRIMARY KEY, "
            "date_time_hour_key integer NOT NULL, date_time_day_key integer NOT NULL, "
            "date_time_month_key integer NOT NULL) ON COMMIT DROP"
        )
    )
    written = written_span(conn, hwm, top)
    if written is None:  # those keys wrote no fact (dimension changes only)
        return 0, 0, 0
    # The range as constants: the planner then leaves the other days' partitions out (cost flat in history).
    lo, hi = int(written[0]), int(written[1])
    changed = "update_audit_key > :hwm AND update_audit_key <= :top"
    spans = [
        f"SELECT start_ts AS a, coalesce({end}, start_ts) AS b FROM {name} "
        f"WHERE start_date_time_key BETWEEN {lo} AND {hi} AND {changed} AND start_ts IS NOT NULL"
        for name, end in _TOUCH_SOURCES.items()
    ]
    # A changed handling also changes the queue stay it was distributed from: that stay's entry interval.
    spans.append(
        "SELECT m.start_ts, m.start_ts FROM interaction_resource_fact i JOIN mediation_segment_fact m "
        "ON m.mediation_segment_id = i.mediation_segment_id "
        f"AND m.start_date_time_key BETWEEN {lo - int(max_fact_seconds)} AND {hi} "
        f"WHERE i.start_date_time_key BETWEEN {lo} AND {hi} AND i.update_audit_key > :hwm "
        "AND i.update_audit_key <= :top AND i.mediation_segment_id IS NOT NULL"
    )
    conn.execute(
        sa.text(
            f"INSERT INTO {TOUCHED} SELECT d.date_time_key, d.date_time_hour_key, d.date_time_day_key, "
            f"d.date_time_month_key FROM (SELECT DISTINCT k FROM ({' UNION ALL '.join(spans)}) AS s(a, b) "
            f"CROSS JOIN LATERAL generate_series(s.a - s.a % {INTERVAL_SECONDS}, greatest(s.a, s.b - 1), "
            f"{INTERVAL_SECONDS}) AS k) AS t JOIN date_time d ON d.date_time_key = t.k"
        ),
        {"hwm": hwm, "top": top},
    )
    conn.execute(sa.text(f"ANALYZE {TOUCHED}"))  # a temporary table has no statistics: the joins need them
    first, last, count = conn.execute(
        sa.text(f"SELECT min(date_time_key), max(date_time_key), count(*) FROM {TOUCHED}")
    ).one()
    return first or 0, last or 0, count


def _recompute(conn: sa.Connection, family: _Family, bounds: dict[str, int]) -> dict[str, int]:
    """Delete and rebuild the touched SUBHR rows from the facts, then each higher level from the one below."""
    by_level = {tbl.info["level"]: tbl for tbl in family.tables}
    subhr = by_level["subhr"]
    rebuild = _rebuild_subhr if family.segments else _rebuild_subhr_of_stays
    written = {subhr.name: rebuild(conn, family, bounds)}
    for level, (below, reach) in _ROLLUP_FROM.items():
        tbl = by_level[level]
        written[tbl.name] = _rebuild_rollup(conn, family, tbl, by_level[below].name, reach, bounds["ak"])
    return written


def _columns(family: _Family) -> str:
    return ", ".join(["date_time_key", *family.keys, *family.measures, *AUDIT_COLUMNS])


def _rebuild_subhr(conn: sa.Connection, family: _Family, bounds: dict[str, int]) -> int:
    subhr = family.tables[0]
    conn.execute(
        sa.text(f"DELETE FROM {subhr.name} WHERE date_time_key IN (SELECT date_time_key FROM {TOUCHED})")
    )
    keys = ", ".join(f"seg.{k}" for k in family.keys)
    overlap = f"least(seg.b, t.date_time_key + {INTERVAL_SECONDS}) - greatest(seg.a, t.date_time_key)"
    values = [
        f"coalesce(sum({overlap}) FILTER (WHERE seg.m = '{m.removesuffix('_time')}'), 0)"
        if m.endswith("_time")
        else f"coalesce(sum(seg.n) FILTER (WHERE seg.m = '{m}' AND seg.a >= t.date_time_key), 0)"
        for m in family.measures
    ]
    sql = (
        f"WITH seg AS ({family.segments}) "
        f"INSERT INTO {subhr.name} ({_columns(family)}) "
        f"SELECT t.date_time_key, {keys}, {', '.join(values)}, :ak, :ak "
        # t.date_time_key alone on one side: each segment finds its intervals by a range scan of the key
        f"FROM seg JOIN {TOUCHED} t ON t.date_time_key > seg.a - {INTERVAL_SECONDS} "
        "AND t.date_time_key < greatest(seg.b, seg.a + 1) "
        f"GROUP BY t.date_time_key, {keys}"
    )
    return conn.execute(sa.text(sql), bounds).rowcount


def _rebuild_subhr_of_stays(conn: sa.Connection, family: _Family, bounds: dict[str, int]) -> int:
    """SUBHR rows of a disposition-based family: the queue stays (``QUEUE_STAYS``) by entry interval."""
    subhr = family.tables[0]
    conn.execute(
        sa.text(f"DELETE FROM {subhr.name} WHERE date_time_key IN (SELECT date_time_key FROM {TOUCHED})")
    )
    keys = [str(family.constants[k]) if k in family.constants else f"q.{k}" for k in family.keys]
    grouped = ", ".join(f"q.{k}" for k in family.keys if k not in family.constants)
    sql = (
        f"INSERT INTO {subhr.name} ({_columns(family)}) "
        f"SELECT q.date_time_key, {', '.join(keys)}, "
        f"{', '.join(family.measure_sql[m] for m in family.measures)}, :ak, :ak "
        f"FROM {QUEUE_STAYS} q WHERE {family.where} GROUP BY q.date_time_key, {grouped}"
    )
    return conn.execute(sa.text(sql), bounds).rowcount


def _rebuild_rollup(
    conn: sa.Connection, family: _Family, tbl: sa.Table, below: str, reach: int, audit_key: int
) -> int:
    """Rebuild the rows of ``tbl`` (HOUR, DAY or MONTH) holding a touched interval from the rows of the level
    below (``below``): sums, and maxima for ``*_max``. ``reach`` bounds how far after a touched interval a
    row of ``tbl`` ends, so the read of ``below`` stays within the touched span."""
    level_key = AGGREGATE_LEVEL_KEYS[tbl.info["level"]]
    touched = f"SELECT DISTINCT {level_key} FROM {TOUCHED}"
    conn.execute(sa.text(f"DELETE FROM {tbl.name} WHERE date_time_key IN ({touched})"))
    keys = ", ".join(f"s.{k}" for k in family.keys)
    sums = ", ".join(f"{'max' if m.endswith('_max') else 'sum'}(s.{m})" for m in family.measures)
    sql = (
        f"INSERT INTO {tbl.name} ({_columns(family)}) "
        f"SELECT d.{level_key}, {keys}, {sums}, :ak, :ak "
        f"FROM {below} s JOIN date_time d ON d.date_time_key = s.date_time_key "
        f"WHERE d.{level_key} IN ({touched}) AND s.date_time_key BETWEEN (SELECT min({level_key}) "
        f"FROM {TOUCHED}) AND (SELECT max(date_time_key) FROM {TOUCHED}) + {reach} "
        f"GROUP BY d.{level_key}, {keys}"
    )
    return conn.execute(sa.text(sql), {"ak": audit_key}).rowcount


def _write_time_ranges(conn: sa.Connection, th: Thresholds, audit_key: int) -> None:
    """TIME_RANGE rows of the bucket sets in use (once written a set never changes: its key is its bounds)."""
    rows = [
        {"k": time_range_key(name, bounds), "name": name, "n": n + 1, "a": a, "b": b, "ak": audit_key}
        for name, bounds in (("QUEUE-ABN", th.abandon_bounds), ("QUEUE-ACC", th.accept_bounds))
        for n, (a, b) in enumerate(zip((0, *bounds), (*bounds, None), strict=True))
    ]
    conn.execute(
        sa.text(
            "INSERT INTO time_range (time_range_key, time_range_name, bucket_num, range_start, range_end, "
            "create_audit_key, update_audit_key) VALUES (:k, :name, :n, :a, :b, :ak, :ak) "
            "ON CONFLICT (time_range_key, bucket_num) DO NOTHING"
        ),
        rows,
    )


def purge(conn: sa.Connection, cutoff_key: int) -> dict[str, int]:
    """Delete the aggregate rows of periods wholly before ``cutoff_key`` (the facts' purge cutoff), under the
    aggregation lock. A period that straddles the cutoff (a local day, a month) keeps its row whole. Returns
    the rows deleted per table (tables with none left out)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": AGG_LOCK_ID})
    deleted: dict[str, int] = {}
    for tbl in AGGREGATE_TABLES:
        level_key = AGGREGATE_LEVEL_KEYS[tbl.info["level"]]
        straddling = (
            f"SELECT {level_key} FROM date_time WHERE date_time_key >= :cutoff "
            f"AND date_time_key < :cutoff + {_ROLLUP_FROM['month'][1]}"
        )
        rows = conn.execute(
            sa.text(
                f"DELETE FROM {tbl.name} WHERE date_time_key < :cutoff "
                f"AND date_time_key NOT IN ({straddling})"
            ),
            {"cutoff": cutoff_key},
        ).rowcount
        if rows:
            deleted[tbl.name] = rows
    return deleted


def _write_hwm(conn: sa.Connection, top: int, intervals: int) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO gim_agg_hwm (aggregation, hwm_audit_key, intervals, updated) "
            "VALUES (:a, :k, :n, clock_timestamp() AT TIME ZONE 'UTC') "
            "ON CONFLICT (aggregation) DO UPDATE SET hwm_audit_key = EXCLUDED.hwm_audit_key, "
            "intervals = EXCLUDED.intervals, updated = EXCLUDED.updated"
        ),
        {"a": AGGREGATION, "k": top, "n": intervals},
    )


# Fact-side totals of the time measures (closed facts of known agents), to check the slicing lost nothing.
_FACT_TOTALS = {
    "agt_i_agent": (
        "interaction_resource_fact",
        {
            "invite_time": "ring_duration",
            "engage_time": "talk_duration",
            "hold_time": "hold_duration",
            "wrap_time": "after_call_work_duration",
        },
    ),
    "agt_i_sess_state": (
        "sm_res_state_fact",
        {
            f"{measure}_time": f"CASE WHEN resource_state_key = {state.key} THEN end_ts - start_ts END"
            for state, measure in [
                (K.STATE_READY, "ready"),
                (K.STATE_NOTREADY, "not_ready"),
                (K.STATE_BUSY, "busy"),
                (K.STATE_ACW, "wrap"),
            ]
        },
    ),
    "agt_i_state_rsn": ("sm_res_state_reason_fact", {"state_rsn_time": "end_ts - start_ts"}),
    "agt_queue": (
        "mediation_segment_fact",
        {
            "entered": "1",
            "distributed_time": "CASE WHEN technical_descriptor_key IN "
            f"({K.TD_DIVERTED.key}, {K.TD_DIVERTED_ABANDONED_WHILE_RINGING.key}) THEN mediation_duration END",
        },
    ),
}
_SESSION_TOTALS = ("agt_i_sess_state", "sm_res_session_fact", {"active_time": "end_ts - start_ts"})


def check_totals(conn: sa.Connection) -> list[str]:
    """What a reader can check of the aggregates, one line per mismatch: every level (SUBHR ... MONTH) of
    every aggregate sums to the same totals (maxima for ``*_max``), and the SUBHR totals of the time
    measures (and of the queue stays entered) equal those of the facts they come from (closed facts of known
    agents and queues inside the DATE_TIME range). Run it after an aggregation that caught up."""
    problems = []
    for subhr in (t for t in AGGREGATE_TABLES if t.info["level"] == "subhr"):
        family = subhr.name.removesuffix("_subhr")
        measures = _Family([subhr]).measures
        totals = ", ".join(f"coalesce({'max' if m.endswith('_max') else 'sum'}({m}), 0)" for m in measures)
        levels = {
            level: conn.execute(sa.text(f"SELECT {totals} FROM {family}_{level}")).one()
            for level in AGGREGATE_LEVEL_KEYS
        }
        for i, measure in enumerate(measures):
            by_level = {level: int(row[i]) for level, row in levels.items()}
            if len(set(by_level.values())) > 1:
                problems.append(f"{family}.{measure}: levels {by_level}")
    lo, hi = conn.execute(sa.text("SELECT min(date_time_key), max(date_time_key) + 900 FROM date_time")).one()
    checks = [(family, fact, measures) for family, (fact, measures) in _FACT_TOTALS.items()]
    for family, fact, measures in [*checks, _SESSION_TOTALS]:
        sums = ", ".join(f"coalesce(sum({m}), 0)" for m in measures)
        aggregated = conn.execute(sa.text(f"SELECT {sums} FROM {family}_subhr")).one()
        facts = conn.execute(
            sa.text(
                f"SELECT {', '.join(f'coalesce(sum({e}), 0)' for e in measures.values())} FROM {fact} "
                f"WHERE end_ts IS NOT NULL AND resource_key <> {K.UNKNOWN_KEY} "
                "AND start_ts >= :lo AND end_ts < :hi"
            ),
            {"lo": lo, "hi": hi},
        ).one()
        for i, measure in enumerate(measures):
            if int(aggregated[i]) != int(facts[i]):
                problems.append(f"{family}.{measure}: SUBHR {int(aggregated[i])}, facts {int(facts[i])}")
    return problems
