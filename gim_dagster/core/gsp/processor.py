"""Apply one micro-batch of raw records to the GSP state: the fact rows and dead letters it produces.

Event time, per raw partition (every interaction and every agent lives in one partition, by record key):

* a record is parsed; a malformed one is dead-lettered with the parser's reason;
* a duplicate (event id seen within ``dedup_window_ms``) is dropped; an event older than the partition's
  frontier (newest event time read so far minus ``allowed_lateness_ms``) is dead-lettered as too late;
* the others wait in the partition's pending list; after every chunk of the partition's records (and at the
  end of the batch) every pending event below the frontier is applied, in (ts, seq) order.

So events are applied in event-time order whatever order they arrived in, a late event (within the lateness)
simply takes its place, and whether an event is accepted depends only on the records before it in its
partition. The frontier only moves forward and nothing below it is accepted any more, so what one release
applies all comes before what any later release applies: splitting a stream into 1, 7 or 100 micro-batches (or
chunks) applies the same events in the same order, and since facts are emitted with deterministic keys
whenever they change, the last value per key is the same.
The price: facts lag the newest event of their partition by the allowed lateness (or ``idle_flush_ms`` of
silence, measured by the caller's clock, when the partition goes quiet).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any
from zlib import crc32

import msgspec

from gim_dagster.core.events.models import TopicKind
from gim_dagster.core.events.parse import gc_paused, parse_records
from gim_dagster.core.gsp.agents import AgentMachine
from gim_dagster.core.gsp.context import Context, GspConfig
from gim_dagster.core.gsp.interactions import InteractionMachine
from gim_dagster.core.gsp.keys import KeyResolver
from gim_dagster.core.gsp.rows import Row, interaction_rows
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
    """late (accepted out of order), duplicates, conflicting_duplicates, too_late, in_the_future, malformed,
    after_end, interactions_timed_out."""


def topic_kinds(tenant: str) -> dict[str, TopicKind]:
    names = TenantNames(tenant)
    return {names.voice_topic: "voice", names.digital_topic: "digital", names.agent_topic: "agent"}


CHUNK_RECORDS = 2_000
"""A partition's records are parsed and admitted this many at a time, each chunk followed by applying the
events it released. A large batch thus never holds all its parsed events at once (about 1.6 kB each): memory,
page faults and cache misses stay those of one chunk. The outcome does not depend on it (module docstring)."""


@dataclass(slots=True)
class _Rejected:
    """Dead letters of one partition's admission, kept apart so that the batch lists them in a fixed order."""

    malformed: list[DeadLetter] = field(default_factory=list)
    refused: list[DeadLetter] = field(default_factory=list)
    """Too late, or conflicting with an earlier record of the same event id."""


@dataclass(slots=True)
class _Batch:
    """What one ``process`` call carries besides the state."""

    out: BatchOutput
    interactions: InteractionMachine
    agents: AgentMachine
    rejected: dict[TP, _Rejected]
    now_ms: int | None = None
    after_end: list[DeadLetter] = field(default_factory=list)


