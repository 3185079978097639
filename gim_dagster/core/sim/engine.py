"""Discrete-event simulation of one tenant's contact centre: the clean event stream and what truly happened.

One clock (``now``, UTC ms) drives everything; events are emitted only at ``now``, so the emission order is
the true order and becomes each event's ``seq``. Every emitted state change is recorded at the same moment
in the truth objects (``Interaction``, ``Handling``, ``StateRow``, ``SessionRow``) from which the ledger is
built. Linear sequences (a call at an agent) are generators yielding the delay to their next step.

Modelling choices worth knowing (also in docs/events.md):
- an agent handles an interaction at most once (routing never offers it twice to the same agent);
- voice agents have one call at a time; chat and email are separate media with capacities 3 and 2; media are
  independent of each other (a blended agent could talk and chat at once);
- agent states BUSY and ACW exist for voice only; digital media are READY or NOTREADY;
- after the window, no new arrivals: agents finish what is waiting for them and log out; digital interactions
  that nobody logged in can take are stopped (``completed`` with reason ``stopped``).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from gim_dagster.core.sim.params import HOUR_MS, TrafficParams, expected_arrivals, poisson_arrivals
from gim_dagster.core.sim.roster import Agent, Media, Queue, Roster

SEC = 1000
MIN = 60 * SEC
CAPACITY: dict[str, int] = {"voice": 1, "chat": 3, "email": 2}
SHIFT_MS = 8 * HOUR_MS + 30 * MIN
BREAKS = ((2 * HOUR_MS, 15 * MIN), (4 * HOUR_MS, 30 * MIN), (6 * HOUR_MS + 30 * MIN, 15 * MIN))
_STATE_EVENT = {"READY": "ready", "NOTREADY": "not_ready", "BUSY": "busy", "ACW": "after_call_work"}

# A clean event before serialisation: (ts, topic kind, key, event_type, fields without None values).
RawEvent = tuple[int, str, str, str, dict[str, object]]


@dataclass
class Handling:
    """One agent's part in one interaction; intervals are (start_ms, end_ms), ``cons_rcv_talk`` the part of a
    consulted agent's talk before the consultation handed it the customer."""

    agent_id: str
    order: int
    intervals: dict[str, list[tuple[int, int]]] = field(
        default_factory=lambda: {k: [] for k in ("ring", "dial", "talk", "hold", "acw", "cons_rcv_talk")}
    )
    opened: dict[str, int] = field(default_factory=dict)
    talk_count: int = 0
    transferred: bool = False
    transfer_type: str | None = None
    conferenced: bool = False
    consult_received: bool = False
    rejected: bool = False
    handed_over: bool = False  # a consulted agent the transfer or conference gave the customer

    @property
    def consult_only(self) -> bool:
        """A consulted agent that never had the customer: all its time is the consultation's."""
        return self.consult_received and not self.handed_over

    def open(self, kind: str, t: int) -> None:
        self.opened[kind] = t

    def close(self, kind: str, t: int) -> None:
        self.intervals[kind].append((self.opened.pop(kind), t))

    def close_all(self, t: int) -> None:
        for kind in list(self.opened):
            self.close(kind, t)


@dataclass
class Mediation:
    queue: str
    virtual_queue: str | None
    start: int
    end: int | None = None
    outcome: str | None = None  # routed, abandoned, stopped
    agent_id: str | None = None


@dataclass
class Interaction:
    id: str
    media: Media
    call_type: str
    start: int
    customer: str  # caller number / customer address
    end: int | None = None
    result: str | None = None  # completed, abandoned, stopped, no_answer
    abandon_where: str | None = None  # queue, ringing
    mediations: list[Mediation] = field(default_factory=list)
    handlings: dict[str, Handling] = field(default_factory=dict)
    transfers: int = 0
    deadline: int | None = None  # when the customer gives up waiting
    waiting_in: QueueState | None = None
    wait_token: int = 0
    connections: int = 1
    parties: list[str] = field(default_factory=list)

    @property
    def main_connection(self) -> str:
        return f"{self.id}.1"


@dataclass
class StateRow:
    agent_id: str
    session_id: str
    media: str
    state: str
    reason_code: str | None
    interaction_id: str | None
    start: int
    end: int


