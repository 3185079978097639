"""The GSP core on hand-written event sequences and on simulated traffic split into micro-batches."""

from __future__ import annotations

import copyreg
import json
from typing import Any

import msgspec
import pytest

from gim_dagster.core.facts import static_keys as sk
from gim_dagster.core.gsp import GspConfig, GspState, KeyResolver, Processor, fact_id, irf_id
from gim_dagster.core.gsp.state import dumps, loads
from gim_dagster.core.kafka_io import Record
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster
from tests.gsp.helpers import FAR_FUTURE_MS, as_records, final_facts, reconcile, resolver_for, simulated

T = "acme"
NAMES = TenantNames(T)
T0 = 1_767_600_000_000  # 2026-01-05 08:00 UTC
RESOLVER = KeyResolver.fixed(
    agents={"E1": 11, "E2": 12}, queues={"Sales": 501}, places={"P1": 71}, reasons={"Break": 901}
)


class Stream:
    """Hand-written events, numbered in true order; ``records()`` delivers them in a chosen order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def voice(self, event_type: str, at_s: float, **fields: Any) -> None:
        base = {"call_id": "c1", "connection_id": "c1.1", "call_type": "inbound", "dn": "1001", "parties": []}
        self._add("voice", event_type, at_s, {**base, **fields})

    def agent(self, event_type: str, at_s: float, agent: str = "E1", **fields: Any) -> None:
        base = {
            "agent_id": agent,
            "login_code": "L1",
            "place": "P1",
            "media": "voice",
            "session_id": f"s-{agent}",
        }
        self._add("agent", event_type, at_s, {**base, **fields})

    def _add(self, kind: str, event_type: str, at_s: float, fields: dict[str, Any]) -> None:
        seq = len(self.events)
        body = {
            "event_id": f"e{seq}",
            "event_type": event_type,
            "ts": T0 + int(at_s * 1000),
            "seq": seq,
            "tenant": T,
        }
        self.events.append((kind, {**body, **fields}))

    def records(self, order: list[int] | None = None, extra: list[tuple[str, bytes]] = ()) -> list[Record]:  # type: ignore[assignment]
        topics = {"voice": NAMES.voice_topic, "agent": NAMES.agent_topic}
        chosen = [self.events[i] for i in (order if order is not None else range(len(self.events)))]
        values = [(topics[k], json.dumps(body).encode()) for k, body in chosen] + list(extra)
        offsets: dict[str, int] = {}
        out = []
        for topic, value in values:
            offsets[topic] = offsets.get(topic, -1) + 1
            out.append(Record(topic, 0, offsets[topic], b"k", value, 0))
        return out


def answered_call(s: Stream) -> None:
    """Queued 10 s, rings 5 s, talks 60 s with a 20 s hold, then 30 s of after-call work."""
    s.agent("login", 0)
    s.agent("ready", 0)
    s.voice("queued", 0, dn="8001", queue="Sales", ani="+1555", dnis="7001")
    s.voice("diverted", 10, dn="8001", queue="Sales", other_dn="1001", other_agent_id="E1")
    s.agent("busy", 10, interaction_id="c1")
    s.voice("ringing", 10, agent_id="E1", place="P1")
    s.voice("established", 15, agent_id="E1", place="P1")
    s.voice("held", 35, agent_id="E1", place="P1")
    s.voice("retrieved", 55, agent_id="E1", place="P1")
    s.voice("released", 75, agent_id="E1", place="P1")
    s.agent("after_call_work", 75, interaction_id="c1")
    s.agent("ready", 105)


WIDE = GspConfig(allowed_lateness_ms=120_000, max_future_skew_ms=60_000)
"""The lateness and future skew some scenarios below are timed for (GSP's defaults until issue #17)."""


def run(
    records: list[Record], config: GspConfig | None = None, flush: bool = True
) -> tuple[Any, Any, GspState]:
    state = GspState(T)
    out = Processor(state, config, RESOLVER).process(records, now_ms=FAR_FUTURE_MS if flush else None)
    return final_facts(out.facts), out, state


def only(facts: dict[str, Any], table: str) -> dict[str, Any]:
    rows = list(facts[table].values())
    assert len(rows) == 1, rows
    return rows[0]


def test_answered_call_gives_one_fact_per_table_with_durations_and_acw() -> None:
    s = Stream()
    answered_call(s)
    facts, out, state = run(s.records())
    ixn = only(facts, "interaction_fact")
    assert ixn["interaction_id"] == fact_id(T, "ixn", "c1")
    assert (ixn["end_ts"] - ixn["start_ts"], ixn["active_flag"], ixn["source_address"]) == (75, 0, "+1555")
    irf = only(facts, "interaction_resource_fact")
    assert irf["interaction_resource_id"] == irf_id(T, "c1", "E1")
    assert (irf["resource_key"], irf["place_key"], irf["technical_descriptor_key"]) == (
        11,
        71,
        sk.TD_COMPLETED.key,
    )
    assert (irf["ring_count"], irf["ring_duration"], irf["talk_count"], irf["talk_duration"]) == (1, 5, 1, 40)
    assert (irf["hold_count"], irf["hold_duration"]) == (1, 20)
    assert (irf["after_call_work_count"], irf["after_call_work_duration"], irf["irf_anchor"]) == (1, 30, 1)
    msf = only(facts, "mediation_segment_fact")
    assert (msf["mediation_duration"], msf["resource_key"]) == (10, 501)
    assert msf["technical_descriptor_key"] == sk.TD_DIVERTED.key
    assert msf["target_ixn_resource_id"] == irf["interaction_resource_id"] == irf["interaction_resource_id"]
    assert irf["mediation_segment_id"] == msf["mediation_segment_id"]
    states = sorted(
        (r["resource_state_key"], r.get("total_duration", -1)) for r in facts["sm_res_state_fact"].values()
    )
    assert states == [(1, -1), (1, 10), (3, 65), (4, 30)]  # the last READY is still open
    assert not out.dead_letters and not state.interactions


def test_abandoned_in_queue_and_unknown_agent_are_kept() -> None:
    s = Stream()
    s.voice("queued", 0, dn="8001", queue="Nowhere")
    s.voice("abandoned", 42, dn="8001", queue="Nowhere")
    s.agent("login", 0, agent="E404")
    s.agent("not_ready", 0, agent="E404", reason_code="Mystery")
    s.agent("logout", 50, agent="E404")
    facts, _out, _state = run(s.records())
    msf = only(facts, "mediation_segment_fact")
    assert (msf["technical_descriptor_key"], msf["resource_key"]) == (sk.TD_ABANDONED_WHILE_QUEUED.key, -1)
    assert only(facts, "interaction_fact")["end_ts"] - only(facts, "interaction_fact")["start_ts"] == 42
    reason = only(facts, "sm_res_state_reason_fact")
    assert (reason["resource_key"], reason["resource_state_reason_key"], reason["total_duration"]) == (
        -1,
        -1,
        50,
    )
    assert only(facts, "sm_media_nrr_fact")["total_duration"] == 50
    assert only(facts, "sm_res_session_fact")["total_duration"] == 50


def test_late_duplicate_too_late_and_malformed_records() -> None:
    s = Stream()
    answered_call(s)
    clean, _out, _ = run(s.records())
    # 'held' (index 7) delivered after 'retrieved' and 'released': late but within the allowed lateness.
    order = [0, 1, 2, 3, 4, 5, 6, 8, 9, 7, 10, 11, 11]
    late, out, _ = run(s.records(order, extra=[(NAMES.voice_topic, b'{"event_id":')]), WIDE)
    assert late == clean
    assert (out.stats["late"], out.stats["duplicates"], out.stats["malformed"]) == (1, 1, 1)
    assert [d.reason.split(":")[0] for d in out.dead_letters] == ["malformed"]
    # With a lateness of 5 s the same 'held' is 40 s behind: dead-lettered, the rest still applied.
    strict, out, _ = run(s.records(order), GspConfig(allowed_lateness_ms=5_000, dedup_window_ms=5_000))
    assert [d.reason.split(":")[0] for d in out.dead_letters] == ["too late"]
    assert only(strict, "interaction_resource_fact")["hold_count"] == 0


def test_a_conflicting_duplicate_is_dead_lettered_and_an_identical_one_dropped() -> None:
    """A second record with an event id already seen and other content (here another ts, or another seq)
    used to be dropped in silence; a byte-identical re-delivery still is."""
    s = Stream()
    answered_call(s)
    clean, _out, _ = run(s.records())
    kind, held = s.events[7]
    assert (kind, held["event_type"]) == ("voice", "held")
    other_ts = json.dumps({**held, "ts": held["ts"] + 3000}).encode()
    other_seq = json.dumps({**held, "seq": 99}).encode()
    again = json.dumps(held).encode()
    extra = [(NAMES.voice_topic, v) for v in (other_ts, again, other_seq)]
    facts, out, _ = run(s.records(extra=extra))
    assert facts == clean
    first = next(r.offset for r in s.records() if r.value == again)
    assert [d.reason for d in out.dead_letters] == [f"conflicting duplicate of offset {first}"] * 2
    assert (out.stats["conflicting_duplicates"], out.stats["duplicates"]) == (2, 1)


def test_an_event_far_ahead_of_its_record_is_dead_lettered_and_moves_no_frontier() -> None:
    """One voice event dated years ahead used to be accepted and move its partition's frontier, so every
    later on-time event became too late."""
    s = Stream()
    answered_call(s)
    clean, _out, _ = run(s.records())
    _kind, queued = s.events[2]
    future = {**queued, "event_id": "f1", "ts": T0 + 3 * 3_600_000, "call_id": "c9"}
    stamped = [Record(r.topic, r.partition, r.offset, r.key, r.value, T0 + 60_000) for r in s.records()]
    at = next(i for i, r in enumerate(stamped) if r.topic == NAMES.voice_topic)  # first voice record
    records = [*stamped[: at + 1], Record(NAMES.voice_topic, 0, 99, b"k", json.dumps(future).encode(), T0)]
    records += stamped[at + 1 :]
    facts, out, state = run(records, WIDE)
    assert facts == clean
    assert [d.reason.split(":")[0] for d in out.dead_letters] == ["in the future"]
    assert out.dead_letters[0].reason.startswith("in the future: 10800000 ms ahead of its record's timestamp")
    assert state.clocks[(NAMES.voice_topic, 0)].max_ts < T0 + 3_600_000
    # Without a record timestamp the clock passed in decides; without either, nothing is in the future.
    unstamped = Record(NAMES.voice_topic, 0, 99, b"k", json.dumps(future).encode(), 0)
    out = Processor(GspState(T), WIDE, RESOLVER).process([unstamped], now_ms=T0)
    assert [d.reason for d in out.dead_letters] == [
        "in the future: 10800000 ms ahead of now (allowed skew 60000 ms)"
    ]
    assert not Processor(GspState(T), None, RESOLVER).process([unstamped]).dead_letters


def test_timeout_closes_a_stale_interaction_and_dead_letters_its_stragglers() -> None:
    s = Stream()
    s.voice("queued", 0, dn="8001", queue="Sales")
    s.voice("diverted", 5, dn="8001", queue="Sales", other_dn="1001", other_agent_id="E1")
    s.voice("ringing", 5, agent_id="E1", place="P1")
    s.voice("established", 8, agent_id="E1", place="P1")
    s.voice("released", 4000, agent_id="E1", place="P1")
    config = GspConfig(allowed_lateness_ms=1000, dedup_window_ms=1000, interaction_timeout_ms=600_000)
    facts, out, state = run(s.records(), config)
    irf = only(facts, "interaction_resource_fact")
    assert (
        irf["technical_descriptor_key"] == sk.TD_CLOSED_BY_TIMEOUT.key
        and irf["end_ts"] == irf["start_ts"] + 3
    )
    assert only(facts, "interaction_fact")["active_flag"] == 0
    assert out.stats["interactions_timed_out"] == 1
    assert [d.reason for d in out.dead_letters] == ["event after its interaction c1 ended"]
    assert not state.interactions


def test_an_interaction_id_used_again_after_its_end_keeps_both_in_one_batch() -> None:
    """The first call ended and, past its retention, a later one reuses its id: the first one's queue stay
    is emitted whether or not a micro-batch ends between the two (before the fix, only when one did)."""
    s = Stream()
    s.voice("queued", 0, dn="8001", queue="Sales")
    s.voice("abandoned", 5, dn="8001", queue="Sales")
    s.voice("queued", 2000, dn="8001", queue="Sales")  # timeout 600 s + retention 1000 s later: a new call
    s.voice("diverted", 2005, dn="8001", queue="Sales", other_dn="1001", other_agent_id="E1")
    config = GspConfig(
        allowed_lateness_ms=1000,
        dedup_window_ms=1000,
        interaction_timeout_ms=600_000,
        closed_retention_ms=1_000_000,
    )
    records = s.records()
    whole, _out, _state = run(records, config)
    state, split = GspState(T), []
    for part in (records[:2], records[2:]):
        split += Processor(state, config, RESOLVER).process(part, now_ms=FAR_FUTURE_MS).facts
    assert len(whole["mediation_segment_fact"]) == 2
    assert whole == final_facts(split)


def test_open_interactions_stay_in_state_across_a_checkpoint() -> None:
    s = Stream()
    answered_call(s)
    records = s.records()
    state = GspState(T)
    first = Processor(state, None, RESOLVER).process(records[:7])  # up to 'established', nothing flushed
    state = loads(dumps(state))
    assert not state.interactions  # still pending: within the allowed lateness of the newest event
    second = Processor(state, None, RESOLVER).process(records[7:], now_ms=FAR_FUTURE_MS)
    assert final_facts(first.facts + second.facts) == run(records)[0]


class _PydanticEra:
    """Pickles an event the way a pydantic model was pickled before events became msgspec Structs."""

    def __init__(self, ev: Any) -> None:
        self.ev = ev

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # pickle checks that NEWOBJ's class is the object's
        return type(self.ev)

    def __reduce_ex__(self, protocol: object) -> tuple[Any, ...]:
        fields = {**msgspec.structs.asdict(self.ev), "event_type": self.ev.event_type}
        state = {"__dict__": fields, "__pydantic_extra__": None, "__pydantic_fields_set__": set(fields),
                 "__pydantic_private__": None}  # fmt: skip
        return copyreg.__newobj__, (type(self.ev),), state


def test_checkpoints_written_with_pydantic_events_still_load() -> None:
    s = Stream()
    answered_call(s)
    records = s.records()
    state = GspState(T)
    first = Processor(state, None, RESOLVER).process(records[:7])
    pending = {tp: list(c.pending) for tp, c in state.clocks.items()}
    assert any(pending.values())
    for clock in state.clocks.values():
        clock.pending = [(ts, seq, offset, _PydanticEra(ev)) for ts, seq, offset, ev in clock.pending]
    state = loads(dumps(state))
    assert {tp: c.pending for tp, c in state.clocks.items()} == pending
    second = Processor(state, None, RESOLVER).process(records[7:], now_ms=FAR_FUTURE_MS)
    assert final_facts(first.facts + second.facts) == run(records)[0]


ANSWERED = {"agent_id": "E1", "place": "P1"}
CONSULT = {"connection_id": "c1.2", "call_type": "consult", "dn": "1002", "agent_id": "E2", "place": "P2"}


def consultation_rings(s: Stream) -> None:
    """E1 answers at 15 s, holds the customer at 30 s and consults E2, whose phone rings."""
    s.voice("ringing", 0, **ANSWERED)
    s.voice("established", 15, **ANSWERED)
    s.voice("held", 30, **ANSWERED)
    s.voice("dialing", 30, **{**ANSWERED, "connection_id": "c1.2", "call_type": "consult"},
            other_dn="1002", other_agent_id="E2")  # fmt: skip
    s.voice("ringing", 30, **CONSULT, other_dn="1001", other_agent_id="E1")


def consulted_transfer(s: Stream) -> None:
    """E1 consults E2 (who holds once meanwhile), then transfers to E2."""
    answered, consult = ANSWERED, CONSULT
    consultation_rings(s)
    s.voice("established", 34, **consult, other_dn="1001", other_agent_id="E1")
    s.voice("held", 40, **consult)
    s.voice("retrieved", 45, **consult)
    s.voice("party_changed", 60, **answered, transfer_type="consult", other_dn="1002", other_agent_id="E2")
    s.voice("released", 60, **answered)
    after = {"dn": "1002", "agent_id": "E2", "place": "P2"}
    s.voice("held", 100, **after)
    s.voice("retrieved", 110, **after)
    s.voice("released", 150, **after)


def test_consultation_fills_the_cons_columns_of_both_agents() -> None:
    s = Stream()
    consulted_transfer(s)
    facts, _out, _state = run(s.records())
    irfs = {r["resource_key"]: r for r in facts["interaction_resource_fact"].values()}
    initiator, consulted = irfs[11], irfs[12]

    def cols(row: dict[str, Any], *names: str) -> tuple[int | None, ...]:
        return tuple(row.get(f"{n}_{part}") for n in names for part in ("count", "duration"))

    assert cols(initiator, "talk", "hold") == (1, 15, 1, 30)  # the customer waits on hold
    assert cols(initiator, "cons_init_dial", "cons_init_talk", "cons_init_hold") == (1, 4, 1, 26, 0, 0)
    assert initiator["technical_descriptor_key"] == sk.TD_TRANSFERRED.key
    assert consulted["received_from_ixn_resource_id"] == initiator["interaction_resource_id"]
    assert cols(consulted, "ring", "talk", "hold") == (1, 4, 1, 6 + 55 + 40, 2, 5 + 10)
    assert cols(consulted, "cons_rcv_ring", "cons_rcv_talk", "cons_rcv_hold") == (1, 4, 1, 6 + 15, 1, 5)
    assert "cons_init_dial_count" not in consulted and "cons_rcv_talk_count" not in initiator


CUSTOMER = ("ring", "dial", "talk", "hold", "acw")


def customer(row: dict[str, Any]) -> tuple[int | None, ...]:
    return tuple(row.get(f"customer_{kind}_duration") for kind in CUSTOMER)


def test_an_answered_call_is_all_the_customer_s_and_its_queue_is_in_no_group() -> None:
    s = Stream()
    answered_call(s)
    facts, _out, _state = run(s.records())
    irf = only(facts, "interaction_resource_fact")
    assert customer(irf) == (5, 0, 40, 20, 30)  # ring, dial, talk, the 20 s hold, after-call work
    assert "cons_rcv_acw_count" not in irf  # no consultation received: NULL
    msf = only(facts, "mediation_segment_fact")
    assert msf["resource_group_combination_key"] == sk.NO_GROUP_COMBINATION_KEY


def test_a_consulted_transfer_splits_customer_and_consultation_time_and_acw() -> None:
    """E2 holds once in the consultation and once with the customer; both wrap up afterwards."""
    s = Stream()
    consulted_transfer(s)
    s.agent("after_call_work", 60, interaction_id="c1")
    s.agent("ready", 70)
    s.agent("after_call_work", 150, agent="E2", interaction_id="c1")
    s.agent("ready", 175, agent="E2")
    facts, _out, _state = run(s.records())
    irfs = {r["resource_key"]: r for r in facts["interaction_resource_fact"].values()}
    initiator, consulted = irfs[11], irfs[12]
    assert customer(initiator) == (15, 0, 15, 30, 10)  # the customer waits on hold while E1 consults
    assert "cons_rcv_acw_count" not in initiator
    # E2: ring all consultation; talk 101 s of which 21 s consultation; hold 15 s of which 5 s consultation.
    assert customer(consulted) == (0, 0, 101 - 21, 15 - 5, 25)
    assert (consulted["cons_rcv_acw_count"], consulted["cons_rcv_acw_duration"]) == (0, 0)
    assert (consulted["after_call_work_count"], consulted["after_call_work_duration"]) == (1, 25)


def test_a_consultation_that_ends_without_a_transfer_has_consultation_acw() -> None:
    """E2 answers E1's question and hangs up, wraps up; E1 retrieves the customer and finishes the call."""
    s = Stream()
    consultation_rings(s)
    s.voice("established", 34, **CONSULT, other_dn="1001", other_agent_id="E1")
    s.voice("held", 40, **CONSULT)
    s.voice("retrieved", 44, **CONSULT)
    s.voice("released", 50, **CONSULT)
    s.agent("busy", 30, agent="E2", interaction_id="c1")
    s.agent("after_call_work", 50, agent="E2", interaction_id="c1")
    s.agent("ready", 62, agent="E2")
    s.voice("retrieved", 55, **ANSWERED)
    s.voice("released", 90, **ANSWERED)
    facts, _out, _state = run(s.records())
    irfs = {r["resource_key"]: r for r in facts["interaction_resource_fact"].values()}
    initiator, consulted = irfs[11], irfs[12]
    assert customer(initiator) == (15, 0, 15 + 35, 25, 0)
    assert customer(consulted) == (0, 0, 0, 0, 0)  # never had the customer
    assert (consulted["talk_duration"], consulted["hold_duration"]) == (12, 4)
    assert (consulted["cons_rcv_acw_count"], consulted["cons_rcv_acw_duration"]) == (1, 12)
    assert consulted["technical_descriptor_key"] == sk.TD_CONSULT_RECEIVED.key


def test_a_conference_hands_the_customer_to_the_consulted_agent() -> None:
    s = Stream()
    consultation_rings(s)
    s.voice("established", 34, **CONSULT, other_dn="1001", other_agent_id="E1")
    s.voice("retrieved", 50, **ANSWERED)
    s.voice("conferenced", 50, **ANSWERED, other_dn="1002", other_agent_id="E2")
    s.voice("released", 80, **ANSWERED)
    s.voice("released", 120, **CONSULT)
    s.agent("busy", 30, agent="E2", interaction_id="c1")
    s.agent("after_call_work", 120, agent="E2", interaction_id="c1")
    s.agent("ready", 128, agent="E2")
    facts, _out, _state = run(s.records())
    irfs = {r["resource_key"]: r for r in facts["interaction_resource_fact"].values()}
    assert customer(irfs[11]) == (15, 0, 15 + 30, 20, 0)
    assert customer(irfs[12]) == (0, 0, 120 - 50, 0, 8)  # the consultation's 16 s are not the customer's
    assert (irfs[12]["cons_rcv_talk_duration"], irfs[12]["cons_rcv_acw_duration"]) == (16, 0)


def test_a_consultation_ended_before_it_was_answered_has_no_consultation_talk() -> None:
    """E1 completes the transfer while E2 still rings: E2's talk is with the customer only."""
    s = Stream()
    answered, consult = ANSWERED, CONSULT
    consultation_rings(s)
    s.voice("party_changed", 34, **answered, transfer_type="consult", other_dn="1002", other_agent_id="E2")
    s.voice("released", 34, **answered)
    s.voice("established", 36, **consult, other_dn="1001", other_agent_id="E1")
    s.voice("released", 90, dn="1002", agent_id="E2", place="P2")
    facts, _out, _state = run(s.records())
    irfs = {r["resource_key"]: r for r in facts["interaction_resource_fact"].values()}
    assert (irfs[11]["cons_init_dial_duration"], irfs[11]["cons_init_talk_count"]) == (4, 0)
    consulted = irfs[12]
    assert (consulted["talk_duration"], consulted["cons_rcv_talk_count"]) == (54, 0)
    assert consulted["cons_rcv_ring_duration"] == 6


def test_a_consultation_ends_when_either_side_leaves_it() -> None:
    """E2's consult ringing names no initiator; later E3 hangs up on E1's second consultation."""
    s = Stream()
    answered = {"agent_id": "E1", "place": "P1"}
    dial = {**answered, "connection_id": "c1.2", "call_type": "consult"}
    consult = {"connection_id": "c1.2", "call_type": "consult", "dn": "1002", "agent_id": "E2", "place": "P2"}
    s.voice("ringing", 0, **answered)
    s.voice("established", 15, **answered)
    s.voice("held", 30, **answered)
    s.voice("dialing", 30, **dial, other_dn="1003", other_agent_id="E3")
    s.voice("ringing", 30, **{**consult, "agent_id": "E3", "dn": "1003"})
    s.voice("established", 34, **{**consult, "agent_id": "E3", "dn": "1003"}, other_agent_id="E1")
    s.voice("released", 50, dn="1003", agent_id="E3", place="P2")  # E3 hangs up on the consultation
    s.voice("retrieved", 70, **answered)
    s.voice("held", 80, **answered)
    s.voice("dialing", 80, **dial, other_dn="1002", other_agent_id="E2")
    s.voice("ringing", 80, **consult)
    s.voice("established", 84, **consult, other_agent_id="E1")
    s.voice("party_changed", 110, **answered, transfer_type="consult", other_dn="1002", other_agent_id="E2")
    s.voice("released", 110, **answered)
    s.voice("released", 200, dn="1002", agent_id="E2", place="P2")
    state = GspState(T)
    resolver = KeyResolver.fixed(agents={"E1": 11, "E2": 12, "E3": 13})
    facts = final_facts(Processor(state, None, resolver).process(s.records(), now_ms=FAR_FUTURE_MS).facts)
    irfs = {r["resource_key"]: r for r in facts["interaction_resource_fact"].values()}
    assert (irfs[11]["cons_init_dial_count"], irfs[11]["cons_init_dial_duration"]) == (2, 4 + 4)
    assert (irfs[11]["cons_init_talk_count"], irfs[11]["cons_init_talk_duration"]) == (2, 16 + 26)
    assert (irfs[13]["cons_rcv_talk_duration"], irfs[12]["cons_rcv_talk_duration"]) == (16, 26)
    assert irfs[12]["received_from_ixn_resource_id"] == irfs[11]["interaction_resource_id"]
    assert irfs[12]["talk_duration"] == 200 - 84


def test_consultations_in_simulated_traffic_agree_on_both_sides(simulation: Any) -> None:
    """What the initiator spent dialing and talking in a consultation, the consulted agent spent ringing
    and talking in it (the simulated consulted agent never holds during the consultation)."""
    out = Processor(GspState("sim"), None, resolver_for(Roster.synthetic(12, seed=1))).process(
        as_records("sim", simulation), now_ms=FAR_FUTURE_MS
    )
    irfs = final_facts(out.facts)["interaction_resource_fact"]
    by_id = {r["interaction_resource_id"]: r for r in irfs.values()}
    consulted = [r for r in irfs.values() if "cons_rcv_ring_count" in r and r["active_flag"] == 0]
    assert len(consulted) >= 3
    for rcv in consulted:
        init = by_id[rcv["received_from_ixn_resource_id"]]
        assert init["cons_init_dial_duration"] == rcv["cons_rcv_ring_duration"]
        assert init["cons_init_talk_duration"] == rcv["cons_rcv_talk_duration"] > 0
        counts = (init["cons_init_talk_count"], rcv["cons_rcv_talk_count"], rcv["cons_rcv_hold_count"])
        assert counts == (1, 1, 0)


@pytest.fixture(scope="module")
def simulation() -> Any:
    return simulated("sim", hours=3)


def test_one_seven_or_a_hundred_micro_batches_give_identical_facts(simulation: Any) -> None:
    records = as_records("sim", simulation)
    resolver = resolver_for(Roster.synthetic(12, seed=1))
    results = []
    for batches in (1, 7, 100):
        state, facts, dead = GspState("sim"), [], []
        size = -(-len(records) // batches)
        for start in range(0, len(records), size):
            state = loads(dumps(state))  # every batch starts from a checkpoint
            out = Processor(state, None, resolver).process(records[start : start + size])
            facts += out.facts
            dead += out.dead_letters
        facts += Processor(state, None, resolver).process([], now_ms=FAR_FUTURE_MS).facts
        results.append((final_facts(facts), sorted(d.offset for d in dead)))
    assert results[0] == results[1] == results[2]
    reconcile("sim", simulation, results[0][0])