class Processor:
    """Applies micro-batches to one tenant's ``GspState`` (mutated in place)."""

    def __init__(self, state: GspState, config: GspConfig | None = None, resolver: KeyResolver | None = None):
        self.state = state
        self.config = config or GspConfig()
        self.resolver = resolver or KeyResolver()
        self.kinds = topic_kinds(state.tenant)

    def process(
        self,
        records: Sequence[Record],
        now_ms: int | None = None,
        partitions: Iterable[TP] = (),
        at_eof: Mapping[TP, bool] | None = None,
    ) -> BatchOutput:
        """Apply ``records`` (each partition's records in offset order); ``now_ms`` drives the idle flush.

        ``partitions`` names every raw partition of the tenant: one not read from yet holds back the
        time-based forgetting of state (its events may still refer to it). ``at_eof`` tells which partitions
        this batch read to their end (None: all of them): only those can be idle, since a partition whose
        read stopped at the record bound has more records waiting, whatever their timestamps say. Flushing
        it would move its frontier past events still unread, and the next batch would dead-letter them as
        too late, so the numbers would depend on where a batch ended.

        Partitions are independent until the end of the batch, so each one is admitted and released in
        turn (in the state's partition order, chunk by chunk); the dead letters are listed as if all
        partitions had been admitted first (``_dead_letters``).
        """
        clocks = self.state.clocks
        for tp in partitions:
            clocks.setdefault(tp, Clock())
        parts = _by_partition(records)
        raw = {tp: recs for tp, recs in parts.items() if tp[0] in self.kinds}
        for tp in raw:
            clocks.setdefault(tp, Clock())
        out = BatchOutput()
        ctx = Context(self.state.tenant, self.config, self.resolver, self.state, stats=out.stats)
        batch = _Batch(
            out, InteractionMachine(ctx), AgentMachine(ctx), {tp: _Rejected() for tp in parts}, now_ms
        )
        with gc_paused():
            for tp, clock in clocks.items():
                idle_now = now_ms if at_eof is None or at_eof.get(tp, False) else None
                self._run_partition(tp, clock, raw.get(tp, []), idle_now, batch)
            batch.interactions.close_stale({tp: c.frontier for tp, c in clocks.items()})
            out.dead_letters = self._dead_letters(parts, batch)
            self._emit(ctx, batch.agents, out)
            self._housekeep(ctx, batch.interactions)
        self.state.batches += 1
        return out

    def _run_partition(
        self, tp: TP, clock: Clock, recs: list[Record], now_ms: int | None, batch: _Batch
    ) -> None:
        """Admit the partition's records a chunk at a time, applying what each chunk releases, then flush."""
        for start in range(0, len(recs), CHUNK_RECORDS):
            self._admit(tp, clock, recs[start : start + CHUNK_RECORDS], batch)
            self._apply(tp, _take_ready(clock), batch)
        self._flush_idle(clock, now_ms)
        self._apply(tp, _take_ready(clock), batch)

    def _flush_idle(self, clock: Clock, now_ms: int | None) -> None:
        """Release everything pending in a partition read to its end and silent for ``idle_flush_ms``."""
        if (
            now_ms is not None
            and clock.pending
            and now_ms - clock.last_append_ms >= self.config.idle_flush_ms
        ):
            clock.frontier = max(clock.frontier, clock.max_ts + 1)

    def _dead_letters(self, parts: dict[TP, list[Record]], batch: _Batch) -> list[DeadLetter]:
        """The batch's dead letters: per partition (in ``records`` order) what admission refused, then the
        events the state machines refused."""
        dead: list[DeadLetter] = []
        for tp, recs in parts.items():
            if tp[0] not in self.kinds:
                dead += [_dead(r, f"topic {tp[0]} is not a raw topic of this tenant") for r in recs]
            dead += sorted(batch.rejected[tp].malformed, key=_OFFSET)  # too large, then unparsable: merged
            dead += batch.rejected[tp].refused
        return dead + batch.after_end

    # --- admission: parse, de-duplicate, lateness ---------------------------------------------------------

    def _admit(self, tp: TP, clock: Clock, recs: list[Record], batch: _Batch) -> None:
        rejected, stats = batch.rejected[tp], batch.out.stats
        limit = self.config.max_record_bytes
        if any(r.value is not None and len(r.value) > limit for r in recs):
            too_large = [r for r in recs if r.value is not None and len(r.value) > limit]
            rejected.malformed += [
                _dead(r, f"malformed: record too large: {len(r.value or b'')} bytes (limit {limit})")
                for r in too_large
            ]
            stats["malformed"] += len(too_large)
            recs = [r for r in recs if r.value is None or len(r.value) <= limit]
        events, malformed = parse_records(self.kinds[tp[0]], [r.value for r in recs], self.state.tenant)
        stats["malformed"] += len(malformed)
        if malformed:
            rejected.malformed += [_dead(recs[i], f"malformed: {reason}") for i, reason in malformed]
            bad = {i for i, _reason in malformed}
            recs = [r for i, r in enumerate(recs) if i not in bad]
        self._queue(clock, recs, events, rejected.refused, stats, batch.now_ms)

    def _queue(
        self,
        clock: Clock,
        recs: list[Record],
        events: list[Any],
        refused: list[DeadLetter],
        stats: Counter[str],
        now_ms: int | None,
    ) -> None:
        """De-duplicate, dead-letter what is too late or contradicts an earlier record with its id, and queue
        the rest (``recs[i]`` carries ``events[i]``). A re-delivery has the same bytes as the first record
        (docs/events.md); another record with the same id is a producer's bug, never dropped in silence.

        An event more than ``max_future_skew_ms`` ahead of its record's timestamp (of the clock passed in,
        for a record without one) is dead-lettered as in the future before it can move the frontier: one
        such event would make every later on-time event of its partition too late. The record's own
        timestamp decides whenever it has one, so that a replay decides the same.

        The clock's times live in locals during the loop: this is the per-record hot path.
        """
        lateness, window = self.config.allowed_lateness_ms, self.config.dedup_window_ms
        skew = self.config.max_future_skew_ms
        no_timestamp_limit = NO_LIMIT if now_ms is None else now_ms + skew
        seen, pending = clock.seen, clock.pending
        max_ts, frontier = clock.max_ts, clock.frontier
        for rec, ev in zip(recs, events, strict=True):
            ts, event_id = ev.ts, ev.event_id
            if ts > (rec.timestamp_ms + skew if rec.timestamp_ms > 0 else no_timestamp_limit):
                refused.append(_dead(rec, _in_the_future(ts, rec, now_ms, skew)))
                stats["in_the_future"] += 1
                continue
            first = seen.get(event_id)
            if first is not None:  # a re-delivery, a conflicting record, or too old to tell
                if first[1] is not None and first[1] != crc32(rec.value or b""):
                    refused.append(_dead(rec, f"conflicting duplicate of offset {first[2]}"))
                    stats["conflicting_duplicates"] += 1
                elif ts < frontier - window:
                    refused.append(_dead(rec, _too_late(ts, max_ts, lateness)))
                    stats["too_late"] += 1
                else:
                    stats["duplicates"] += 1
            elif ts < frontier:
                refused.append(_dead(rec, _too_late(ts, max_ts, lateness)))
                stats["too_late"] += 1
            else:
                seen[event_id] = (ts, crc32(rec.value or b""), rec.offset)
                pending.append((ts, ev.seq, rec.offset, ev))
                if ts < max_ts:
                    stats["late"] += 1
            if ts > max_ts:
                max_ts = ts
                if ts - lateness > frontier:
                    frontier = ts - lateness
        clock.max_ts, clock.frontier = max_ts, frontier
        if recs:
            clock.last_append_ms = max(clock.last_append_ms, recs[-1].timestamp_ms)

    # --- release: apply pending events below the frontier, in event-time order ------------------------

    def _apply(self, tp: TP, ready: list[tuple[int, int, int, Any]], batch: _Batch) -> None:
        """Apply released events of one partition in order, noting each type while the event is at hand."""
        if not ready:
            return
        kind = self.kinds[tp[0]]
        types: list[str] = []
        note = types.append
        if kind == "agent":
            apply_agent = batch.agents.apply
            for item in ready:
                ev = item[3]
                note(ev.event_type)
                apply_agent(ev)
        else:
            interactions = batch.interactions
            apply = interactions.apply_voice if kind == "voice" else interactions.apply_digital
            for _ts, _seq, offset, ev in ready:
                note(ev.event_type)
                reason = apply(ev, tp)
                if reason:
                    batch.out.stats["after_end"] += 1
                    batch.after_end.append(_dead_event(tp, offset, ev, reason))
        by_type = batch.out.events_by_type
        for event_type, count in Counter(types).items():
            by_type[f"{kind}.{event_type}"] += count

    # --- housekeeping: forget what can no longer change ----------------------------------------------------

    def _housekeep(self, ctx: Context, interactions: InteractionMachine) -> None:
        state, config = self.state, self.config
        for clock in state.clocks.values():
            horizon = clock.frontier - config.dedup_window_ms
            if clock.seen and horizon > NEVER:
                clock.seen = {eid: first for eid, first in clock.seen.items() if first[0] >= horizon}
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
        interactions, closed, acw, resolver = (
            self.state.interactions,
            self.state.closed,
            self.state.acw,
            self.resolver,
        )
        for ixn_id in sorted(ctx.dirty_interactions):
            ixn = interactions.get(ixn_id) or closed.get(ixn_id)
            if ixn is not None:
                facts += interaction_rows(ixn, acw, resolver)
        for key in sorted(ctx.dirty_agents):
            facts += agents.open_rows(key)
        out.facts = facts
        out.facts_by_table.update(map(_TABLE, facts))


