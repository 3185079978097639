"""A reference consumer: recompute the ledger from events, and check that events come in a valid order.

Independent of the simulator's own bookkeeping (it only reads events), so comparing its output with the ledger
tests both; it is also a readable statement of the rules the GSP must follow to reconcile with the ledger.
Input: the clean events (duplicates and malformed records removed) of one run, in any order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from gim_dagster.core.events.models import AgentBase, DigitalBase, Envelope, VoiceBase

_STATE_OF = {"ready": "READY", "not_ready": "NOTREADY", "busy": "BUSY", "after_call_work": "ACW"}


def _s(ts: int) -> int:
    return ts // 1000


@dataclass
class _Party:
    """One agent's part in one interaction, rebuilt from events."""

    order: int
    open: dict[str, int] = field(default_factory=dict)
    secs: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("ring", "dial", "talk", "hold", "acw"), 0)
    )
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("ring", "dial", "talk", "hold", "acw"), 0)
    )
    flags: dict[str, object] = field(
        default_factory=lambda: {
            "transferred": False,
            "transfer_type": None,
            "conferenced": False,
            "consult_received": False,
            "rejected": False,
        }
    )

    def start(self, kind: str, ts: int, count: bool = True) -> None:
        self.open[kind] = ts
        if count:
            self.counts[kind] += 1

    def stop(self, kind: str, ts: int) -> None:
        if kind in self.open:
            self.secs[kind] += _s(ts) - _s(self.open.pop(kind))


def recompute(events: Iterable[Envelope]) -> dict[str, list[dict[str, object]]]:
    """Ledger rows (same columns as ``ledger.SCHEMAS``, except ms columns and faults) rebuilt from events."""
    ordered = sorted(events, key=lambda e: e.seq)
    ixns: dict[str, dict[str, object]] = {}
    parties: dict[str, dict[str, _Party]] = defaultdict(dict)
    meds: dict[str, list[dict[str, object]]] = defaultdict(list)
    states: list[dict[str, object]] = []
    sessions: dict[str, dict[str, object]] = {}
    current: dict[tuple[str, str], tuple[str, str | None, str | None, int, str]] = {}
    for ev in ordered:
        if isinstance(ev, VoiceBase):
            _voice(ev, ixns, parties[ev.call_id], meds[ev.call_id])
        elif isinstance(ev, DigitalBase):
            _digital(ev, ixns, parties[ev.interaction_id], meds[ev.interaction_id])
        elif isinstance(ev, AgentBase):
            _agent(ev, current, states, sessions, parties)
    handlings = [
        {
            "interaction_id": iid,
            "agent_id": aid,
            "media": ixns[iid]["media"],
            "order": p.order,
            **{f"{k}_s": v for k, v in p.secs.items()},
            **{f"{k}_count": v for k, v in p.counts.items()},
            **p.flags,
        }
        for iid, by_agent in parties.items()
        for aid, p in by_agent.items()
    ]
    for iid, row in ixns.items():
        row["agents"] = list(parties[iid])
        row["queue"] = meds[iid][0]["queue"] if meds[iid] else None
        row["queue_s"] = sum(int(m["duration_s"]) for m in meds[iid])  # type: ignore[call-overload]
        row["mediation_count"] = len(meds[iid])
        row["duration_s"] = int(row["end_s"]) - int(row["start_s"])  # type: ignore[call-overload]
    mediations = [
        {"interaction_id": iid, "order": n, **m} for iid, ms in meds.items() for n, m in enumerate(ms, 1)
    ]
    return {
        "interactions": list(ixns.values()),
        "handlings": handlings,
        "mediations": mediations,
        "agent_states": states,
        "agent_sessions": list(sessions.values()),
    }


def _touch(
    ixns: dict[str, dict[str, object]], iid: str, media: str, call_type: str, ts: int
) -> dict[str, object]:
    row = ixns.get(iid)
    if row is None:
        row = ixns[iid] = {
            "interaction_id": iid,
            "media": media,
            "call_type": call_type,
            "start_s": _s(ts),
            "abandoned": False,
            "abandon_where": None,
            "result": None,
            "transfers": 0,
        }
    row["end_s"] = _s(ts)
    return row


def _party(parties: dict[str, _Party], agent_id: str) -> _Party:
    if agent_id not in parties:
        parties[agent_id] = _Party(order=len(parties) + 1)
    return parties[agent_id]


def _close_mediation(meds: list[dict[str, object]], ts: int, outcome: str, agent_id: str | None) -> None:
    med = meds[-1]
    med.update(end_s=_s(ts), duration_s=_s(ts) - int(med["start_s"]), outcome=outcome, agent_id=agent_id)  # type: ignore[call-overload]


