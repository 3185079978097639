"""Simulator: determinism, statistics, valid order, and a ledger that reconciles with the events."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gim_dagster.core.events.models import Envelope
from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.sim import Ledger, Roster, Simulation, TrafficParams, simulate
from gim_dagster.core.sim.check import order_problems, recompute
from gim_dagster.core.sim.delivery import Record
from gim_dagster.core.sim.params import expected_arrivals

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def params(**kw: object) -> TrafficParams:
    base: dict[str, object] = {
        "tenant": "acme",
        "start": START,
        "hours": 2.0,
        "calls_per_hour": 120,
        "chats_per_hour": 20,
        "emails_per_hour": 10,
        "seed": 1,
        "shifts": "window",
    }
    base.update(kw)
    return TrafficParams(**base)


def clean_events(records: list[Record]) -> list[Envelope]:
    """What a correct consumer keeps: valid events of this tenant, first copy of each event_id."""
    seen: set[str] = set()
    out: list[Envelope] = []
    for kind in ("voice", "digital", "agent"):
        events, _bad = parse_records(kind, [r.value for r in records if r.kind == kind], tenant="acme")
        for ev in events:
            if ev.event_id not in seen:
                seen.add(ev.event_id)
                out.append(ev)
    return out


@pytest.fixture(scope="module")
def faulty() -> Simulation:
    return simulate(Roster.synthetic(12, 2), params(duplicates=0.05, late=0.05, malformed=0.02, seed=3))


def test_same_seed_same_bytes_different_seed_differs() -> None:
    a = simulate(Roster.synthetic(8, 1), params(hours=1, duplicates=0.02, late=0.02, malformed=0.02))
    b = simulate(Roster.synthetic(8, 1), params(hours=1, duplicates=0.02, late=0.02, malformed=0.02))
    c = simulate(Roster.synthetic(8, 1), params(hours=1, duplicates=0.02, late=0.02, malformed=0.02, seed=2))
    assert a.records == b.records
    assert all(a.ledger.tables[n].equals(b.ledger.tables[n]) for n in a.ledger.tables)
    assert a.records != c.records


def test_faults_do_not_change_the_clean_events() -> None:
    plain = simulate(Roster.synthetic(8, 1), params(hours=1))
    faulty = simulate(Roster.synthetic(8, 1), params(hours=1, duplicates=0.1, late=0.1, malformed=0.1))
    events = sorted(clean_events(faulty.records), key=lambda e: e.seq)
    assert events == sorted(clean_events(plain.records), key=lambda e: e.seq)
    assert len(faulty.records) > len(plain.records)


@pytest.mark.parametrize(("media", "rate", "shaped"), [("voice", 400.0, True), ("chat", 150.0, False)])
def test_arrival_counts_match_the_rate(media: str, rate: float, shaped: bool) -> None:
    p = params(
        hours=6,
        calls_per_hour=rate if media == "voice" else 0,
        chats_per_hour=rate if media == "chat" else 0,
        emails_per_hour=0,
        daily_shape=shaped,
        outbound_share=0,
        seed=5,
    )
    sim = simulate(Roster.synthetic(30, 1), p)
    ixns = sim.ledger.tables["interactions"].to_pylist()
    n = sum(1 for i in ixns if i["media"] == media and i["call_type"] == "inbound")
    mean = expected_arrivals(rate, p.start_ms, p.end_ms, shaped)
    assert abs(n - mean) < 4 * math.sqrt(mean), (n, mean)  # Poisson: 4 standard deviations


def abandon_rate(sim: Simulation) -> float:
    voice = [i for i in sim.ledger.tables["interactions"].to_pylist() if i["call_type"] == "inbound"]
    return sum(i["abandoned"] for i in voice) / len(voice)


def test_abandon_rate_rises_when_agents_are_too_few() -> None:
    p = params(calls_per_hour=200, chats_per_hour=0, emails_per_hour=0, daily_shape=False)
    many = abandon_rate(simulate(Roster.synthetic(20, 1, digital_share=0), p))
    few = abandon_rate(simulate(Roster.synthetic(3, 1, digital_share=0), p))
    assert many < 0.15 < 0.5 < few, (many, few)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    agents=st.integers(1, 8),
    hour=st.integers(0, 23),
    shifts=st.sampled_from(["daily", "window"]),
)
def test_every_interaction_is_in_a_valid_order(seed: int, agents: int, hour: int, shifts: str) -> None:
    p = params(
        seed=seed,
        hours=1.5,
        start=START.replace(hour=hour),
        calls_per_hour=60,
        chats_per_hour=15,
        emails_per_hour=8,
        shifts=shifts,
        late=0.05,
        duplicates=0.05,
    )
    sim = simulate(Roster.synthetic(agents, seed), p)
    assert order_problems(clean_events(sim.records)) == []


def test_late_and_duplicate_records_stay_within_the_window(faulty: Simulation) -> None:
    window = 60_000
    seen: dict[str, bytes] = {}
    max_ts = 0
    for record in faulty.records:
        for ev in parse_records(record.kind, [record.value], tenant="acme")[0]:
            assert ev.ts >= max_ts - window
            max_ts = max(max_ts, ev.ts)
            assert (
                seen.setdefault(ev.event_id, record.value) == record.value
            )  # a duplicate has the same bytes
    faults = faulty.ledger.tables["faults"].to_pylist()
    kinds = {f["kind"] for f in faults}
    assert kinds == {"duplicate", "late", "malformed"}
    for f in faults:
        assert faulty.records[f["position"]].key.decode() == f["key"]
        if f["kind"] == "malformed":
            assert faulty.records[f["position"]].value == f["value"]


def test_ledger_equals_what_the_clean_events_say(faulty: Simulation) -> None:
    rebuilt = recompute(clean_events(faulty.records))
    for name, rows in rebuilt.items():
        table = faulty.ledger.tables[name].to_pylist()
        assert rows, name
        columns = list(rows[0])
        assert sorted(tuple(r[c] for c in columns) for r in table) == sorted(
            tuple(r[c] for c in columns) for r in rows
        ), name
    handlings = faulty.ledger.tables["handlings"].to_pylist()
    for col in ("ring_s", "talk_s", "hold_s", "acw_s", "dial_s"):
        assert sum(h[col] for h in handlings) == sum(int(h[col]) for h in rebuilt["handlings"])
    for state in ("READY", "NOTREADY", "BUSY", "ACW"):
        total = sum(
            s["duration_s"] for s in faulty.ledger.tables["agent_states"].to_pylist() if s["state"] == state
        )
        assert total > 0
        assert total == sum(int(s["duration_s"]) for s in rebuilt["agent_states"] if s["state"] == state)


def test_ledger_covers_the_behaviours(faulty: Simulation) -> None:
    t = faulty.ledger.tables
    handlings = t["handlings"].to_pylist()
    assert any(h["transfer_type"] == "blind" for h in handlings)
    assert any(h["transfer_type"] == "consult" for h in handlings) or any(h["conferenced"] for h in handlings)
    assert any(h["hold_count"] for h in handlings) and any(h["acw_count"] for h in handlings)
    results = {(i["media"], i["result"]) for i in t["interactions"].to_pylist()}
    assert {
        ("voice", "completed"),
        ("voice", "abandoned"),
        ("chat", "completed"),
        ("email", "completed"),
    } <= results
    assert {s["state"] for s in t["agent_states"].to_pylist()} == {"READY", "NOTREADY", "BUSY", "ACW"}


def test_ledger_round_trips_through_parquet(faulty: Simulation, tmp_path: Path) -> None:
    back = Ledger.read(faulty.ledger.write(tmp_path / "ledger"))
    assert back.run == faulty.ledger.run
    assert all(back.tables[n].equals(faulty.ledger.tables[n]) for n in faulty.ledger.tables)