_TS = itemgetter(0)
_OFFSET = attrgetter("offset")
_TABLE = itemgetter(0)


def _take_ready(clock: Clock) -> list[tuple[int, int, int, Any]]:
    """Remove and return the clock's pending events below its frontier, in application order."""
    pending = clock.pending
    if not pending:
        return pending
    pending.sort()  # (ts, seq, offset, event): (ts, seq) order, ties in offset order; no key tuples to build
    cut = bisect_left(pending, clock.frontier, key=_TS)
    ready, clock.pending = pending[:cut], pending[cut:]
    return ready


def _by_partition(records: Sequence[Record]) -> dict[TP, list[Record]]:
    parts: dict[TP, list[Record]] = {}
    for rec in records:
        tp = (rec.topic, rec.partition)
        recs = parts.get(tp)
        if recs is None:
            recs = parts[tp] = []
        recs.append(rec)
    return parts


NO_LIMIT = 2**63
"""An event time no event reaches: no future check for a record without timestamp and no clock given."""


def _in_the_future(ts: int, rec: Record, now_ms: int | None, skew: int) -> str:
    reference, what = (
        (rec.timestamp_ms, "its record's timestamp") if rec.timestamp_ms > 0 else (now_ms, "now")
    )
    ahead = ts - (reference or 0)
    return f"in the future: {ahead} ms ahead of {what} (allowed skew {skew} ms)"


def _too_late(ts: int, max_ts: int, lateness: int) -> str:
    behind = max_ts - ts
    return f"too late: {behind} ms behind the newest event of its partition (allowed lateness {lateness} ms)"


def _dead(rec: Record, reason: str) -> DeadLetter:
    return DeadLetter(rec.topic, rec.partition, rec.offset, rec.key, rec.value, reason)


def _dead_event(tp: TP, offset: int, ev: Any, reason: str) -> DeadLetter:
    """A dead letter for a parsed event the state machine refused (its value re-serialised from the event)."""
    return DeadLetter(tp[0], tp[1], offset, None, msgspec.json.encode(ev), reason)