def _voice(ev: VoiceBase, ixns: dict, parties: dict[str, _Party], meds: list) -> None:  # type: ignore[type-arg]
    row = _touch(
        ixns, ev.call_id, "voice", ev.call_type, ev.ts
    )  # the first event of a call has its main type
    t, ts = ev.event_type, ev.ts  # type: ignore[attr-defined]
    if t == "queued":
        meds.append({"queue": ev.queue, "virtual_queue": ev.virtual_queue, "start_s": _s(ts)})
        return
    if t == "diverted":
        _close_mediation(meds, ts, "routed", ev.other_agent_id)
        return
    if t == "abandoned" and ev.agent_id is None:
        _close_mediation(meds, ts, "abandoned", None)
        row.update(abandoned=True, abandon_where="queue", result="abandoned")
        return
    assert ev.agent_id is not None
    p = _party(parties, ev.agent_id)
    if t == "ringing":
        p.start("ring", ts)
        p.flags["consult_received"] = ev.call_type == "consult"
    elif t == "dialing" and ev.call_type != "consult":
        row["result"] = "no_answer"  # until the called party answers
        p.start("dial", ts)
    elif t == "established":
        row["result"] = "completed"
        p.stop("ring", ts)
        p.stop("dial", ts)
        p.start("talk", ts)
    elif t == "held":
        p.stop("talk", ts)
        p.start("hold", ts)
    elif t == "retrieved":
        p.stop("hold", ts)
        p.start("talk", ts, count=False)
    elif t == "party_changed":
        p.flags.update(transferred=True, transfer_type=ev.transfer_type)  # type: ignore[attr-defined]
        row["transfers"] = int(row["transfers"]) + 1  # type: ignore[call-overload]
    elif t == "conferenced":
        p.flags["conferenced"] = True
        _party(parties, ev.other_agent_id or "").flags["conferenced"] = True
        row["transfers"] = int(row["transfers"]) + 1  # type: ignore[call-overload]
    elif t == "abandoned":  # the caller hung up while ringing at the agent
        p.stop("ring", ts)
        row.update(abandoned=True, abandon_where="ringing", result="abandoned")
    elif t == "released":
        for kind in ("ring", "dial", "talk", "hold"):
            p.stop(kind, ts)


def _digital(ev: DigitalBase, ixns: dict, parties: dict[str, _Party], meds: list) -> None:  # type: ignore[type-arg]
    row = _touch(ixns, ev.interaction_id, ev.media, "inbound", ev.ts)
    t, ts = ev.event_type, ev.ts  # type: ignore[attr-defined]
    if t == "queued":
        meds.append({"queue": ev.queue, "virtual_queue": ev.virtual_queue, "start_s": _s(ts)})
    elif t == "offered":
        _close_mediation(meds, ts, "routed", ev.agent_id)
        _party(parties, ev.agent_id or "").start("ring", ts)
    elif t == "accepted":
        p = _party(parties, ev.agent_id or "")
        p.stop("ring", ts)
        p.start("talk", ts)
    elif t == "rejected":
        p = _party(parties, ev.agent_id or "")
        p.stop("ring", ts)
        p.flags["rejected"] = True
    elif t == "transferred":
        p = _party(parties, ev.agent_id or "")
        p.stop("talk", ts)
        p.flags.update(transferred=True, transfer_type="blind")
        row["transfers"] = int(row["transfers"]) + 1  # type: ignore[call-overload]
    elif t == "completed":
        reason = ev.reason  # type: ignore[attr-defined]
        if reason == "done":
            _party(parties, ev.agent_id or "").stop("talk", ts)
            row["result"] = "completed"
        else:
            _close_mediation(meds, ts, reason, None)
            row["result"] = reason
            if reason == "abandoned":
                row.update(abandoned=True, abandon_where="queue")


def _agent(ev: AgentBase, current: dict, states: list, sessions: dict, parties: dict) -> None:  # type: ignore[type-arg]
    key = (ev.agent_id, ev.media)
    t, ts = ev.event_type, ev.ts  # type: ignore[attr-defined]
    if key in current:  # every state event and logout closes the current state interval
        state, reason, iid, start, session_id = current.pop(key)
        states.append(
            {
                "agent_id": ev.agent_id,
                "session_id": session_id,
                "media": ev.media,
                "state": state,
                "reason_code": reason,
                "interaction_id": iid,
                "start_s": _s(start),
                "end_s": _s(ts),
                "duration_s": _s(ts) - _s(start),
            }
        )
        if state == "ACW" and iid is not None:
            p = parties[iid][ev.agent_id]
            p.secs["acw"] += _s(ts) - _s(start)
            p.counts["acw"] += 1
    if t == "login":
        sessions[ev.session_id] = {
            "agent_id": ev.agent_id,
            "session_id": ev.session_id,
            "media": ev.media,
            "login_code": ev.login_code,
            "place": ev.place,
            "dn": ev.dn,
            "login_s": _s(ts),
        }
    elif t == "logout":
        row = sessions[ev.session_id]
        row.update(logout_s=_s(ts), duration_s=_s(ts) - int(row["login_s"]))
    else:
        current[key] = (
            _STATE_OF[t],
            getattr(ev, "reason_code", None),
            getattr(ev, "interaction_id", None),
            ts,
            ev.session_id,
        )


