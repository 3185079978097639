"""Reconciliation of the aggregates against the simulator's ground-truth ledger, interval by interval.

The facts are reconciled with the ledger in ``reconcile``; this checks that aggregating them lost and invented
nothing, computing each aggregate from the ledger the way docs/aggregates.md defines it and comparing:

``agg_sess_state``  AGT_I_SESS_STATE_SUBHR per agent, media and 15-minute interval: logged-in seconds, and per
                    state (ready, not ready, busy, ACW) the states begun and the seconds sliced into it;
``agg_state_rsn``   AGT_I_STATE_RSN_SUBHR per agent, media, state, reason code and interval;
``agg_queue``       AGT_QUEUE_SUBHR per queue and interval entered: entered, abandoned (and seconds
                    waited), distributed (and seconds waited), cleared, accepted (and seconds to accept:
                    queued plus the handling's ringing);
``agg_agent``       AGT_I_AGENT per agent over the whole window: ring, talk, hold and ACW counts and seconds.
                    Per interval it is not compared: an IRF row carries totals, so where inside a call its
                    holds fall is laid out by a rule (docs/aggregates.md), not known.

Only what the aggregates take is expected: closed rows, inside the DATE_TIME range. Agents are compared by
employee id and queues by the ledger's name of the queue DN (any RESOURCE_ version counts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from gim_dagster.core.gsp.rows import MEDIA_KEY
from gim_dagster.core.infomart.date_time import INTERVAL_SECONDS
from gim_dagster.core.reconcile import STATE_KEY, CategoryResult, _compare

_STATE_MEASURE = {"READY": "ready", "NOTREADY": "not_ready", "BUSY": "busy", "ACW": "wrap"}
SESS_STATE_MEASURES = (
    "active_time",
    "ready",
    "ready_time",
    "not_ready",
    "not_ready_time",
    "busy",
    "busy_time",
    "wrap",
    "wrap_time",
)
QUEUE_MEASURES = (
    "entered",
    "abandoned",
    "abandoned_time",
    "distributed",
    "distributed_time",
    "cleared",
    "accepted",
    "accepted_time",
)
AGENT_MEASURES = ("invite", "invite_time", "engage", "engage_time", "hold", "hold_time", "wrap", "wrap_time")

Counts = dict[Any, dict[str, int]]


def slices(start: int, end: int) -> Iterator[tuple[int, int]]:
    """(interval key, seconds of [start, end) inside it) for every 15-minute interval the span touches; a
    span of no length touches the interval it is in, with 0 seconds."""
    key = start - start % INTERVAL_SECONDS
    while True:
        yield key, min(end, key + INTERVAL_SECONDS) - max(start, key)
        key += INTERVAL_SECONDS
        if key >= end:
            return


def reconcile_aggregates(
    ledger: Mapping[str, pa.Table], conn: sa.Connection, *, queue_names: Mapping[str, str]
) -> dict[str, CategoryResult]:
    """Compare the SUBHR aggregates (and the agents' window totals) with the ledger (module docstring).
    ``queue_names``: the ledger's queue name of each queue DN (RESOURCE_NAME)."""
    t = {name: table.to_pylist() for name, table in ledger.items()}
    lo, hi = conn.execute(sa.text("SELECT min(date_time_key), max(date_time_key) + 900 FROM date_time")).one()
    employee = _names(conn, "employee_id")
    queue = {key: queue_names.get(dn, dn) for key, dn in _names(conn, "resource_name").items()}
    reason = dict(
        conn.execute(
            sa.text("SELECT resource_state_reason_key, software_reason_value FROM resource_state_reason")
        ).all()
    )
    return {
        "agg_sess_state": _compare(
            _tuples(_ledger_sess_state(t, lo, hi), SESS_STATE_MEASURES),
            _tuples(
                _found(conn, "agt_i_sess_state_subhr", SESS_STATE_MEASURES, employee), SESS_STATE_MEASURES
            ),
        ),
        "agg_state_rsn": _compare(
            _tuples(_ledger_state_rsn(t, lo, hi), ("state_rsn", "state_rsn_time")),
            _tuples(
                _found(conn, "agt_i_state_rsn_subhr", ("state_rsn", "state_rsn_time"), employee, reason),
                ("state_rsn", "state_rsn_time"),
            ),
        ),
        "agg_queue": _compare(
            _tuples(_ledger_queue(t, lo, hi), QUEUE_MEASURES),
            _tuples(_found(conn, "agt_queue_subhr", QUEUE_MEASURES, queue), QUEUE_MEASURES),
        ),
        "agg_agent": _compare(
            _tuples(_ledger_agent(t), AGENT_MEASURES),
            _tuples(
                _found(conn, "agt_i_agent_subhr", AGENT_MEASURES, employee, whole_window=True), AGENT_MEASURES
            ),
        ),
    }


def _names(conn: sa.Connection, column: str) -> dict[int, str]:
    """RESOURCE_KEY -> the resource's name in ``column`` (every version of it)."""
    rows = conn.execute(sa.text(f"SELECT resource_key, {column} FROM resource_ WHERE {column} IS NOT NULL"))
    return dict(rows.all())


def _tuples(counts: Counts, measures: tuple[str, ...]) -> dict[Any, tuple[int, ...]]:
    return {key: tuple(values.get(m, 0) for m in measures) for key, values in counts.items()}


def _found(
    conn: sa.Connection,
    table: str,
    measures: tuple[str, ...],
    name_of: Mapping[int, str],
    reason_of: Mapping[int, str] | None = None,
    *,
    whole_window: bool = False,
) -> Counts:
    """The aggregate's rows summed per resource name (and media, interval, state and reason code)."""
    extra = ", resource_state_key, resource_state_reason_key" if reason_of is not None else ""
    sums = ", ".join(f"sum({m}) AS {m}" for m in measures)
    sql = (
        f"SELECT resource_key, media_type_key, date_time_key{extra}, {sums} FROM {table} "
        f"GROUP BY resource_key, media_type_key, date_time_key{extra}"
    )
    found: Counts = defaultdict(lambda: defaultdict(int))
    for row in conn.execute(sa.text(sql)).mappings():
        name = name_of.get(row["resource_key"], f"key {row['resource_key']}")
        if whole_window:
            key: tuple[Any, ...] = (name,)
        else:
            key = (name, row["media_type_key"], row["date_time_key"])
        if reason_of is not None:
            key += (row["resource_state_key"], reason_of.get(row["resource_state_reason_key"]))
        for m in measures:
            found[key][m] += int(row[m])
    return {k: dict(v) for k, v in found.items() if any(v.values())}


def _add_span(
    counts: Counts, key: tuple[Any, ...], start: int, end: int, measure: str, lo: int, hi: int, *, count: bool
) -> None:
    """Slice [start, end) into ``measure``_time per interval (and count 1 in the first), inside DATE_TIME."""
    if start < lo or end >= hi:
        return
    for n, (interval, seconds) in enumerate(slices(start, end)):
        row = counts[(*key[:2], interval, *key[2:])]
        row[f"{measure}_time"] += seconds
        if count and n == 0:
            row[measure] += 1


def _ledger_sess_state(t: Mapping[str, list[dict[str, Any]]], lo: int, hi: int) -> Counts:
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for s in t["agent_sessions"]:
        if s["logout_s"] is not None:
            key = (s["agent_id"], MEDIA_KEY[s["media"]])
            _add_span(counts, key, s["login_s"], s["logout_s"], "active", lo, hi, count=False)
    for s in t["agent_states"]:
        if s["end_s"] is not None and s["state"] in _STATE_MEASURE:
            key = (s["agent_id"], MEDIA_KEY[s["media"]])
            _add_span(counts, key, s["start_s"], s["end_s"], _STATE_MEASURE[s["state"]], lo, hi, count=True)
    return {k: dict(v) for k, v in counts.items()}


def _ledger_state_rsn(t: Mapping[str, list[dict[str, Any]]], lo: int, hi: int) -> Counts:
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for s in t["agent_states"]:
        if s["end_s"] is not None and s["reason_code"]:
            key = (s["agent_id"], MEDIA_KEY[s["media"]], STATE_KEY[s["state"]], s["reason_code"])
            _add_span(counts, key, s["start_s"], s["end_s"], "state_rsn", lo, hi, count=True)
    return {k: dict(v) for k, v in counts.items()}


def _ledger_queue(t: Mapping[str, list[dict[str, Any]]], lo: int, hi: int) -> Counts:
    """Per queue and interval entered; accepted = routed to an agent who then talked (IRF ANSWEREDBYAGENT)."""
    handling = {(h["interaction_id"], h["agent_id"]): h for h in t["handlings"]}
    closed = {i["interaction_id"] for i in t["interactions"] if i["end_s"] is not None}
    media = {i["interaction_id"]: MEDIA_KEY[i["media"]] for i in t["interactions"]}
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for m in t["mediations"]:
        if m["end_s"] is None or not lo <= m["start_s"] < hi:
            continue
        row = counts[(m["queue"], media[m["interaction_id"]], m["start_s"] - m["start_s"] % INTERVAL_SECONDS)]
        row["entered"] += 1
        waited = m["duration_s"]
        if m["outcome"] == "abandoned":
            row["abandoned"] += 1
            row["abandoned_time"] += waited
        elif m["outcome"] == "stopped":
            row["cleared"] += 1
        elif m["outcome"] == "routed":
            row["distributed"] += 1
            row["distributed_time"] += waited
            h = handling.get((m["interaction_id"], m["agent_id"]))
            if h is not None and h["talk_count"] > 0 and m["interaction_id"] in closed:
                row["accepted"] += 1
                row["accepted_time"] += waited + h["ring_s"]
    return {k: dict(v) for k, v in counts.items()}


def _ledger_agent(t: Mapping[str, list[dict[str, Any]]]) -> Counts:
    closed = {i["interaction_id"] for i in t["interactions"] if i["end_s"] is not None}
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for h in t["handlings"]:
        if h["interaction_id"] not in closed:
            continue
        row = counts[(h["agent_id"],)]
        for measure, source in (("invite", "ring"), ("engage", "talk"), ("hold", "hold"), ("wrap", "acw")):
            row[measure] += h[f"{source}_count"]
            row[f"{measure}_time"] += h[f"{source}_s"]
    return {k: dict(v) for k, v in counts.items() if any(v.values())}
