"""Interval-based aggregates after the Genesys RAA model: AGT_I_AGENT_*, AGT_I_SESS_STATE_*, AGT_I_STATE_RSN_*
(SUBHR, HOUR, DAY).

Interval-based means time-sliced: a fact's time is split across the 15-minute intervals it spans, each
interval getting the seconds that fall into it; a count goes to the interval in which the counted thing
started. SUBHR rows are computed from the facts; HOUR and DAY rows are the sums of their SUBHR rows, keyed
by DATE_TIME's ``date_time_hour_key`` and ``date_time_day_key`` (the tenant's time zone lives in DATE_TIME,
so a local day of 23 or 25 hours is simply the intervals DATE_TIME gives that day).

One ``aggregate`` run, in one transaction:

1. take the aggregation lock (a second run waits, then finds nothing new) and read the high-water mark
   (``GIM_AGG_HWM``, 0 before the first run) and the newest committed audit key;
2. collect the 15-minute intervals touched by the fact rows whose UPDATE_AUDIT_KEY lies between them
   (``gim_agg_touched``, a temporary table);
3. per aggregate: delete the SUBHR rows of those intervals and recompute them from the facts, then the
   same for the HOUR and DAY rows containing them, from the SUBHR rows;
4. move the high-water mark to the newest audit key.

Killed anywhere, nothing of it commits: the tables and the mark stay as they were and the next run redoes
the same keys. A run with no new audit key writes nothing. Audit keys commit in key order (``audit``), so
every key up to the newest one visible here is committed: none can be skipped.

Assumptions, documented in docs/aggregates.md: a fact's START_TS never moves and an update never shortens
it (GSP only closes open facts and adds ACW after a call's end), so an update's intervals include those of
the version it replaces; open facts (no END_TS yet) count only once closed; a fact lasts at most
``max_fact_seconds``, which bounds how far back a recompute looks for facts overlapping an interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from gim_dagster.core.infomart import static_keys as K
from gim_dagster.core.infomart._db import EngineLike, transaction
from gim_dagster.core.infomart.audit import written_span
from gim_dagster.core.infomart.date_time import INTERVAL_SECONDS
from gim_dagster.core.infomart.tables import (
    AGGREGATE_LEVEL_KEYS,
    AGT_I_AGENT,
    AGT_I_SESS_STATE,
    AGT_I_STATE_RSN,
    AUDIT_COLUMNS,
)

AGGREGATION = "AGT_I"
"""GIM_AGG_HWM row of the interval-based aggregates."""
AGG_LOCK_ID = 0x47494D_41474752  # "GIM" "AGGR"
DEFAULT_MAX_FACT_SECONDS = 86_400
"""Longest fact (a login session, a state, a call and its ACW) a recompute finds (module docstring)."""
TOUCHED = "gim_agg_touched"
_LONGEST_DAY = 26 * 3600
"""Bounds the SUBHR rows a rollup reads: an hour or local day ends within this of any of its intervals."""

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
FROM sm_res_session_fact WHERE {_FACTS}
UNION ALL
SELECT {_SM_KEYS}, {_STATE_MEASURE}, start_ts, end_ts, 1 FROM sm_res_state_fact WHERE {_FACTS}
"""
_STATE_RSN_SEGMENTS = f"""
SELECT {_SM_KEYS}, resource_state_key, resource_state_reason_key,
    'state_rsn' AS m, start_ts AS a, end_ts AS b, 1 AS n
FROM sm_res_state_reason_fact WHERE {_FACTS}
"""

# The span of time each changed fact row touches (its intervals are recomputed), per source table.
_TOUCH_SOURCES = {
    "interaction_resource_fact": (
        "greatest(end_ts + coalesce(after_call_work_duration, 0), start_ts + coalesce(ring_duration, 0)"
        " + coalesce(talk_duration, 0) + coalesce(hold_duration, 0))"
    ),
    "sm_res_session_fact": "end_ts",
    "sm_res_state_fact": "end_ts",
    "sm_res_state_reason_fact": "end_ts",
}