# --- order validation ------------------------------------------------------------------------------------

# Per agent party of a call: allowed (state, event) -> next state.
_VOICE_PARTY = {
    (None, "ringing"): "ringing",
    (None, "dialing"): "dialing",
    ("ringing", "established"): "talking",
    ("ringing", "abandoned"): "done",
    ("dialing", "established"): "talking",
    ("dialing", "released"): "done",
    ("talking", "held"): "held",
    ("held", "retrieved"): "talking",
    ("held", "dialing"): "held",
    ("held", "party_changed"): "held",
    ("talking", "party_changed"): "talking",
    ("talking", "conferenced"): "talking",
    ("talking", "released"): "done",
    ("held", "released"): "done",
}
_DIGITAL = {
    (None, "submitted"): "new",
    ("new", "queued"): "queued",
    ("queued", "offered"): "offered",
    ("queued", "completed"): "done",
    ("offered", "accepted"): "accepted",
    ("offered", "rejected"): "rejected",
    ("rejected", "queued"): "queued",
    ("accepted", "transferred"): "transferred",
    ("transferred", "queued"): "queued",
    ("accepted", "completed"): "done",
}


@dataclass
class _CallTrack:
    """Whether a call is still going: an agent is on it, it waits in a queue, or it is being transferred."""

    connected: set[str] = field(default_factory=set)
    queued: bool = False
    transferring: bool = False
    delivering: bool = False
    ended: bool = False

    def update(self, ev: VoiceBase) -> None:
        t = ev.event_type  # type: ignore[attr-defined]
        if t == "queued":
            self.queued, self.transferring = True, False
        elif t == "diverted":
            self.queued, self.delivering = False, True
        elif t == "ringing":
            self.delivering = False
        elif t == "abandoned" and ev.agent_id is None:
            self.queued = False
        elif t == "party_changed" and ev.transfer_type == "blind":  # type: ignore[attr-defined]
            self.transferring = True
        self.ended = not (self.connected or self.queued or self.transferring or self.delivering)


def order_problems(events: Iterable[Envelope]) -> list[str]:
    """Everything wrong with the order of a run's clean events (empty when the order is valid)."""
    problems: list[str] = []
    ordered = sorted(events, key=lambda e: e.seq)
    for a, b in pairwise(ordered):
        if b.ts < a.ts:
            problems.append(f"{b.event_id}: ts goes back in seq order")
    party: dict[tuple[str, str], str | None] = {}
    calls: dict[str, _CallTrack] = defaultdict(_CallTrack)
    digital: dict[str, str | None] = {}
    agent_state: dict[tuple[str, str], str | None] = {}
    on_call: dict[str, str] = {}
    for ev in ordered:
        t = ev.event_type  # type: ignore[attr-defined]
        if isinstance(ev, VoiceBase):
            call = calls[ev.call_id]
            if call.ended:
                problems.append(f"{ev.event_id}: {t} after the end of call {ev.call_id}")
            if ev.agent_id is not None:
                key = (ev.call_id, ev.agent_id)
                nxt = _VOICE_PARTY.get((party.get(key), t))
                if nxt is None:
                    problems.append(f"{ev.event_id}: {t} at agent {ev.agent_id} in state {party.get(key)}")
                party[key] = nxt
                busy_with = on_call.get(ev.agent_id)
                if t in ("ringing", "dialing") and busy_with not in (None, ev.call_id):
                    problems.append(
                        f"{ev.event_id}: agent {ev.agent_id} rings on {ev.call_id} while on {busy_with}"
                    )
                on_call[ev.agent_id] = ev.call_id
                call.connected.add(ev.agent_id)
                if nxt == "done":
                    on_call.pop(ev.agent_id, None)
                    call.connected.discard(ev.agent_id)
            call.update(ev)
        elif isinstance(ev, DigitalBase):
            state = _DIGITAL.get((digital.get(ev.interaction_id), t))
            if state is None:
                problems.append(
                    f"{ev.event_id}: {t} of {ev.interaction_id} in state {digital.get(ev.interaction_id)}"
                )
            digital[ev.interaction_id] = state
        elif isinstance(ev, AgentBase):
            key = (ev.agent_id, ev.media)
            logged_in = key in agent_state
            if (t == "login") == logged_in:
                problems.append(f"{ev.event_id}: {t} of {key} while {'in' if logged_in else 'out'}")
            if t == "after_call_work" and agent_state.get(key) != "busy":
                problems.append(f"{ev.event_id}: after_call_work of {key} not after busy")
            if t in ("busy", "after_call_work") and ev.media != "voice":
                problems.append(f"{ev.event_id}: {t} on {ev.media}")
            if t == "logout":
                agent_state.pop(key, None)
            else:
                agent_state[key] = None if t == "login" else t
    problems += [f"call {k[0]} left open at agent {k[1]}" for k, v in party.items() if v != "done"]
    problems += [f"{iid} left open in state {v}" for iid, v in digital.items() if v != "done"]
    problems += [f"agent {k} still logged in" for k in agent_state]
    return problems
