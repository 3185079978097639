"""Apply one micro-batch of raw records to the GSP state: the fact rows and dead letters it produces.

Event time, per raw partition (every interaction and every agent lives in one partition, by record key):

* a record is parsed; a malformed one is dead-lettered with the parser's reason;
* a duplicate (event id seen within ``dedup_window_ms``) is dropped; an event older than the partition's
  frontier (newest event time read so far minus ``allowed_lateness_ms``) is dead-lettered as too late;
* the others wait in the partition's pending list; at the end of the batch every pending event below the
  frontier is applied, in (ts, seq) order.

So events are applied in event-time order whatever order they arrived in, a late event (within the lateness)
simply takes its place, and whether an event is accepted depends only on the records before it in its
partition. Hence splitting a stream into 1, 7 or 100 micro-batches applies the same events in the same order,
and since facts are emitted with deterministic keys whenever they change, the last value per key is the same.
The price: facts lag the newest event of their partition by the allowed lateness (or ``idle_flush_ms`` of
silence, measured by the caller's clock, when the partition goes quiet).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gim_dagster.core.events.parse import gc_paused, parse_records
from gim_dagster.core.gsp.agents import AgentMachine
from gim_dagster.core.gsp.context import Context, GspConfig
from gim_dagster.core.gsp.interactions import InteractionMachine
from gim_dagster.core.gsp.keys import KeyResolver
from gim_dagster.core.gsp.rows import Row, interaction_row, leg_row, mediation_row
from gim_dagster.core.gsp.state import NEVER, Acw, Clock, GspState, Interaction
from gim_dagster.core.kafka_io import TP, Record
from gim_dagster.core.naming import TenantNames


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A raw record GSP could not use, and why."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    reason: str


@dataclass
class BatchOutput:
    facts: list[tuple[str, Row]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    events_by_type: Counter[str] = field(default_factory=Counter)
    facts_by_table: Counter[str] = field(default_factory=Counter)
    stats: Counter[str] = field(default_factory=Counter)
    """late (accepted out of order), duplicates, too_late, malformed, after_end, interactions_timed_out."""


def topic_kinds(tenant: str) -> dict[str, str]:
    names = TenantNames(tenant)
    return {names.voice_topic: "voice", names.digital_topic: "digital", names.agent_topic: "agent"}


class Processor:
    """Applies micro-batches to one tenant's ``GspState`` (mutated in place)."""

    def __init__(self, state: GspState, config: GspConfig | None = None, resolver: KeyResolver | None = None):
        self.state = state
        self.config = config or GspConfig()
        self.resolver = resolver or KeyResolver()
        self.kinds = topic_kinds(state.tenant)

    def process(
        self, records: Sequence[Record], now_ms: int | None = None, partitions: Iterable[TP] = ()
    ) -> BatchOutput:
        """Apply ``records`` (each partition's records in offset order); ``now_ms`` drives the idle flush.

        ``partitions`` names every raw partition of the tenant: one not read from yet holds back the
        time-based forgetting of state (its events may still refer to it).
        """
        for tp in partitions:
            self.state.clocks.setdefault(tp, Clock())
        out = BatchOutput()
        ctx = Context(self.state.tenant, self.config, self.resolver, self.state, stats=out.stats)
        interactions, agents = InteractionMachine(ctx), AgentMachine(ctx)
        with gc_paused():
            for tp, recs in _by_partition(records).items():
                self._admit(tp, recs, out)
            self._flush_idle(now_ms)
            self._release(interactions, agents, out)
            self._emit(ctx, agents, out)
            self._housekeep(ctx, interactions)
        self.state.batches += 1
        return out

    # --- admission: parse, de-duplicate, lateness ---------------------------------------------------------

    def _admit(self, tp: TP, recs: list[Record], out: BatchOutput) -> None:
        kind = self.kinds.get(tp[0])
        if kind is None:
            out.dead_letters += [_dead(r, f"topic {tp[0]} is not a raw topic of this tenant") for r in recs]
            return
        events, malformed = parse_records(kind, [r.value for r in recs], self.state.tenant)  # type: ignore[arg-type]
        bad = dict(malformed)
        out.dead_letters += [_dead(recs[i], f"malformed: {reason}") for i, reason in malformed]
        out.stats["malformed"] += len(malformed)
        clock = self.state.clocks.get(tp)
        if clock is None:
            clock = self.state.clocks[tp] = Clock()
        lateness, window = self.config.allowed_lateness_ms, self.config.dedup_window_ms
        seen, pending, stats = clock.seen, clock.pending, out.stats
        good = (r for i, r in enumerate(recs) if i not in bad)
        for rec, ev in zip(good, events, strict=True):
            ts = ev.ts
            if ts < clock.frontier - window or (ts < clock.frontier and ev.event_id not in seen):
                out.dead_letters.append(_dead(rec, _too_late(ts, clock, lateness)))
                stats["too_late"] += 1
            elif ev.event_id in seen:
                stats["duplicates"] += 1
            else:
                seen[ev.event_id] = ts
                pending.append((ts, ev.seq, rec.offset, ev))
                if ts < clock.max_ts:
                    stats["late"] += 1
            if ts > clock.max_ts:
                clock.max_ts = ts
                clock.frontier = max(clock.frontier, ts - lateness)
        if recs:
            clock.last_append_ms = max(clock.last_append_ms, recs[-1].timestamp_ms)

    def _flush_idle(self, now_ms: int | None) -> None:
        """Release everything pending in partitions that have been silent for ``idle_flush_ms``."""
        if now_ms is None:
            return
        for clock in self.state.clocks.values():
            if clock.pending and now_ms - clock.last_append_ms >= self.config.idle_flush_ms:
                clock.frontier = max(clock.frontier, clock.max_ts + 1)

    # --- release: apply pending events below the frontier, in event-time order ------------------------

    def _release(self, interactions: InteractionMachine, agents: AgentMachine, out: BatchOutput) -> None:
        apply = {"voice": interactions.apply_voice, "digital": interactions.apply_digital}
        for tp, clock in self.state.clocks.items():
            if not clock.pending:
                continue
            clock.pending.sort(key=_order)
            cut = _first_at_or_after(clock.pending, clock.frontier)
            ready, clock.pending = clock.pending[:cut], clock.pending[cut:]
            kind = self.kinds[tp[0]]
            for _ts, _seq, offset, ev in ready:
                out.events_by_type[f"{kind}.{ev.event_type}"] += 1
                if kind == "agent":
                    agents.apply(ev)
                    continue
                reason = apply[kind](ev, tp)
                if reason:
                    out.stats["after_end"] += 1
                    out.dead_letters.append(_dead_event(tp, offset, ev, reason))
        interactions.close_stale({tp: c.frontier for tp, c in self.state.clocks.items()})

    # --- housekeeping: forget what can no longer change ----------------------------------------------------

    def _housekeep(self, ctx: Context, interactions: InteractionMachine) -> None:
        state, config = self.state, self.config
        for clock in state.clocks.values():
            horizon = clock.frontier - config.dedup_window_ms
            if clock.seen and horizon > NEVER:
                clock.seen = {eid: ts for eid, ts in clock.seen.items() if ts >= horizon}
        frontiers = {tp: c.frontier for tp, c in state.clocks.items()}
        agent_frontier = self._agent_frontier()
        for ixn_id, ixn in list(state.closed.items()):
            if ixn_id in ctx.dirty_interactions or not self._settled(ixn, agent_frontier):
                continue
            del state.closed[ixn_id]
            state.tombstones[ixn_id] = (interactions.retained_until(ixn), ixn.tp)
            for leg in ixn.legs.values():
                state.acw.pop(leg.irf_id, None)
        state.tombstones = {
            i: (until, tp) for i, (until, tp) in state.tombstones.items() if until >= frontiers.get(tp, NEVER)
        }
        orphan_horizon = min(frontiers.values(), default=NEVER) - 2 * config.acw_grace_ms
        state.acw = {k: a for k, a in state.acw.items() if not self._orphan(a, orphan_horizon)}

    def _orphan(self, acw: Acw, horizon: int) -> bool:
        """After-call work whose interaction has left the state (or never came) and that cannot change."""
        state = self.state
        if not acw.done or acw.interaction_id in state.interactions or acw.interaction_id in state.closed:
            return False
        return acw.interaction_id in state.tombstones or acw.last_ms < horizon

    def _agent_frontier(self) -> int:
        """Event time up to which every agent partition that has data has been applied."""
        agent_topic = TenantNames(self.state.tenant).agent_topic
        fronts = [c.frontier for tp, c in self.state.clocks.items() if tp[0] == agent_topic]
        return min(fronts, default=NEVER)

    def _settled(self, ixn: Interaction, agent_frontier: int) -> bool:
        """A closed interaction leaves the state once its agents' after-call work is known."""
        assert ixn.end_ms is not None
        if ixn.media != "voice" or agent_frontier > ixn.end_ms + self.config.acw_grace_ms:
            return True
        acw = self.state.acw
        return all(leg.irf_id in acw and acw[leg.irf_id].done for leg in ixn.legs.values())

    # --- emission --------------------------------------------------------------------------------------

    def _emit(self, ctx: Context, agents: AgentMachine, out: BatchOutput) -> None:
        facts = list(ctx.rows)
        state, resolver = self.state, self.resolver
        for ixn_id in sorted(ctx.dirty_interactions):
            ixn = state.interactions.get(ixn_id) or state.closed.get(ixn_id)
            if ixn is None:
                continue
            facts.append(("interaction_fact", interaction_row(ixn)))
            facts += [("mediation_segment_fact", mediation_row(ixn, m, resolver)) for m in ixn.mediations]
            facts += [
                ("interaction_resource_fact", leg_row(ixn, leg, state.acw.get(leg.irf_id), resolver))
                for leg in ixn.legs.values()
            ]
        for key in sorted(ctx.dirty_agents):
            facts += agents.open_rows(key)
        out.facts = facts
        out.facts_by_table.update(table for table, _row in facts)