@dataclass
class SessionRow:
    agent_id: str
    session_id: str
    media: str
    login_code: str
    place: str
    dn: str | None
    login: int
    logout: int | None = None


@dataclass(eq=False)
class AgentMedia:
    """One agent on one media: its login session, state and current work."""

    agent: Agent
    media: Media
    queues: list[QueueState] = field(default_factory=list)
    session: SessionRow | None = None
    state: str | None = None
    reason: str | None = None
    state_ixn: Interaction | None = None
    state_start: int = 0
    ready_since: int = 0
    call: Interaction | None = None  # voice: the call being rung, talked or wrapped up
    active: set[str] = field(default_factory=set)  # digital: interactions offered or accepted
    leaving: bool = False
    break_pending: tuple[str, int] | None = None
    break_token: int = 0

    @property
    def id(self) -> str:
        return self.agent.employee_id

    @property
    def idle(self) -> bool:
        return self.call is None and not self.active


@dataclass(eq=False)
class QueueState:
    queue: Queue
    servers: list[AgentMedia] = field(default_factory=list)
    waiting: deque[tuple[int, Interaction]] = field(default_factory=deque)
    n_waiting: int = 0

    def live(self) -> Iterator[Interaction]:
        """Waiting interactions, oldest first (entries of interactions that left are dropped lazily)."""
        while self.waiting and not self._is_live(self.waiting[0]):
            self.waiting.popleft()
        for entry in self.waiting:
            if self._is_live(entry):
                yield entry[1]

    def _is_live(self, entry: tuple[int, Interaction]) -> bool:
        token, ixn = entry
        return ixn.waiting_in is self and ixn.wait_token == token