@dataclass(frozen=True)
class _Family:
    tables: list[sa.Table]
    """SUBHR, HOUR, DAY, in ``AGGREGATE_LEVELS`` order."""
    segments: str

    @property
    def keys(self) -> list[str]:
        return [c.name for c in self.tables[0].primary_key.columns][1:]

    @property
    def measures(self) -> list[str]:
        pk = {c.name for c in self.tables[0].primary_key.columns}
        return [c.name for c in self.tables[0].columns if c.name not in pk and c.name not in AUDIT_COLUMNS]


FAMILIES = (
    _Family(AGT_I_AGENT, _IRF_SEGMENTS),
    _Family(AGT_I_SESS_STATE, _SESS_STATE_SEGMENTS),
    _Family(AGT_I_STATE_RSN, _STATE_RSN_SEGMENTS),
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
    engine_or_conn: EngineLike, *, max_fact_seconds: int = DEFAULT_MAX_FACT_SECONDS
) -> AggregationResult:
    """Recompute the intervals touched by the audit keys committed since the last run (module docstring)."""
    with transaction(engine_or_conn) as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": AGG_LOCK_ID})
        hwm = read_hwm(conn)
        top = conn.execute(sa.text("SELECT coalesce(max(audit_key), 0) FROM ctl_audit_log")).scalar_one()
        if top <= hwm:
            return AggregationResult(hwm, hwm)
        first, last, intervals = _collect_touched(conn, hwm, top)
        rows: dict[str, int] = {}
        if intervals:
            bounds = {"lo": first - max_fact_seconds, "hi": last, "ak": top}
            for family in FAMILIES:
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


def _collect_touched(conn: sa.Connection, hwm: int, top: int) -> tuple[int, int, int]:
    """Fill ``gim_agg_touched`` with the intervals the rows of audit keys ``(hwm, top]`` span.

    Returns the first and last interval key and how many there are. Only intervals DATE_TIME has count (the
    loader fills the days its facts refer to).
    """
    conn.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{TOUCHED}"))
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {TOUCHED} (date_time_key integer PRIMARY KEY, "
            "date_time_hour_key integer NOT NULL, date_time_day_key integer NOT NULL) ON COMMIT DROP"
        )
    )
    written = written_span(conn, hwm, top)
    if written is None:  # those keys wrote no fact (dimension changes only)
        return 0, 0, 0
    # The range as constants: the planner then leaves the other days' partitions out (cost flat in history).
    days = f"start_date_time_key BETWEEN {int(written[0])} AND {int(written[1])}"
    spans = " UNION ALL ".join(
        f"SELECT start_ts AS a, coalesce({end}, start_ts) AS b FROM {name} "
        f"WHERE {days} AND update_audit_key > :hwm AND update_audit_key <= :top AND start_ts IS NOT NULL"
        for name, end in _TOUCH_SOURCES.items()
    )
    conn.execute(
        sa.text(
            f"INSERT INTO {TOUCHED} SELECT d.date_time_key, d.date_time_hour_key, d.date_time_day_key "
            f"FROM (SELECT DISTINCT k FROM ({spans}) AS s CROSS JOIN LATERAL generate_series("
            f"s.a - s.a % {INTERVAL_SECONDS}, greatest(s.a, s.b - 1), {INTERVAL_SECONDS}) AS k) AS t "
            "JOIN date_time d ON d.date_time_key = t.k"
        ),
        {"hwm": hwm, "top": top},
    )
    conn.execute(sa.text(f"ANALYZE {TOUCHED}"))  # a temporary table has no statistics: the joins need them
    first, last, count = conn.execute(
        sa.text(f"SELECT min(date_time_key), max(date_time_key), count(*) FROM {TOUCHED}")
    ).one()
    return first or 0, last or 0, count