def _order(item: tuple[int, int, int, Any]) -> tuple[int, int]:
    return item[0], item[1]


def _first_at_or_after(pending: list[tuple[int, int, int, Any]], frontier: int) -> int:
    """Index of the first pending event (sorted) at or after ``frontier``."""
    lo, hi = 0, len(pending)
    while lo < hi:
        mid = (lo + hi) // 2
        if pending[mid][0] < frontier:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _by_partition(records: Sequence[Record]) -> dict[TP, list[Record]]:
    parts: dict[TP, list[Record]] = {}
    for rec in records:
        tp = (rec.topic, rec.partition)
        recs = parts.get(tp)
        if recs is None:
            recs = parts[tp] = []
        recs.append(rec)
    return parts


def _too_late(ts: int, clock: Clock, lateness: int) -> str:
    behind = clock.max_ts - ts
    return f"too late: {behind} ms behind the newest event of its partition (allowed lateness {lateness} ms)"


def _dead(rec: Record, reason: str) -> DeadLetter:
    return DeadLetter(rec.topic, rec.partition, rec.offset, rec.key, rec.value, reason)


def _dead_event(tp: TP, offset: int, ev: Any, reason: str) -> DeadLetter:
    """A dead letter for a parsed event the state machine refused (its value re-serialised from the event)."""
    return DeadLetter(tp[0], tp[1], offset, None, ev.model_dump_json().encode(), reason)