class Simulator:
    """Runs the simulation once; ``run()`` returns the clean events in true order."""

    def __init__(self, roster: Roster, params: TrafficParams) -> None:
        self.roster = roster
        self.p = params
        self.run_id = params.run_id([a.employee_id for a in roster.agents])
        self.rng = random.Random(f"behaviour-{params.seed}")
        self.now = params.start_ms
        self.horizon = params.end_ms
        self.draining = False
        self.events: list[RawEvent] = []
        self.interactions: list[Interaction] = []
        self.states: list[StateRow] = []
        self.sessions: list[SessionRow] = []
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._ids = {m: itertools.count(1) for m in ("v", "c", "e", "s")}
        self.queues = {q.name: QueueState(q) for q in roster.queues}
        self.members: list[AgentMedia] = []
        for agent in roster.agents:
            for media in roster.media_of(agent):
                am = AgentMedia(agent, media)
                for qs in self.queues.values():
                    if qs.queue.media == media and qs.queue.skill in agent.skill_names:
                        qs.servers.append(am)
                        am.queues.append(qs)
                self.members.append(am)

    # --- scheduler ---------------------------------------------------------------------------------------

    def at(self, t: int, fn: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (t, next(self._order), fn))

    def spawn(self, process: Iterator[int]) -> None:
        """Run a generator process now; each yielded number is the delay (ms) to its next step."""

        def step() -> None:
            delay = next(process, None)
            if delay is not None:
                self.at(self.now + delay, step)

        step()

    def run(self, progress: Callable[[float], None] | None = None) -> list[RawEvent]:
        self._schedule_arrivals()
        self._schedule_shifts()
        self.at(self.horizon, self._horizon_reached)
        span = self.horizon - self.p.start_ms
        steps = 0
        while self._heap:
            self.now, _, fn = heapq.heappop(self._heap)
            fn()
            steps += 1
            if progress is not None and steps % 2000 == 0:
                progress(min(1.0, (self.now - self.p.start_ms) / span))
        self._check_closed()
        return self.events

    def _check_closed(self) -> None:
        open_ixns = [i.id for i in self.interactions if i.end is None]
        logged_in = [am.id for am in self.members if am.session is not None]
        if open_ixns or logged_in:
            raise RuntimeError(
                f"simulation ended with open interactions {open_ixns[:5]} / agents {logged_in[:5]}"
            )

    # --- set-up --------------------------------------------------------------------------------------------

    def _schedule_arrivals(self) -> None:
        p = self.p
        start, end = p.start_ms, self.horizon
        voice_points = self.roster.routing_points
        weights = [rp.weight for rp in voice_points]
        arrivals = random.Random(f"arrivals-voice-{p.seed}")
        if voice_points:
            for t in poisson_arrivals(arrivals, p.calls_per_hour, start, end, p.daily_shape):
                rp = arrivals.choices(voice_points, weights)[0]
                self.at(t, lambda rp=rp: self._call_arrives(rp.dn, self.queues[rp.queue]))
        out_rng = random.Random(f"arrivals-outbound-{p.seed}")
        for t in poisson_arrivals(out_rng, p.calls_per_hour * p.outbound_share, start, end, p.daily_shape):
            self.at(t, self._outbound_attempt)
        for media, rate in (("chat", p.chats_per_hour), ("email", p.emails_per_hour)):
            queues = [self.queues[q.name] for q in self.roster.queues_for(media)]  # type: ignore[arg-type]
            rng = random.Random(f"arrivals-{media}-{p.seed}")
            if not queues:
                continue
            for t in poisson_arrivals(rng, rate, start, end, p.daily_shape):
                qs = rng.choice(queues)
                self.at(t, lambda qs=qs: self._digital_arrives(qs))

    def _schedule_shifts(self) -> None:
        start, end = self.p.start_ms, self.horizon
        rng = random.Random(f"shifts-{self.p.seed}")
        # Shift start hours weighted by the demand they would cover, so staffing follows the daily shape.
        starts = list(range(24))
        demand = [expected_arrivals(1.0, h * HOUR_MS, h * HOUR_MS + SHIFT_MS, True) for h in starts]
        by_agent: dict[str, list[AgentMedia]] = {}
        for am in self.members:
            by_agent.setdefault(am.id, []).append(am)
        for ams in by_agent.values():
            if self.p.shifts == "window":
                self._plan_shift(ams, start, end, rng)
                continue
            hour = rng.choices(starts, demand)[0]
            jitter = rng.randrange(HOUR_MS)
            for day in range(start // (24 * HOUR_MS) - 1, end // (24 * HOUR_MS) + 1):
                s = day * 24 * HOUR_MS + hour * HOUR_MS + jitter
                if s + SHIFT_MS > start and s < end:
                    self._plan_shift(ams, s, s + SHIFT_MS, rng)

    def _plan_shift(self, ams: list[AgentMedia], s: int, e: int, rng: random.Random) -> None:
        login = max(s, self.p.start_ms)
        for am in ams:
            self.at(login, lambda am=am: self._login(am))
            if e < self.horizon:
                self.at(e, lambda am=am: self._shift_end(am))
        for offset, duration in BREAKS:
            t = s + offset + rng.randint(-15 * MIN, 15 * MIN)
            reason = rng.choice(self.roster.not_ready_reasons)
            if login < t < min(e, self.horizon):
                for am in ams:
                    self.at(
                        t,
                        lambda am=am, reason=reason, duration=duration: self._break_due(am, reason, duration),
                    )

    def _new_id(self, kind: str) -> str:
        return f"{self.run_id}-{kind}{next(self._ids[kind]):06d}"

    # --- emission ------------------------------------------------------------------------------------------

    def _emit(self, kind: str, key: str, event_type: str, fields: dict[str, object]) -> None:
        self.events.append(
            (self.now, kind, key, event_type, {k: v for k, v in fields.items() if v is not None})
        )

    def _voice(self, event_type: str, ixn: Interaction, dn: str, **fields: object) -> None:
        base: dict[str, object] = {
            "call_id": ixn.id,
            "connection_id": ixn.main_connection,
            "call_type": ixn.call_type,
            "dn": dn,
            "parties": list(ixn.parties),
        }
        base.update(fields)
        self._emit("voice", ixn.id, event_type, base)

    def _voice_at(self, am: AgentMedia, event_type: str, ixn: Interaction, **fields: object) -> None:
        self._voice(event_type, ixn, am.agent.dn, agent_id=am.id, place=am.agent.place, **fields)

    def _digital(self, event_type: str, ixn: Interaction, **fields: object) -> None:
        self._emit("digital", ixn.id, event_type, {"interaction_id": ixn.id, "media": ixn.media, **fields})

    def _agent_event(self, am: AgentMedia, event_type: str, **fields: object) -> None:
        assert am.session is not None
        base: dict[str, object] = {
            "agent_id": am.id,
            "login_code": am.agent.login_code,
            "place": am.agent.place,
            "dn": am.agent.dn if am.media == "voice" else None,
            "media": am.media,
            "session_id": am.session.session_id,
        }
        base.update(fields)
        self._emit("agent", am.id, event_type, base)

    # --- agent states and sessions -----------------------------------------------------------------------

    def _set_state(
        self, am: AgentMedia, state: str, reason: str | None = None, ixn: Interaction | None = None
    ) -> None:
        self._close_state(am)
        am.state, am.reason, am.state_ixn, am.state_start = state, reason, ixn, self.now
        extra: dict[str, object] = {"reason_code": reason, "interaction_id": ixn.id if ixn else None}
        self._agent_event(am, _STATE_EVENT[state], **extra)
        if state == "READY":
            am.ready_since = self.now

    def _close_state(self, am: AgentMedia) -> None:
        if am.state is None or am.session is None:
            return
        ixn = am.state_ixn
        self.states.append(
            StateRow(
                am.id,
                am.session.session_id,
                am.media,
                am.state,
                am.reason,
                ixn.id if ixn else None,
                am.state_start,
                self.now,
            )
        )
        if am.state == "ACW" and ixn is not None:
            ixn.handlings[am.id].intervals["acw"].append((am.state_start, self.now))
        am.state = None

    def _login(self, am: AgentMedia) -> None:
        if am.session is not None:  # overlapping shifts of a multi-day run: keep the session
            am.leaving = False
            return
        a = am.agent
        am.session = SessionRow(
            am.id,
            self._new_id("s"),
            am.media,
            a.login_code,
            a.place,
            a.dn if am.media == "voice" else None,
            self.now,
        )
        self.sessions.append(am.session)
        am.leaving = False
        self._agent_event(am, "login")
        self._set_state(am, "READY")
        self._dispatch_agent(am)

    def _logout(self, am: AgentMedia) -> None:
        assert am.session is not None
        self._close_state(am)
        self._agent_event(am, "logout")
        am.session.logout = self.now
        am.session, am.leaving, am.break_pending = None, False, None
        if self.draining:
            self._stop_unserved()

    def _shift_end(self, am: AgentMedia) -> None:
        if am.session is None:
            return
        am.leaving = True
        if am.idle:
            self._logout(am)

    def _should_logout(self, am: AgentMedia) -> bool:
        return am.leaving or (self.draining and not self._work_waiting(am))

    def _break_due(self, am: AgentMedia, reason: str, duration: int) -> None:
        if am.session is None or am.leaving or self.draining or (am.state != "READY" and am.call is None):
            return
        if am.call is not None:
            am.break_pending = (reason, duration)
        else:
            self._start_break(am, reason, duration)

    def _start_break(self, am: AgentMedia, reason: str, duration: int) -> None:
        self._set_state(am, "NOTREADY", reason=reason)
        am.break_token += 1
        token = am.break_token
        self.at(self.now + duration + self.rng.randint(0, 3 * MIN), lambda: self._end_break(am, token))

    def _end_break(self, am: AgentMedia, token: int) -> None:
        if am.session is None or am.break_token != token or am.state != "NOTREADY" or am.leaving:
            return
        if am.idle and self._should_logout(am):
            self._logout(am)
            return
        self._set_state(am, "READY")
        self._dispatch_agent(am)

    def _after_voice(self, am: AgentMedia) -> None:
        """The agent's call (and its after-call work) is over: next state, break, or logout."""
        am.call = None
        if self._should_logout(am):
            self._logout(am)
        elif am.break_pending is not None and not self.draining:
            reason, duration = am.break_pending
            am.break_pending = None
            self._start_break(am, reason, duration)
        else:
            am.break_pending = None
            self._set_state(am, "READY")
            self._dispatch_agent(am)

    def _after_digital(self, am: AgentMedia, ixn: Interaction) -> None:
        am.active.discard(ixn.id)
        if am.idle and self._should_logout(am):
            self._logout(am)
        else:
            self._dispatch_agent(am)

    def _horizon_reached(self) -> None:
        self.draining = True
        for am in self.members:
            if am.session is not None and am.idle and not self._work_waiting(am):
                self._logout(am)
        self._stop_unserved()

    # --- queues and routing ---------------------------------------------------------------------------------

    def _available(self, am: AgentMedia) -> bool:
        if am.session is None or am.leaving or am.state != "READY":
            return False
        return am.call is None if am.media == "voice" else len(am.active) < CAPACITY[am.media]

    @staticmethod
    def _eligible(am: AgentMedia, ixn: Interaction) -> bool:
        return am.id not in ixn.handlings

    def _work_waiting(self, am: AgentMedia) -> bool:
        return any(self._eligible(am, ixn) for qs in am.queues if qs.n_waiting for ixn in qs.live())

    def _enqueue(self, ixn: Interaction, qs: QueueState, **first_fields: object) -> None:
        q = qs.queue
        ixn.wait_token += 1
        ixn.waiting_in = qs
        qs.waiting.append((ixn.wait_token, ixn))
        qs.n_waiting += 1
        ixn.mediations.append(Mediation(q.name, q.virtual_queue, self.now))
        if ixn.media == "voice":
            self._voice("queued", ixn, q.dn, queue=q.name, virtual_queue=q.virtual_queue, **first_fields)
        else:
            self._digital("queued", ixn, queue=q.name, virtual_queue=q.virtual_queue)
        if ixn.deadline is not None:
            token = ixn.wait_token
            self.at(max(ixn.deadline, self.now), lambda: self._gives_up(ixn, qs, token))
        if self.draining and ixn.media != "voice":
            self._stop_unserved()
        self._dispatch_queue(qs)

    @staticmethod
    def _leave_queue(ixn: Interaction, qs: QueueState) -> None:
        ixn.waiting_in = None
        qs.n_waiting -= 1

    def _close_mediation(self, ixn: Interaction, outcome: str, agent: AgentMedia | None = None) -> None:
        med = ixn.mediations[-1]
        med.end, med.outcome = self.now, outcome
        med.agent_id = agent.id if agent else None

    def _dispatch_queue(self, qs: QueueState) -> None:
        ranked = sorted(
            (am for am in qs.servers if self._available(am)), key=lambda am: (len(am.active), am.ready_since)
        )
        for am in ranked:
            if not qs.n_waiting:
                break
            self._dispatch_agent(am)

    def _dispatch_agent(self, am: AgentMedia) -> None:
        """Give the agent the oldest waiting interaction it may take, while it has room."""
        while self._available(am):
            best: tuple[Interaction, QueueState] | None = None
            for qs in am.queues:
                if not qs.n_waiting:
                    continue
                ixn = next((i for i in qs.live() if self._eligible(am, i)), None)
                if ixn is not None and (
                    best is None or ixn.mediations[-1].start < best[0].mediations[-1].start
                ):
                    best = (ixn, qs)
            if best is None:
                return
            self._route(*best, am)

    def _route(self, ixn: Interaction, qs: QueueState, am: AgentMedia) -> None:
        """Reserve the agent now; the interaction reaches it after a short routing delay."""
        delay = self.rng.randint(200, 1500)
        if ixn.media == "voice":
            am.call = ixn
            self.at(self.now + delay, lambda: self.spawn(self._call_at_agent(ixn, qs, am)))
        else:
            am.active.add(ixn.id)
            self.at(self.now + delay, lambda: self.spawn(self._digital_at_agent(ixn, qs, am)))
        self._leave_queue(ixn, qs)  # the mediation closes when the interaction reaches the agent

    def _gives_up(self, ixn: Interaction, qs: QueueState, token: int) -> None:
        if ixn.waiting_in is not qs or ixn.wait_token != token:
            return
        self._leave_queue(ixn, qs)
        self._close_mediation(ixn, "abandoned")
        if ixn.media == "voice":
            self._voice(
                "abandoned", ixn, qs.queue.dn, queue=qs.queue.name, virtual_queue=qs.queue.virtual_queue
            )
        else:
            self._digital("completed", ixn, queue=qs.queue.name, reason="abandoned")
        self._end(ixn, "abandoned", where="queue")

    def _stop_unserved(self) -> None:
        """After the window: digital interactions that no logged-in agent may take are stopped."""
        for qs in self.queues.values():
            if qs.queue.media == "voice" or not qs.n_waiting:
                continue
            for ixn in list(qs.live()):
                if not any(am.session and not am.leaving and self._eligible(am, ixn) for am in qs.servers):
                    self._leave_queue(ixn, qs)
                    self._close_mediation(ixn, "stopped")
                    self._digital("completed", ixn, queue=qs.queue.name, reason="stopped")
                    self._end(ixn, "stopped")

    def _end(self, ixn: Interaction, result: str, where: str | None = None) -> None:
        ixn.end, ixn.result, ixn.abandon_where = self.now, result, where

    def _handling(self, ixn: Interaction, am: AgentMedia) -> Handling:
        h = Handling(am.id, len(ixn.handlings) + 1)
        ixn.handlings[am.id] = h
        return h

    def _new_interaction(self, media: Media, call_type: str, customer: str) -> Interaction:
        ixn = Interaction(self._new_id(media[0]), media, call_type, self.now, customer)
        self.interactions.append(ixn)
        return ixn

    # --- voice ---------------------------------------------------------------------------------------------

    def _patience(self, media: str) -> int:
        return round(self.rng.expovariate(1 / (150 * SEC if media == "voice" else 240 * SEC)))

    def _lognormal(self, median_s: float, sigma: float, low_s: float, high_s: float) -> int:
        return round(min(max(self.rng.lognormvariate(math.log(median_s), sigma), low_s), high_s) * SEC)

    def _call_arrives(self, routing_point: str, qs: QueueState) -> None:
        ani = f"+1555{self.rng.randrange(10**7):07d}"
        ixn = self._new_interaction("voice", "inbound", ani)
        ixn.parties = [ani]
        ixn.deadline = self.now + self._patience("voice")
        user_data = {"customer_segment": self.rng.choice(["gold", "silver", "bronze"]), "language": "en"}
        self._enqueue(ixn, qs, routing_point=routing_point, ani=ani, dnis=routing_point, user_data=user_data)

    def _call_at_agent(self, ixn: Interaction, qs: QueueState, am: AgentMedia) -> Iterator[int]:
        q = qs.queue
        self._close_mediation(ixn, "routed", am)
        self._voice(
            "diverted",
            ixn,
            q.dn,
            queue=q.name,
            virtual_queue=q.virtual_queue,
            other_dn=am.agent.dn,
            other_agent_id=am.id,
        )
        h = self._handling(ixn, am)
        self._set_state(am, "BUSY", ixn=ixn)
        ixn.parties.append(am.agent.dn)
        self._voice_at(am, "ringing", ixn, other_dn=ixn.customer)
        h.open("ring", self.now)
        ring = self.rng.randint(2 * SEC, 12 * SEC)
        if ixn.deadline is not None and ixn.deadline < self.now + ring:
            yield max(ixn.deadline - self.now, SEC)
            ixn.parties.remove(am.agent.dn)
            self._voice_at(am, "abandoned", ixn, other_dn=ixn.customer)
            h.close("ring", self.now)
            self._end(ixn, "abandoned", where="ringing")
            self._after_voice(am)
            return
        yield ring
        ixn.deadline = None
        h.close("ring", self.now)
        self._voice_at(am, "established", ixn, other_dn=ixn.customer)
        h.talk_count += 1
        h.open("talk", self.now)
        yield from self._talk(ixn, am)

    def _talk(self, ixn: Interaction, am: AgentMedia) -> Iterator[int]:
        """The agent talks (with holds), then releases, transfers or conferences."""
        h = ixn.handlings[am.id]
        talk = self._lognormal(110, 0.6, 10, 3600)
        holds = 0 if self.rng.random() > 0.2 else 1 + (self.rng.random() < 0.25)
        cuts = sorted(self.rng.randint(1, talk - 1) for _ in range(holds))
        previous = 0
        for cut in cuts:
            yield cut - previous
            previous = cut
            self._voice_at(am, "held", ixn)
            h.close("talk", self.now)
            h.open("hold", self.now)
            yield self.rng.randint(10 * SEC, 90 * SEC)
            self._voice_at(am, "retrieved", ixn)
            h.close("hold", self.now)
            h.open("talk", self.now)
        yield talk - previous
        outcome = self._outcome(ixn)
        target = self._consult_target(ixn) if outcome in ("consult", "conference") else None
        if outcome == "blind":
            self._blind_transfer(ixn, am)
        elif target is not None:
            yield from self._consult(ixn, am, target, conference=outcome == "conference")
        else:
            self._release(ixn, am, final=True)

    def _outcome(self, ixn: Interaction) -> str:
        if ixn.call_type != "inbound" or ixn.transfers >= 2:
            return "release"
        r = self.rng.random()
        return "blind" if r < 0.05 else "consult" if r < 0.10 else "conference" if r < 0.14 else "release"

    def _consult_target(self, ixn: Interaction) -> AgentMedia | None:
        free = [
            am
            for am in self.members
            if am.media == "voice" and self._available(am) and self._eligible(am, ixn)
        ]
        return min(free, key=lambda am: am.ready_since) if free else None

    def _release(self, ixn: Interaction, am: AgentMedia, final: bool) -> None:
        ixn.parties.remove(am.agent.dn)
        self._voice_at(am, "released", ixn)
        ixn.handlings[am.id].close_all(self.now)
        if final:
            self._end(ixn, "completed")
        self._set_state(am, "ACW", ixn=ixn)
        self.at(self.now + self._lognormal(10, 0.7, 1, 600), lambda: self._after_voice(am))

    def _blind_transfer(self, ixn: Interaction, am: AgentMedia) -> None:
        target = self.rng.choice([qs for qs in self.queues.values() if qs.queue.media == "voice"])
        h = ixn.handlings[am.id]
        h.transferred, h.transfer_type = True, "blind"
        ixn.transfers += 1
        self._voice_at(
            am, "party_changed", ixn, transfer_type="blind", other_dn=target.queue.dn, queue=target.queue.name
        )
        self._release(ixn, am, final=False)
        ixn.deadline = self.now + self._patience("voice")
        self._enqueue(ixn, target)

    def _consult(self, ixn: Interaction, a: AgentMedia, b: AgentMedia, conference: bool) -> Iterator[int]:
        """A holds the customer and consults B, then transfers to B or makes a conference and leaves it."""
        ha = ixn.handlings[a.id]
        self._voice_at(a, "held", ixn)
        ha.close("talk", self.now)
        ha.open("hold", self.now)
        ixn.connections += 1
        leg = {"connection_id": f"{ixn.id}.{ixn.connections}", "call_type": "consult"}
        self._voice_at(a, "dialing", ixn, other_dn=b.agent.dn, other_agent_id=b.id, **leg)
        b.call = ixn
        hb = self._handling(ixn, b)
        hb.consult_received = True
        self._set_state(b, "BUSY", ixn=ixn)
        ixn.parties.append(b.agent.dn)
        self._voice_at(b, "ringing", ixn, other_dn=a.agent.dn, other_agent_id=a.id, **leg)
        hb.open("ring", self.now)
        yield self.rng.randint(2 * SEC, 8 * SEC)
        hb.close("ring", self.now)
        self._voice_at(b, "established", ixn, other_dn=a.agent.dn, other_agent_id=a.id, **leg)
        hb.talk_count += 1
        hb.open("talk", self.now)
        hb.open("cons_rcv_talk", self.now)
        yield self.rng.randint(15 * SEC, 90 * SEC)
        ixn.transfers += 1
        hb.close("cons_rcv_talk", self.now)  # A retrieves the customer into a conference, or transfers
        hb.handed_over = True
        if conference:
            self._voice_at(a, "retrieved", ixn)
            ha.close("hold", self.now)
            ha.open("talk", self.now)
            self._voice_at(a, "conferenced", ixn, other_dn=b.agent.dn, other_agent_id=b.id)
            ha.conferenced = hb.conferenced = True
            yield self.rng.randint(30 * SEC, 180 * SEC)
        else:
            self._voice_at(
                a, "party_changed", ixn, transfer_type="consult", other_dn=b.agent.dn, other_agent_id=b.id
            )
            ha.transferred, ha.transfer_type = True, "consult"
        self._release(ixn, a, final=False)
        yield from self._talk(ixn, b)

    def _outbound_attempt(self) -> None:
        free = [am for am in self.members if am.media == "voice" and self._available(am)]
        if not free:
            return
        am = min(free, key=lambda m: m.ready_since)
        number = f"+1555{self.rng.randrange(10**7):07d}"
        ixn = self._new_interaction("voice", "outbound", number)
        am.call = ixn
        h = self._handling(ixn, am)
        self._set_state(am, "BUSY", ixn=ixn)
        ixn.parties = [am.agent.dn]
        self._voice_at(
            am,
            "dialing",
            ixn,
            other_dn=number,
            ani=am.agent.dn,
            dnis=number,
            user_data={"campaign": "callback"},
        )
        h.open("dial", self.now)
        self.spawn(self._outbound(ixn, am))

    def _outbound(self, ixn: Interaction, am: AgentMedia) -> Iterator[int]:
        h = ixn.handlings[am.id]
        yield self.rng.randint(5 * SEC, 25 * SEC)
        h.close("dial", self.now)
        if self.rng.random() < 0.3:  # no answer
            ixn.parties.remove(am.agent.dn)
            self._voice_at(am, "released", ixn, other_dn=ixn.customer)
            self._end(ixn, "no_answer")
            self._after_voice(am)
            return
        ixn.parties.append(ixn.customer)
        self._voice_at(am, "established", ixn, other_dn=ixn.customer)
        h.talk_count += 1
        h.open("talk", self.now)
        yield from self._talk(ixn, am)

    # --- digital -------------------------------------------------------------------------------------------

    def _digital_arrives(self, qs: QueueState) -> None:
        media = qs.queue.media
        n = self.rng.randrange(10**6)
        address = f"customer{n:06d}@example.com" if media == "email" else f"web-{n:06d}"
        ixn = self._new_interaction(media, "inbound", address)
        if media == "chat":
            ixn.deadline = self.now + self._patience("chat")
        self._digital(
            "submitted",
            ixn,
            from_address=address,
            to_address=f"{qs.queue.name.lower()}@contact",
            user_data={"subject": self.rng.choice(["order", "refund", "account", "other"])},
        )
        self._enqueue(ixn, qs)

    def _digital_at_agent(self, ixn: Interaction, qs: QueueState, am: AgentMedia) -> Iterator[int]:
        q = qs.queue
        self._close_mediation(ixn, "routed", am)
        agent = {"agent_id": am.id, "place": am.agent.place}
        self._digital("offered", ixn, queue=q.name, **agent)
        h = self._handling(ixn, am)
        h.open("ring", self.now)
        chat = ixn.media == "chat"
        yield self.rng.randint(2 * SEC, 15 * SEC) if chat else self.rng.randint(5 * SEC, 60 * SEC)
        h.close("ring", self.now)
        if chat and self.rng.random() < 0.04:
            self._digital("rejected", ixn, **agent)
            h.rejected = True
            ixn.deadline = self.now + self._patience("chat")
            self._enqueue(ixn, qs)
            self._after_digital(am, ixn)
            return
        ixn.deadline = None
        self._digital("accepted", ixn, **agent)
        h.talk_count += 1
        h.open("talk", self.now)
        yield self._lognormal(480, 0.5, 30, 7200) if chat else self._lognormal(360, 0.6, 30, 7200)
        h.close("talk", self.now)
        if ixn.transfers < 1 and self.rng.random() < 0.05:
            target = self.rng.choice([s for s in self.queues.values() if s.queue.media == ixn.media])
            self._digital("transferred", ixn, queue=target.queue.name, **agent)
            h.transferred, h.transfer_type = True, "blind"
            ixn.transfers += 1
            if chat:
                ixn.deadline = self.now + self._patience("chat")
            self._after_digital(am, ixn)
            self._enqueue(ixn, target)
            return
        self._digital("completed", ixn, reason="done", **agent)
        self._end(ixn, "completed")
        self._after_digital(am, ixn)
