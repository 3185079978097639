"""The interaction state machine: voice calls (telephony call model) and chats / emails (interaction server).

Events arrive here in event-time order per interaction. Each handler updates the interaction, its legs (one
per agent: INTERACTION_RESOURCE_FACT) and its mediations (one per stay in a queue: MEDIATION_SEGMENT_FACT).
An agent taking part twice in one interaction keeps one leg (its counts and durations add up).

Handlers read an event field once when they need it twice (a local is cheaper than an attribute).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gim_dagster.core.gsp.context import Context
from gim_dagster.core.gsp.keys import fact_id, irf_id
from gim_dagster.core.gsp.rows import interaction_rows
from gim_dagster.core.gsp.state import Interaction, Leg, Mediation
from gim_dagster.core.kafka_io import TP

_ITYPE = {"inbound": "INBOUND", "outbound": "OUTBOUND", "internal": "INTERNAL", "consult": "CONSULT"}
COUNTED_ON_CLOSE = frozenset({"ring", "dial", "hold", "cons_rcv_hold"})
"""Interval kinds counted when they close; talk is counted when established (a retrieve resumes it).

A consultation adds intervals of its own (CONS_* columns): on the initiator's leg ``cons_dial`` (from dialing
the consultation until it is answered) and ``cons_talk`` (from then until the initiator retrieves the
customer, transfers or leaves, or the consulted agent hangs up); on the consulted agent's leg
``cons_rcv_talk`` and ``cons_rcv_hold`` (the part of its talk and hold before the consultation ends). Ring,
talk and hold keep counting as before. ``handover`` counts the transfers and conferences that handed a
consulted agent still on the line the customer (its after-call work is then the customer's, not the
consultation's)."""


def _close(leg: Leg, kind: str, ts: int) -> None:
    start = leg.open.pop(kind, None)
    if start is None:
        return
    leg.secs[kind] = leg.secs.get(kind, 0) + ts // 1000 - start // 1000
    if kind in COUNTED_ON_CLOSE:
        leg.counts[kind] = leg.counts.get(kind, 0) + 1


def _close_all(leg: Leg, ts: int) -> None:
    for kind in list(leg.open):
        _close(leg, kind, ts)


def _open(leg: Leg, kind: str, ts: int) -> None:
    if kind not in leg.open:
        leg.open[kind] = ts


def _count(leg: Leg, kind: str) -> None:
    leg.counts[kind] = leg.counts.get(kind, 0) + 1


class InteractionMachine:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tenant = ctx.tenant
        self.open = ctx.state.interactions
        self.timeout = ctx.config.interaction_timeout_ms
        self.dirty = ctx.dirty_interactions

    # --- entry points --------------------------------------------------------------------------------

    def apply_voice(self, ev: Any, tp: TP) -> str | None:
        """Apply one voice event; returns a dead-letter reason if it cannot belong to any interaction."""
        return self._apply(ev, ev.call_id, tp, "voice", ev.call_type, _VOICE_HANDLERS)

    def apply_digital(self, ev: Any, tp: TP) -> str | None:
        return self._apply(ev, ev.interaction_id, tp, ev.media, "inbound", _DIGITAL_HANDLERS)

    def _apply(
        self,
        ev: Any,
        ixn_id: str,
        tp: TP,
        media: str,
        call_type: str,
        handlers: dict[str, _Handler],
    ) -> str | None:
        ts = ev.ts
        ixn = self.open.get(ixn_id)
        if ixn is None or ts > ixn.last_ms + self.timeout:  # else the fast path: open and not timed out
            ixn = self._interaction(ixn_id, ts, tp, media, call_type)
            if isinstance(ixn, str):
                return ixn
        handlers[ev.event_type](self, ixn, ev)
        if ts > ixn.last_ms:
            ixn.last_ms = ts
        self.dirty.add(ixn.ixn_id)
        return None

    def close_stale(self, frontiers: dict[TP, int]) -> None:
        """Close interactions silent for longer than the timeout, as of their partition's frontier."""
        timeout = self.timeout
        stale = [i for i in self.open.values() if i.last_ms + timeout < frontiers[i.tp]]
        for ixn in stale:
            self._time_out(ixn)

    # --- lookup and closing ------------------------------------------------------------------------------

    def _interaction(self, ixn_id: str, ts: int, tp: TP, media: str, call_type: str) -> Interaction | str:
        """The open interaction an event belongs to (started if new), or why it belongs to none."""
        ixn = self.open.get(ixn_id)
        if ixn is not None:
            if ts <= ixn.last_ms + self.timeout:
                return ixn
            self._time_out(ixn)
        reason = self._after_end(ixn_id, ts)
        if reason:
            return reason
        self._emit_earlier(ixn_id)
        ixn = Interaction(ixn_id, fact_id(self.tenant, "ixn", ixn_id), media, _ITYPE[call_type], ts, ts, tp)
        self.open[ixn_id] = ixn
        return ixn

    def _emit_earlier(self, ixn_id: str) -> None:
        """Emit the final rows of an earlier interaction with this id that closed in this batch, now.

        The batch's emission only sees the newest interaction per id, so without this the earlier one's
        final rows would be lost when both fall in one batch and kept when a batch ends between them.
        """
        state = self.ctx.state
        earlier = state.closed.get(ixn_id)
        if earlier is not None and ixn_id in self.dirty:
            self.ctx.rows += interaction_rows(earlier, state.acw, self.ctx.resolver)

    def retained_until(self, ixn: Interaction) -> int:
        """Until when (event time) stray events of a closed interaction are dead-lettered."""
        assert ixn.end_ms is not None
        config = self.ctx.config
        return (
            ixn.end_ms + config.closed_retention_ms + (config.interaction_timeout_ms if ixn.timed_out else 0)
        )

    def _after_end(self, ixn_id: str, ts: int) -> str | None:
        state = self.ctx.state
        closed = state.closed.get(ixn_id)
        until = (
            self.retained_until(closed) if closed is not None else state.tombstones.get(ixn_id, (None,))[0]
        )
        if until is None or ts > until:
            return None
        return f"event after its interaction {ixn_id} ended"

    def _end(
        self, ixn: Interaction, ts: int, leg_result: str = "abandoned", med_outcome: str = "abandoned"
    ) -> None:
        ixn.end_ms = ts
        for med in ixn.mediations:
            if med.end_ms is None:
                med.end_ms, med.outcome = ts, med_outcome
        for leg in ixn.legs.values():
            if leg.end_ms is None:
                _close_all(leg, ts)
                leg.end_ms, leg.result = ts, leg.result or leg_result
        del self.open[ixn.ixn_id]
        self.ctx.state.closed[ixn.ixn_id] = ixn
        self.dirty.add(ixn.ixn_id)

    def _time_out(self, ixn: Interaction) -> None:
        ixn.timed_out = True
        self.ctx.stats["interactions_timed_out"] += 1
        self._end(ixn, ixn.last_ms, leg_result="timeout", med_outcome="timeout")

    # --- shared steps --------------------------------------------------------------------------------------

    def _leg(self, ixn: Interaction, agent_id: str, place: str | None, role: str, ts: int) -> Leg:
        leg = ixn.legs.get(agent_id)
        if leg is not None:
            leg.end_ms = leg.result = None
            return leg
        key = irf_id(self.tenant, ixn.ixn_id, agent_id)
        prev = max(ixn.legs.values(), key=lambda g: g.order, default=None)
        leg = Leg(key, agent_id, place, role, len(ixn.legs) + 1, ts, prev=prev.irf_id if prev else None)
        for med in ixn.mediations:
            if med.target_irf == key:
                leg.mediation_id, leg.mediation_queue = med.msf_id, med.queue
        ixn.legs[agent_id] = leg
        ixn.connected.add(agent_id)
        return leg

    def _open_mediation(self, ixn: Interaction, ev: Any) -> None:
        ixn.requeue_pending = False
        ixn.mediations.append(Mediation(fact_id(self.tenant, "msf", ev.event_id), ev.queue, ev.ts))

    def _close_mediation(self, ixn: Interaction, ts: int, outcome: str, agent_id: str | None = None) -> None:
        for med in reversed(ixn.mediations):
            if med.end_ms is None:
                med.end_ms, med.outcome = ts, outcome
                if agent_id:
                    med.target_irf = irf_id(self.tenant, ixn.ixn_id, agent_id)
                return

    def _leave(self, ixn: Interaction, leg: Leg, ts: int, result: str) -> None:
        _close_all(leg, ts)
        leg.end_ms = ts
        leg.result = leg.result or result
        ixn.connected.discard(leg.agent_id)

    def _agent_leg(self, ixn: Interaction, ev: Any) -> Leg:
        """The leg of the event's agent (created if its first events were lost)."""
        leg = ixn.legs.get(ev.agent_id)
        return leg if leg is not None else self._leg(ixn, ev.agent_id, ev.place, "received", ev.ts)

    # --- voice ---------------------------------------------------------------------------------------------

    def _queued(self, ixn: Interaction, ev: Any) -> None:
        if ixn.source is None and ixn.media == "voice":
            ixn.source, ixn.target = ev.ani, ev.dnis or getattr(ev, "routing_point", None)
        self._open_mediation(ixn, ev)

    def _diverted(self, ixn: Interaction, ev: Any) -> None:
        self._close_mediation(ixn, ev.ts, "routed", ev.other_agent_id)

    def _voice_abandoned(self, ixn: Interaction, ev: Any) -> None:
        if ev.agent_id and ev.agent_id in ixn.legs:
            leg = ixn.legs[ev.agent_id]
            self._leave(ixn, leg, ev.ts, "abandoned")
            for med in ixn.mediations:
                if med.msf_id == leg.mediation_id:
                    med.outcome = "abandoned_ringing"
        self._end(ixn, ev.ts)

    def _ringing(self, ixn: Interaction, ev: Any) -> None:
        consult, ts = ev.call_type == "consult", ev.ts
        leg = self._leg(ixn, ev.agent_id, ev.place, "consult" if consult else "received", ts)
        if consult:
            other = ixn.legs.get(ev.other_agent_id) if ev.other_agent_id else None
            if other is not None:
                leg.received_from = other.irf_id
        _open(leg, "ring", ts)

    def _dialing(self, ixn: Interaction, ev: Any) -> None:
        if ev.call_type == "consult":
            leg = self._agent_leg(ixn, ev)
            _count(leg, "cons_dial")
            _open(leg, "cons_dial", ev.ts)
            return
        if not ixn.legs:
            ixn.source, ixn.target = ev.ani or ev.dn, ev.dnis or ev.other_dn
        _open(self._leg(ixn, ev.agent_id, ev.place, "initiated", ev.ts), "dial", ev.ts)

    def _established(self, ixn: Interaction, ev: Any) -> None:
        leg, ts = self._agent_leg(ixn, ev), ev.ts
        _close(leg, "ring", ts)
        _close(leg, "dial", ts)
        _count(leg, "talk")
        _open(leg, "talk", ts)
        consult = ev.call_type == "consult" and ev.other_agent_id
        initiator = ixn.legs.get(ev.other_agent_id) if consult else None
        if initiator is not None and "cons_dial" in initiator.open:  # else the consultation is over already
            _close(initiator, "cons_dial", ts)
            _count(initiator, "cons_talk")
            _open(initiator, "cons_talk", ts)
            _count(leg, "cons_rcv_talk")
            _open(leg, "cons_rcv_talk", ts)
            leg.received_from = initiator.irf_id  # also when its ringing did not name the initiator

    def _held(self, ixn: Interaction, ev: Any) -> None:
        leg, ts = self._agent_leg(ixn, ev), ev.ts
        _close(leg, "talk", ts)
        _open(leg, "hold", ts)
        if "cons_rcv_talk" in leg.open:
            _close(leg, "cons_rcv_talk", ts)
            _open(leg, "cons_rcv_hold", ts)

    def _retrieved(self, ixn: Interaction, ev: Any) -> None:
        leg, ts = self._agent_leg(ixn, ev), ev.ts
        _close(leg, "hold", ts)
        _open(leg, "talk", ts)
        if "cons_rcv_hold" in leg.open:
            _close(leg, "cons_rcv_hold", ts)
            _open(leg, "cons_rcv_talk", ts)
        self._end_consultation(ixn, leg, ts)  # the initiator is back with the customer

    def _end_consultation(self, ixn: Interaction, initiator: Leg, ts: int) -> None:
        """Close the consultation ``initiator`` started, on its leg and on the consulted agent's."""
        if "cons_dial" not in initiator.open and "cons_talk" not in initiator.open:
            return
        _close(initiator, "cons_dial", ts)
        _close(initiator, "cons_talk", ts)
        for leg in ixn.legs.values():
            if leg.received_from == initiator.irf_id:
                _close(leg, "cons_rcv_talk", ts)
                _close(leg, "cons_rcv_hold", ts)

    def _hand_over(self, ixn: Interaction, initiator: Leg) -> None:
        """The agents ``initiator`` consulted, still on the line, get the customer (transfer, conference)."""
        for leg in ixn.legs.values():
            if leg.received_from == initiator.irf_id and leg.agent_id in ixn.connected:
                _count(leg, "handover")

    def _party_changed(self, ixn: Interaction, ev: Any) -> None:
        leg = self._agent_leg(ixn, ev)
        leg.result = "transferred"
        self._end_consultation(ixn, leg, ev.ts)
        if ev.transfer_type == "blind":
            ixn.requeue_pending = True
        else:
            self._hand_over(ixn, leg)

    def _conferenced(self, ixn: Interaction, ev: Any) -> None:
        leg = self._agent_leg(ixn, ev)
        leg.conferenced = True
        self._end_consultation(ixn, leg, ev.ts)
        self._hand_over(ixn, leg)
        other = ixn.legs.get(ev.other_agent_id)
        if other is not None:
            other.conferenced = True

    def _released(self, ixn: Interaction, ev: Any) -> None:
        leg, ts = self._agent_leg(ixn, ev), ev.ts
        self._end_consultation(ixn, leg, ts)
        if "cons_rcv_talk" in leg.open or "cons_rcv_hold" in leg.open:  # the consulted agent hangs up
            for initiator in ixn.legs.values():
                if initiator.irf_id == leg.received_from:
                    self._end_consultation(ixn, initiator, ts)
        answered = leg.counts.get("talk", 0) > 0
        self._leave(ixn, leg, ts, "completed" if answered or leg.role != "initiated" else "no_answer")
        if not ixn.connected and not ixn.requeue_pending:
            self._end(ixn, ts)

    # --- digital -------------------------------------------------------------------------------------------

    def _submitted(self, ixn: Interaction, ev: Any) -> None:
        ixn.source, ixn.target = ev.from_address, ev.to_address
        ixn.subject = ev.user_data.get("subject")

    def _offered(self, ixn: Interaction, ev: Any) -> None:
        ts, agent_id = ev.ts, ev.agent_id
        self._close_mediation(ixn, ts, "routed", agent_id)
        _open(self._leg(ixn, agent_id, ev.place, "received", ts), "ring", ts)

    def _accepted(self, ixn: Interaction, ev: Any) -> None:
        leg, ts = self._agent_leg(ixn, ev), ev.ts
        _close(leg, "ring", ts)
        _count(leg, "talk")
        _open(leg, "talk", ts)

    def _rejected(self, ixn: Interaction, ev: Any) -> None:
        self._leave(ixn, self._agent_leg(ixn, ev), ev.ts, "rejected")

    def _transferred(self, ixn: Interaction, ev: Any) -> None:
        self._leave(ixn, self._agent_leg(ixn, ev), ev.ts, "transferred")

    def _completed(self, ixn: Interaction, ev: Any) -> None:
        if ev.reason == "done" and ev.agent_id:
            self._leave(ixn, self._agent_leg(ixn, ev), ev.ts, "completed")
        self._end(ixn, ev.ts, med_outcome="stopped" if ev.reason == "stopped" else "abandoned")


_Handler = Callable[[InteractionMachine, Interaction, Any], None]
# Plain functions, not bound methods kept on the machine: those would make every machine (and through its
# context the whole state) cyclic garbage, freed only by a full collection.
_VOICE_HANDLERS: dict[str, _Handler] = {
    "queued": InteractionMachine._queued,
    "diverted": InteractionMachine._diverted,
    "abandoned": InteractionMachine._voice_abandoned,
    "ringing": InteractionMachine._ringing,
    "dialing": InteractionMachine._dialing,
    "established": InteractionMachine._established,
    "held": InteractionMachine._held,
    "retrieved": InteractionMachine._retrieved,
    "party_changed": InteractionMachine._party_changed,
    "conferenced": InteractionMachine._conferenced,
    "released": InteractionMachine._released,
}
_DIGITAL_HANDLERS: dict[str, _Handler] = {
    "submitted": InteractionMachine._submitted,
    "queued": InteractionMachine._queued,
    "offered": InteractionMachine._offered,
    "accepted": InteractionMachine._accepted,
    "rejected": InteractionMachine._rejected,
    "transferred": InteractionMachine._transferred,
    "completed": InteractionMachine._completed,
}