def _recompute(conn: sa.Connection, family: _Family, bounds: dict[str, int]) -> dict[str, int]:
    """Delete and rebuild the touched SUBHR rows from the facts, then their HOUR and DAY rows from SUBHR."""
    subhr, *rollups = family.tables
    written = {subhr.name: _rebuild_subhr(conn, family, bounds)}
    for tbl in rollups:
        written[tbl.name] = _rebuild_rollup(conn, family, tbl, subhr.name, bounds["ak"])
    return written


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
    columns = ", ".join(["date_time_key", *family.keys, *family.measures, *AUDIT_COLUMNS])
    sql = (
        f"WITH seg AS ({family.segments}) "
        f"INSERT INTO {subhr.name} ({columns}) "
        f"SELECT t.date_time_key, {keys}, {', '.join(values)}, :ak, :ak "
        # t.date_time_key alone on one side: each segment finds its intervals by a range scan of the key
        f"FROM seg JOIN {TOUCHED} t ON t.date_time_key > seg.a - {INTERVAL_SECONDS} "
        "AND t.date_time_key < greatest(seg.b, seg.a + 1) "
        f"GROUP BY t.date_time_key, {keys}"
    )
    return conn.execute(sa.text(sql), bounds).rowcount


def _rebuild_rollup(conn: sa.Connection, family: _Family, tbl: sa.Table, subhr: str, audit_key: int) -> int:
    """Rebuild the rows of ``tbl`` (HOUR or DAY) holding a touched interval, as sums of their SUBHR rows."""
    level_key = AGGREGATE_LEVEL_KEYS[tbl.info["level"]]
    touched = f"SELECT DISTINCT {level_key} FROM {TOUCHED}"
    conn.execute(sa.text(f"DELETE FROM {tbl.name} WHERE date_time_key IN ({touched})"))
    keys = ", ".join(f"s.{k}" for k in family.keys)
    columns = ", ".join(["date_time_key", *family.keys, *family.measures, *AUDIT_COLUMNS])
    sums = ", ".join(f"sum(s.{m})" for m in family.measures)
    sql = (
        f"INSERT INTO {tbl.name} ({columns}) "
        f"SELECT d.{level_key}, {keys}, {sums}, :ak, :ak "
        f"FROM {subhr} s JOIN date_time d ON d.date_time_key = s.date_time_key "
        f"WHERE d.{level_key} IN ({touched}) AND s.date_time_key BETWEEN (SELECT min({level_key}) "
        f"FROM {TOUCHED}) AND (SELECT max(date_time_key) FROM {TOUCHED}) + {_LONGEST_DAY} "
        f"GROUP BY d.{level_key}, {keys}"
    )
    return conn.execute(sa.text(sql), {"ak": audit_key}).rowcount


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
}
_SESSION_TOTALS = ("agt_i_sess_state", "sm_res_session_fact", {"active_time": "end_ts - start_ts"})


def check_totals(conn: sa.Connection) -> list[str]:
    """What a reader can check of the aggregates, one line per mismatch: every level (SUBHR, HOUR, DAY)
    sums to the same totals, and the SUBHR time totals equal the seconds of the facts they slice (closed
    facts of known agents inside the DATE_TIME range). Run it after an aggregation that caught up."""
    problems = []
    dt_range = "SELECT min(date_time_key), max(date_time_key) + 900 FROM date_time"
    lo, hi = conn.execute(sa.text(dt_range)).one()
    checks = [(family, fact, measures) for family, (fact, measures) in _FACT_TOTALS.items()]
    for family, fact, measures in [*checks, _SESSION_TOTALS]:
        sums = ", ".join(f"coalesce(sum({m}), 0)" for m in measures)
        levels = {
            level: conn.execute(sa.text(f"SELECT {sums} FROM {family}_{level}")).one()
            for level in AGGREGATE_LEVEL_KEYS
        }
        facts = conn.execute(
            sa.text(
                f"SELECT {', '.join(f'coalesce(sum({e}), 0)' for e in measures.values())} FROM {fact} "
                f"WHERE end_ts IS NOT NULL AND resource_key <> {K.UNKNOWN_KEY} "
                "AND start_ts >= :lo AND end_ts < :hi"
            ),
            {"lo": lo, "hi": hi},
        ).one()
        for i, measure in enumerate(measures):
            totals = {level: int(row[i]) for level, row in levels.items()}
            if len(set(totals.values())) > 1 or totals["subhr"] != int(facts[i]):
                problems.append(f"{family}.{measure}: levels {totals}, facts {int(facts[i])} s")
    return problems
