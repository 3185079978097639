"""The raw event contract (design.md section 3): one pydantic model per event type, one union per topic.

The JSON Schemas in ``schemas/`` are generated from these models (``python -m
gim_dagster.core.events.schema_gen``) and a test fails when the two drift apart. Models are strict (no
coercion: ``"ts": "1"`` is rejected) and ignore unknown fields, so producers may add fields without breaking
consumers. See ``docs/events.md`` for the meaning of every field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

TopicKind = Literal["voice", "digital", "agent"]
TOPIC_KINDS: tuple[TopicKind, ...] = ("voice", "digital", "agent")

CallType = Literal["inbound", "outbound", "internal", "consult"]
DigitalMedia = Literal["chat", "email"]
AgentMedia = Literal["voice", "chat", "email"]
NonEmpty = Annotated[str, Field(min_length=1)]


class Envelope(BaseModel):
    """Fields every event carries, on every topic."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    event_id: NonEmpty
    ts: Annotated[int, Field(ge=0, description="event time, UTC epoch milliseconds")]
    seq: Annotated[int, Field(ge=0, description="source sequence number: orders events with equal ts")]
    tenant: NonEmpty


# --- voice (telephony server call model) -------------------------------------------------------------


class VoiceBase(Envelope):
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
    user_data: dict[str, str] = Field(default_factory=dict)


class _AtAgent(VoiceBase):
    agent_id: NonEmpty
    place: NonEmpty


class VoiceQueued(VoiceBase):
    event_type: Literal["queued"]
    queue: NonEmpty
    routing_point: str | None = None


class VoiceDiverted(VoiceBase):
    event_type: Literal["diverted"]
    queue: NonEmpty
    other_dn: NonEmpty
    other_agent_id: NonEmpty


class VoiceAbandoned(VoiceBase):
    event_type: Literal["abandoned"]


class VoiceRinging(_AtAgent):
    event_type: Literal["ringing"]


class VoiceDialing(_AtAgent):
    event_type: Literal["dialing"]
    other_dn: NonEmpty


class VoiceEstablished(_AtAgent):
    event_type: Literal["established"]


class VoiceHeld(_AtAgent):
    event_type: Literal["held"]


class VoiceRetrieved(_AtAgent):
    event_type: Literal["retrieved"]


class VoicePartyChanged(_AtAgent):
    event_type: Literal["party_changed"]
    transfer_type: Literal["blind", "consult"]
    other_dn: NonEmpty


class VoiceConferenced(_AtAgent):
    event_type: Literal["conferenced"]
    other_dn: NonEmpty
    other_agent_id: NonEmpty


class VoiceReleased(_AtAgent):
    event_type: Literal["released"]


VoiceEvent = Annotated[
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
    | VoiceReleased,
    Field(discriminator="event_type"),
]

# --- digital (interaction server: chat and email) -----------------------------------------------------


class DigitalBase(Envelope):
    interaction_id: NonEmpty
    media: DigitalMedia
    queue: str | None = None
    virtual_queue: str | None = None
    agent_id: str | None = None
    place: str | None = None
    user_data: dict[str, str] = Field(default_factory=dict)


class _ToAgent(DigitalBase):
    agent_id: NonEmpty
    place: NonEmpty


class DigitalSubmitted(DigitalBase):
    event_type: Literal["submitted"]
    from_address: NonEmpty
    to_address: str | None = None


class DigitalQueued(DigitalBase):
    event_type: Literal["queued"]
    queue: NonEmpty


class DigitalOffered(_ToAgent):
    event_type: Literal["offered"]
    queue: NonEmpty


class DigitalAccepted(_ToAgent):
    event_type: Literal["accepted"]


class DigitalRejected(_ToAgent):
    event_type: Literal["rejected"]


class DigitalTransferred(_ToAgent):
    event_type: Literal["transferred"]
    queue: NonEmpty


class DigitalCompleted(DigitalBase):
    event_type: Literal["completed"]
    reason: Literal["done", "abandoned", "stopped"]


DigitalEvent = Annotated[
    DigitalSubmitted
    | DigitalQueued
    | DigitalOffered
    | DigitalAccepted
    | DigitalRejected
    | DigitalTransferred
    | DigitalCompleted,
    Field(discriminator="event_type"),
]

# --- agent (agent state service) ----------------------------------------------------------------------


class AgentBase(Envelope):
    agent_id: NonEmpty
    login_code: NonEmpty
    place: NonEmpty
    dn: str | None = None
    media: AgentMedia
    session_id: NonEmpty


class AgentLogin(AgentBase):
    event_type: Literal["login"]


class AgentLogout(AgentBase):
    event_type: Literal["logout"]


class AgentReady(AgentBase):
    event_type: Literal["ready"]


class AgentNotReady(AgentBase):
    event_type: Literal["not_ready"]
    reason_code: NonEmpty


class AgentBusy(AgentBase):
    event_type: Literal["busy"]
    interaction_id: NonEmpty


class AgentAfterCallWork(AgentBase):
    event_type: Literal["after_call_work"]
    interaction_id: NonEmpty


AgentEvent = Annotated[
    AgentLogin | AgentLogout | AgentReady | AgentNotReady | AgentBusy | AgentAfterCallWork,
    Field(discriminator="event_type"),
]

Event = VoiceBase | DigitalBase | AgentBase

TOPIC_UNIONS: dict[TopicKind, object] = {"voice": VoiceEvent, "digital": DigitalEvent, "agent": AgentEvent}
