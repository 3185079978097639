"""The raw event contract (design.md section 3): one msgspec ``Struct`` per event type, one union per topic.

The JSON Schemas in ``schemas/`` are generated from these types (``python -m
gim_dagster.core.events.schema_gen``) and a test fails when the two drift apart. Decoding is strict (no
coercion: ``"ts": "1"`` is rejected) and ignores unknown fields, so producers may add fields without breaking
consumers. See ``docs/events.md`` for the meaning of every field.

msgspec rather than pydantic because GSP decodes every raw record: msgspec validates straight from JSON bytes
into slotted objects three to four times faster (paired runs, voice: 680,000-710,000 against 185,000-280,000
events/s), and its objects' attributes read like a plain class's. ``event_type`` is the union's tag: each
class carries it as a class attribute (``VoiceQueued.event_type == "queued"``); the encoder writes it.
Subclasses inherit ``frozen``, ``gc`` and the tag field (``kw_only`` is per class). Events are not tracked by
the cyclic garbage collector (``gc=False``): they hold only strings, integers and lists and dicts of strings,
so they cannot be part of a cycle. They are ordered (``order=True``) only so that a sort of
``(ts, seq, offset, event)`` tuples can never fail, should a caller pass one offset twice.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from msgspec import Meta, Struct, field

TopicKind = Literal["voice", "digital", "agent"]
TOPIC_KINDS: tuple[TopicKind, ...] = ("voice", "digital", "agent")

CallType = Literal["inbound", "outbound", "internal", "consult"]
DigitalMedia = Literal["chat", "email"]
AgentMedia = Literal["voice", "chat", "email"]
NonEmpty = Annotated[str, Meta(min_length=1)]
MAX_TS = 2_145_916_799_999
"""2037-12-31T23:59:59.999Z. Info Mart date-time keys are 32-bit UTC seconds (the Genesys model's INTEGER
``*_DATE_TIME_KEY``), and the fact partition of the latest accepted instant must end within that range
whatever its width (day, ISO week or month): a later ``ts`` could not be stored, so it is malformed here
rather than a failed load."""


class Envelope(Struct, frozen=True, order=True, kw_only=True, gc=False, tag_field="event_type"):
    """Fields every event carries, on every topic."""

    event_type: ClassVar[str]
    event_id: NonEmpty
    ts: Annotated[int, Meta(ge=0, le=MAX_TS, description="event time, UTC epoch milliseconds")]
    seq: Annotated[int, Meta(ge=0, description="source sequence number: orders events with equal ts")]
    tenant: NonEmpty


# --- voice (telephony server call model) -------------------------------------------------------------


class VoiceBase(Envelope, kw_only=True):
    """A call event reported on one DN (the ``dn`` field)."""

    call_id: NonEmpty
    connection_id: NonEmpty
    call_type: CallType
    dn: NonEmpty
    parties: list[str]
    agent_id: str | None = None
    place: str | None = None
    other_dn: str | None = None
    other_agent_id: str | None = None
    queue: str | None = None
    virtual_queue: str | None = None
    ani: str | None = None
    dnis: str | None = None
    user_data: dict[str, str] = field(default_factory=dict)


class _AtAgent(VoiceBase, kw_only=True):
    agent_id: NonEmpty
    place: NonEmpty


class VoiceQueued(VoiceBase, kw_only=True, tag="queued"):
    queue: NonEmpty
    routing_point: str | None = None


class VoiceDiverted(VoiceBase, kw_only=True, tag="diverted"):
    queue: NonEmpty
    other_dn: NonEmpty
    other_agent_id: NonEmpty


class VoiceAbandoned(VoiceBase, kw_only=True, tag="abandoned"):
    pass


class VoiceRinging(_AtAgent, kw_only=True, tag="ringing"):
    pass


class VoiceDialing(_AtAgent, kw_only=True, tag="dialing"):
    other_dn: NonEmpty


class VoiceEstablished(_AtAgent, kw_only=True, tag="established"):
    pass


class VoiceHeld(_AtAgent, kw_only=True, tag="held"):
    pass


class VoiceRetrieved(_AtAgent, kw_only=True, tag="retrieved"):
    pass


class VoicePartyChanged(_AtAgent, kw_only=True, tag="party_changed"):
    transfer_type: Literal["blind", "consult"]
    other_dn: NonEmpty


class VoiceConferenced(_AtAgent, kw_only=True, tag="conferenced"):
    other_dn: NonEmpty
    other_agent_id: NonEmpty


class VoiceReleased(_AtAgent, kw_only=True, tag="released"):
    pass


VoiceEvent = (
    VoiceQueued
    | VoiceDiverted
    | VoiceAbandoned
    | VoiceRinging
    | VoiceDialing
    | VoiceEstablished
    | VoiceHeld
    | VoiceRetrieved
    | VoicePartyChanged
    | VoiceConferenced
    | VoiceReleased
)

# --- digital (interaction server: chat and email) -----------------------------------------------------


class DigitalBase(Envelope, kw_only=True):
    interaction_id: NonEmpty
    media: DigitalMedia
    queue: str | None = None
    virtual_queue: str | None = None
    agent_id: str | None = None
    place: str | None = None
    user_data: dict[str, str] = field(default_factory=dict)


class _ToAgent(DigitalBase, kw_only=True):
    agent_id: NonEmpty
    place: NonEmpty


class DigitalSubmitted(DigitalBase, kw_only=True, tag="submitted"):
    from_address: NonEmpty
    to_address: str | None = None


class DigitalQueued(DigitalBase, kw_only=True, tag="queued"):
    queue: NonEmpty


class DigitalOffered(_ToAgent, kw_only=True, tag="offered"):
    queue: NonEmpty


class DigitalAccepted(_ToAgent, kw_only=True, tag="accepted"):
    pass


class DigitalRejected(_ToAgent, kw_only=True, tag="rejected"):
    pass


class DigitalTransferred(_ToAgent, kw_only=True, tag="transferred"):
    queue: NonEmpty


class DigitalCompleted(DigitalBase, kw_only=True, tag="completed"):
    reason: Literal["done", "abandoned", "stopped"]


DigitalEvent = (
    DigitalSubmitted
    | DigitalQueued
    | DigitalOffered
    | DigitalAccepted
    | DigitalRejected
    | DigitalTransferred
    | DigitalCompleted
)

# --- agent (agent state service) ----------------------------------------------------------------------


class AgentBase(Envelope, kw_only=True):
    agent_id: NonEmpty
    login_code: NonEmpty
    place: NonEmpty
    dn: str | None = None
    media: AgentMedia
    session_id: NonEmpty


class AgentLogin(AgentBase, kw_only=True, tag="login"):
    pass


class AgentLogout(AgentBase, kw_only=True, tag="logout"):
    pass


class AgentReady(AgentBase, kw_only=True, tag="ready"):
    pass


class AgentNotReady(AgentBase, kw_only=True, tag="not_ready"):
    reason_code: NonEmpty


class AgentBusy(AgentBase, kw_only=True, tag="busy"):
    interaction_id: NonEmpty


class AgentAfterCallWork(AgentBase, kw_only=True, tag="after_call_work"):
    interaction_id: NonEmpty


AgentEvent = AgentLogin | AgentLogout | AgentReady | AgentNotReady | AgentBusy | AgentAfterCallWork

Event = VoiceBase | DigitalBase | AgentBase

TOPIC_UNIONS: dict[TopicKind, object] = {"voice": VoiceEvent, "digital": DigitalEvent, "agent": AgentEvent}

for _union in (VoiceEvent, DigitalEvent, AgentEvent):
    for _cls in get_args(_union):
        _cls.event_type = _cls.__struct_config__.tag  # the tag, readable as ``ev.event_type``
