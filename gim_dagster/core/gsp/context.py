"""What the interaction and agent state machines share while one micro-batch is applied."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from gim_dagster.core.gsp.keys import KeyResolver
from gim_dagster.core.gsp.rows import Row
from gim_dagster.core.gsp.state import GspState

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class GspConfig:
    """Time semantics (event time, milliseconds).

    ``allowed_lateness_ms``: how far behind the newest event of its partition an event may arrive and still be
    applied in its place; later ones are dead-lettered. ``dedup_window_ms``: how long (event time, behind the
    partition's frontier) event ids are remembered. ``interaction_timeout_ms``: an interaction with no event
    for this long is closed with the technical result CLEARED/STUCK. ``closed_retention_ms``: how long after
    its end a stray event for an interaction is dead-lettered rather than starting a new one.
    ``acw_grace_ms``: how long a closed call waits for its agents' after-call work before it leaves the state.
    ``idle_flush_ms``: a partition that received nothing for this long (by the clock passed to ``process``)
    has all its pending events applied. ``max_record_bytes``: a raw record larger than this is dead-lettered
    unread, so that no fact built from accepted events can outgrow a Kafka record (1 MB by default).
    ``max_future_skew_ms``: how far an event's ``ts`` may be ahead of its Kafka record's timestamp (or of
    the caller's clock, for a record without one) before it is dead-lettered as in the future. At most the
    allowed lateness, so an accepted event from a fast clock never makes an on-time event too late.
    """

    allowed_lateness_ms: int = 15_000
    dedup_window_ms: int = 600_000
    interaction_timeout_ms: int = 24 * HOUR_MS
    closed_retention_ms: int = 2 * HOUR_MS
    acw_grace_ms: int = HOUR_MS
    idle_flush_ms: int = 600_000
    max_record_bytes: int = 65_536
    max_future_skew_ms: int = 15_000

    def __post_init__(self) -> None:
        if self.dedup_window_ms < self.allowed_lateness_ms:
            raise ValueError("dedup_window_ms must be at least allowed_lateness_ms")
        if self.max_future_skew_ms < 0:
            raise ValueError("max_future_skew_ms must not be negative")
        if min(self.allowed_lateness_ms, self.interaction_timeout_ms, self.closed_retention_ms) <= 0:
            raise ValueError("lateness, timeout and retention must be positive")

    @classmethod
    def with_lateness(cls, allowed_lateness_ms: int, idle_flush_ms: int) -> GspConfig:
        """The defaults with this lateness and idle flush; the future skew is capped at the lateness and
        the de-duplication window is at least the lateness."""
        base = cls()
        return cls(
            allowed_lateness_ms=allowed_lateness_ms,
            dedup_window_ms=max(base.dedup_window_ms, allowed_lateness_ms),
            idle_flush_ms=idle_flush_ms,
            max_future_skew_ms=min(base.max_future_skew_ms, allowed_lateness_ms),
        )


@dataclass
class Context:
    tenant: str
    config: GspConfig
    resolver: KeyResolver
    state: GspState
    rows: list[tuple[str, Row]] = field(default_factory=list)
    """Final rows of facts that closed (agent states and sessions), in the order they closed."""
    dirty_interactions: set[str] = field(default_factory=set)
    dirty_agents: set[tuple[str, str]] = field(default_factory=set)
    stats: Counter[str] = field(default_factory=Counter)
