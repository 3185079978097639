"""The report's figures equal the simulator's ground truth: handle time and handled per agent, abandoned per
queue and interval, service level per queue, computed from the ledger alone and compared with what the pages
show (the figures of ``queries.fetch`` and the cells of the rendered tables)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from gim_dagster.core.infomart.date_time import INTERVAL_SECONDS
from gim_dagster.core.reports import write_reports
from gim_dagster.core.reports.pages import percent, seconds
from gim_dagster.core.reports.queries import fetch
from tests.reports.conftest import OPTIONS, THRESHOLDS, TRICKY_NAME, Mart
from tests.reports.helpers import page_tables


def _ledger(mart: Mart) -> dict[str, Any]:
    """What the ledger says: per agent handled and handle time, per queue abandoned, accepted and accepted
    within its threshold, abandoned per interval entered. Only closed interactions count (as in the facts)."""
    t = {name: table.to_pylist() for name, table in mart.sim.ledger.tables.items()}
    closed = {i["interaction_id"] for i in t["interactions"] if i["end_s"] is not None}
    inbound = {i["interaction_id"] for i in t["interactions"] if i["call_type"] == "inbound"}
    handling = {(h["interaction_id"], h["agent_id"]): h for h in t["handlings"]}
    handle_time: Counter[str] = Counter()
    handled: Counter[str] = Counter()
    for h in t["handlings"]:
        if h["interaction_id"] in closed:
            handle_time[h["agent_id"]] += h["talk_s"] + h["hold_s"] + h["acw_s"]
            # answered by the agent it was offered to: neither a consultation nor a call the agent made
            answered = h["talk_count"] > 0 and not h["consult_received"] and h["interaction_id"] in inbound
            handled[h["agent_id"]] += int(answered)
    queues: dict[str, Counter[str]] = defaultdict(Counter)
    abandoned_at: Counter[int] = Counter()
    for m in t["mediations"]:
        if m["end_s"] is None:
            continue
        q = queues[m["queue"]]
        q["offered"] += 1
        if m["outcome"] == "abandoned":
            q["abandoned"] += 1
            abandoned_at[m["start_s"] - m["start_s"] % INTERVAL_SECONDS] += 1
        h = handling.get((m["interaction_id"], m["agent_id"]))
        if (
            m["outcome"] == "routed"
            and h is not None
            and h["talk_count"] > 0
            and m["interaction_id"] in closed
        ):
            q["accepted"] += 1
            threshold = THRESHOLDS.queue_service_level_seconds.get(
                m["queue"], THRESHOLDS.service_level_seconds
            )
            q["accepted_thr"] += int(m["duration_s"] + h["ring_s"] <= threshold)
            q["accepted_time"] += m["duration_s"] + h["ring_s"]
    reasons: Counter[str] = Counter()
    for state in t["agent_states"]:
        if state["reason_code"] and state["end_s"] is not None:
            reasons[state["reason_code"]] += state["duration_s"]
    return {
        "reasons": reasons,
        "handle_time": +handle_time,
        "handled": +handled,
        "queues": queues,
        "abandoned_at": abandoned_at,
    }


def test_report_figures_equal_the_ledgers(mart: Mart, tmp_path: Path) -> None:
    truth = _ledger(mart)
    with mart.engine.connect() as conn:
        data = fetch(conn, mart.first, mart.last)
    assert [mart.first, mart.last] == [data.first, data.last] and data.time_zone == "Europe/Berlin"

    # Agents: handle time (talk + hold + ACW) and handled, per employee id.
    assert {a.employee_id: a.handle_time for a in data.agents if a.handle_time} == truth["handle_time"]
    assert {a.employee_id: a.handled for a in data.agents if a.handled} == truth["handled"]

    # Groups: each simulated agent is in one group, so a group's figures are its agents'.
    group_of = {a.employee_id: a.groups[0] for a in mart.roster.agents}
    per_group: Counter[str] = Counter()
    for agent, handle_time in truth["handle_time"].items():
        per_group[group_of[agent]] += handle_time
    assert {g.name: g.handle_time for g in data.groups if g.handle_time} == per_group
    # Not-ready reasons: seconds per reason code.
    assert {r.reason: r.seconds for r in data.reasons} == truth["reasons"]

    # Queues: abandoned, accepted and service level, per queue over the day and per interval entered.
    (day,) = data.days
    figures = {queue: f for (d, queue), f in data.queue_by_day.items() if d == day}
    for queue, q in truth["queues"].items():
        f = figures[queue]
        assert (f.offered, f.abandoned, f.accepted, f.accepted_thr, f.accepted_time) == (
            q["offered"],
            q["abandoned"],
            q["accepted"],
            q["accepted_thr"],
            q["accepted_time"],
        ), queue
        assert f.service_level == q["accepted_thr"] / (q["accepted"] + q["abandoned"])
    assert set(figures) == set(truth["queues"])
    by_interval = {k: f.abandoned for k, f in data.queue_by_interval.items() if f.abandoned}
    assert by_interval == truth["abandoned_at"]
    assert sum(b.count for b in data.abandon_buckets) == sum(q["abandoned"] for q in truth["queues"].values())
    total_abandoned = sum(q["abandoned"] for q in truth["queues"].values())
    total_thr = sum(q["accepted_thr"] for q in truth["queues"].values())
    total_accepted = sum(q["accepted"] for q in truth["queues"].values())
    assert total_abandoned > 0 and total_accepted > 0, "the fixture must have abandons to compare"

    # The pages show exactly these figures.
    index = write_reports(mart.engine, tmp_path, mart.first, mart.last, OPTIONS)
    queue_rows = {
        (r[0], r[1]): r for r in page_tables(index.parent / "queue-summary.html")["Per day and queue"]
    }
    for queue, q in truth["queues"].items():
        row = queue_rows[(day, queue)]
        sl = q["accepted_thr"] / (q["accepted"] + q["abandoned"])
        assert row[2:] == [
            f"{q['offered']:,}",
            f"{q['accepted']:,}",
            f"{q['abandoned']:,}",
            percent(q["abandoned"] / q["offered"]),
            f"{q['accepted_thr']:,}",
            percent(sl),
            seconds(q["accepted_time"] / q["accepted"]),
        ], queue
    overall = queue_rows[("all days", "all queues")]
    assert overall[4] == f"{total_abandoned:,}"
    assert overall[7] == percent(total_thr / (total_accepted + total_abandoned))
    agent_rows = {r[1]: r for r in page_tables(index.parent / "agent-summary.html")["Per agent"][1:]}
    for agent, seconds_handled in truth["handle_time"].items():
        row = agent_rows[agent]
        assert row[2] == f"{truth['handled'][agent]:,}"
        if truth["handled"][agent]:
            assert row[3] == seconds(seconds_handled / truth["handled"][agent])

    # Names from the database are escaped in the tables, plain text in the charts.
    html = (index.parent / "agent-summary.html").read_text(encoding="utf-8")
    assert "<b>Zoë" not in html and "&lt;b&gt;Zoë&lt;/b&gt; &amp;" in html
    assert any(r[0].startswith(TRICKY_NAME) for r in agent_rows.values())
