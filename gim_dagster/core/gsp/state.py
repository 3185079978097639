"""GSP state: everything one tenant's stream processor carries from one micro-batch to the next.

Plain slotted dataclasses, serialised with pickle and compressed with zlib (``dumps`` / ``loads``). The state
holds the Kafka offsets it covers, so a checkpoint is self-describing: processing resumes at ``offsets``.

Pending events (``Clock.pending``) are raw-event objects. Checkpoints written while those were pydantic models
(before they became msgspec Structs) still load: ``loads`` rebuilds each such event as its Struct. Checkpoints
whose ``Clock.seen`` held only event times load with no checksum (their ids cannot be told to conflict).
"""

from __future__ import annotations

import io
import pickle
import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from gim_dagster.core.kafka_io import TP

_EVENTS_MODULE = "gim_dagster.core.events.models"

FORMAT_VERSION = 1
NEVER = -(2**62)
"""A frontier no event time is below: the partition has not seen anything yet."""


@dataclass(slots=True)
class Clock:
    """Event time of one raw partition.

    ``max_ts`` is the largest event time read from the partition; ``frontier`` (``max_ts`` minus the allowed
    lateness, or more after an idle flush) separates released events from pending ones: every event below it
    has been applied, and a record below it arriving now is too late. Both depend only on the records of the
    partition in offset order, never on where micro-batches start or end.
    """

    max_ts: int = NEVER
    frontier: int = NEVER
    last_append_ms: int = 0
    pending: list[tuple[int, int, int, Any]] = field(default_factory=list)  # (ts, seq, offset, event)
    seen: dict[str, tuple[int, int | None, int]] = field(default_factory=dict)
    """event_id -> (ts, crc32 of the record's value, offset) of its first record, for de-duplication."""


@dataclass(slots=True)
class Mediation:
    """A stay in a queue (MEDIATION_SEGMENT_FACT)."""

    msf_id: int
    queue: str
    start_ms: int
    end_ms: int | None = None
    outcome: str | None = None  # routed, abandoned, abandoned_ringing, stopped, timeout
    target_irf: int | None = None


@dataclass(slots=True)
class Leg:
    """One agent's part in one interaction, as seen by the interaction (INTERACTION_RESOURCE_FACT)."""

    irf_id: int
    agent_id: str
    place: str | None
    role: str  # received, initiated, consult
    order: int
    start_ms: int
    mediation_id: int | None = None
    mediation_queue: str | None = None
    received_from: int | None = None
    prev: int | None = None
    end_ms: int | None = None
    result: str | None = None  # completed, transferred, conferenced, abandoned, rejected, no_answer, timeout
    open: dict[str, int] = field(default_factory=dict)  # interval kind -> start ms
    counts: dict[str, int] = field(default_factory=dict)
    secs: dict[str, int] = field(default_factory=dict)
    conferenced: bool = False


@dataclass(slots=True)
class Interaction:
    """One call, chat or email while it is open, and for a while after it closed (see ``Processor``)."""

    ixn_id: str
    fact_id: int
    media: str  # voice, chat, email
    itype: str  # INBOUND, OUTBOUND, INTERNAL, CONSULT
    start_ms: int
    last_ms: int
    tp: TP
    source: str | None = None
    target: str | None = None
    subject: str | None = None
    end_ms: int | None = None
    timed_out: bool = False
    legs: dict[str, Leg] = field(default_factory=dict)
    mediations: list[Mediation] = field(default_factory=list)
    connected: set[str] = field(default_factory=set)
    requeue_pending: bool = False


@dataclass(slots=True)
class AgentState:
    """One agent on one media: the open login session and the open state interval."""

    session_id: str = ""
    session_key: int | None = None
    session_start_ms: int = 0
    place: str | None = None
    state: str | None = None  # READY, NOTREADY, BUSY, ACW
    state_event_id: str = ""
    state_start_ms: int = 0
    reason: str | None = None
    interaction_id: str | None = None


@dataclass(slots=True)
class Acw:
    """After-call work of one agent for one interaction (from the agent stream), joined into its IRF."""

    interaction_id: str
    count: int = 0
    secs: int = 0
    last_ms: int = 0
    done: bool = False  # the agent has moved on from this interaction


@dataclass
class GspState:
    """The whole state of one tenant's GSP; ``offsets`` is where the next micro-batch starts reading."""

    tenant: str
    offsets: dict[TP, int] = field(default_factory=dict)
    at_eof: dict[TP, bool] = field(default_factory=dict)
    clocks: dict[TP, Clock] = field(default_factory=dict)
    interactions: dict[str, Interaction] = field(default_factory=dict)
    closed: dict[str, Interaction] = field(default_factory=dict)
    tombstones: dict[str, tuple[int, TP]] = field(
        default_factory=dict
    )  # ixn id -> (retained until, partition)
    agents: dict[tuple[str, str], AgentState] = field(default_factory=dict)
    acw: dict[int, Acw] = field(default_factory=dict)  # irf id -> after-call work
    batches: int = 0
    version: int = FORMAT_VERSION


def dumps(state: GspState) -> bytes:
    return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)


def loads(data: bytes) -> GspState:
    """The state of a checkpoint written by ``dumps`` (only ever read from the tenant's own bucket prefix)."""
    state = _Unpickler(io.BytesIO(zlib.decompress(data))).load()
    if not isinstance(state, GspState) or state.version != FORMAT_VERSION:
        raise ValueError(f"not a GSP checkpoint of format version {FORMAT_VERSION}")
    for clock in state.clocks.values():
        if any(isinstance(first, int) for first in clock.seen.values()):  # written before conflicts were told
            clock.seen = {
                eid: (ts, None, -1) if isinstance(ts, int) else ts for eid, ts in clock.seen.items()
            }
        if any(isinstance(item[3], _PydanticEvent) for item in clock.pending):
            clock.pending = [(ts, seq, offset, _event(ev)) for ts, seq, offset, ev in clock.pending]
    return state


class _Unpickler(pickle.Unpickler):
    """Puts a stand-in (``_event_class``) for each event class while a checkpoint loads (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        return _event_class(found) if module == _EVENTS_MODULE else found


@cache
def _event_class(struct: type) -> type:
    """A stand-in for an event Struct class: a Struct pickles as ``struct(**fields)``, which it passes on; a
    pydantic model pickled as ``__new__`` without arguments and then its state, which ``_PydanticEvent``
    keeps."""

    class _EventClass:
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs:
                return struct(*args, **kwargs)
            return _PydanticEvent(struct)

    return _EventClass


class _PydanticEvent:
    """An event of a checkpoint written before events were Structs, until ``_event`` rebuilds it."""

    def __init__(self, struct: type) -> None:
        self.struct = struct
        self.fields: dict[str, Any] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.fields = state["__dict__"]


def _event(ev: Any) -> Any:
    if not isinstance(ev, _PydanticEvent):
        return ev
    return ev.struct(**{k: v for k, v in ev.fields.items() if k != "event_type"})  # the tag is the class
