"""Stable keys of the seeded (static) dimensions, for producers that resolve keys without a database.

Part of the fact-record contract: GSP puts these keys into facts, and the Info Mart's initial migration
seeds exactly these rows (a test checks that the two agree). Keys never change once released: a new value
gets a new key in a new migration, and is added here at the same time.

Conventions for configuration dimensions (written by GCA):

* ``TENANT_KEY`` is 1: every tenant has its own Info Mart database, holding one TENANT row.
* Key ``UNKNOWN_KEY`` (-1) is seeded in ``RESOURCE_``, ``PLACE``, ``GROUP_``, ``SKILL`` and
  ``RESOURCE_STATE_REASON``: GSP uses it for an agent, place, ... it cannot resolve (never drops the fact);
  GCA assigns keys >= 1 only.
* ``NO_GROUP_COMBINATION_KEY`` (-1) is the ``RESOURCE_GROUP_COMBINATION`` of a resource in no group.
"""

from __future__ import annotations

from typing import NamedTuple

TENANT_KEY = 1
UNKNOWN_KEY = -1
NO_GROUP_COMBINATION_KEY = -1
INIT_AUDIT_KEY = 1
"""CTL_AUDIT_LOG row of the schema initialisation: the audit key of every seeded row."""


class MediaType(NamedTuple):
    key: int
    code: str
    name: str
    is_online: int


MEDIA_VOICE = MediaType(1, "VOICE", "Voice", 1)
MEDIA_CHAT = MediaType(2, "CHAT", "Chat", 1)
MEDIA_EMAIL = MediaType(3, "EMAIL", "E-mail", 0)
MEDIA_TYPES: tuple[MediaType, ...] = (MEDIA_VOICE, MEDIA_CHAT, MEDIA_EMAIL)
MEDIA_TYPE_KEY: dict[str, int] = {m.code: m.key for m in MEDIA_TYPES}


class InteractionType(NamedTuple):
    key: int
    type_code: str
    subtype_code: str


INBOUND = InteractionType(1, "INBOUND", "INBOUNDNEW")
OUTBOUND = InteractionType(2, "OUTBOUND", "OUTBOUNDNEW")
INTERNAL = InteractionType(3, "INTERNAL", "INTERNALNEW")
CONSULT = InteractionType(4, "INTERNAL", "CONSULT")
INTERACTION_TYPES: tuple[InteractionType, ...] = (INBOUND, OUTBOUND, INTERNAL, CONSULT)
INTERACTION_TYPE_KEY: dict[str, int] = {"INBOUND": 1, "OUTBOUND": 2, "INTERNAL": 3, "CONSULT": 4}


class TechnicalDescriptor(NamedTuple):
    key: int
    resource_role: str
    role_reason: str
    technical_result: str
    result_reason: str


U = "UNKNOWN"
TD_UNKNOWN = TechnicalDescriptor(-1, U, U, U, U)
# handling resources (INTERACTION_RESOURCE_FACT)
TD_COMPLETED = TechnicalDescriptor(1, "RECEIVED", U, "COMPLETED", "ANSWEREDBYAGENT")
TD_TRANSFERRED = TechnicalDescriptor(2, "RECEIVED", U, "TRANSFERRED", "ANSWEREDBYAGENT")
TD_CONFERENCED = TechnicalDescriptor(3, "RECEIVED", U, "CONFERENCED", "ANSWEREDBYAGENT")
TD_REDIRECTED = TechnicalDescriptor(4, "RECEIVED", U, "REDIRECTED", "NOANSWER")
TD_ABANDONED_WHILE_RINGING = TechnicalDescriptor(5, "RECEIVED", U, "ABANDONED", "ABANDONEDWHILERINGING")
TD_REJECTED = TechnicalDescriptor(6, "RECEIVED", U, "REDIRECTED", "REJECTED")
TD_INITIATED_COMPLETED = TechnicalDescriptor(7, "INITIATED", U, "COMPLETED", U)
TD_INITIATED_ABANDONED = TechnicalDescriptor(8, "INITIATED", U, "ABANDONED", "NOANSWER")
TD_INITIATED_TRANSFERRED = TechnicalDescriptor(9, "INITIATED", U, "TRANSFERRED", U)
TD_IN_CONFERENCE = TechnicalDescriptor(10, "INCONFERENCE", "CONFERENCEJOINED", "COMPLETED", U)
TD_CONSULT_RECEIVED = TechnicalDescriptor(11, "RECEIVEDCONSULT", U, "COMPLETED", U)
TD_CONSULT_INITIATED = TechnicalDescriptor(12, "INITIATEDCONSULT", U, "COMPLETED", U)
# mediation (MEDIATION_SEGMENT_FACT)
TD_DIVERTED = TechnicalDescriptor(13, "ROUTEDTO", U, "DIVERTED", "ANSWEREDBYAGENT")
TD_DIVERTED_ABANDONED_WHILE_RINGING = TechnicalDescriptor(
    14, "ROUTEDTO", U, "DIVERTED", "ABANDONEDWHILERINGING"
)
TD_ABANDONED_WHILE_QUEUED = TechnicalDescriptor(15, "ROUTEDTO", U, "ABANDONED", "ABANDONEDWHILEQUEUED")
TD_CLEARED = TechnicalDescriptor(16, "ROUTEDTO", U, "CLEARED", U)
# either: an interaction GSP closed because it stayed open past the configured timeout
TD_CLOSED_BY_TIMEOUT = TechnicalDescriptor(17, U, U, "CLEARED", "STUCK")

TECHNICAL_DESCRIPTORS: tuple[TechnicalDescriptor, ...] = (
    TD_UNKNOWN,
    TD_COMPLETED,
    TD_TRANSFERRED,
    TD_CONFERENCED,
    TD_REDIRECTED,
    TD_ABANDONED_WHILE_RINGING,
    TD_REJECTED,
    TD_INITIATED_COMPLETED,
    TD_INITIATED_ABANDONED,
    TD_INITIATED_TRANSFERRED,
    TD_IN_CONFERENCE,
    TD_CONSULT_RECEIVED,
    TD_CONSULT_INITIATED,
    TD_DIVERTED,
    TD_DIVERTED_ABANDONED_WHILE_RINGING,
    TD_ABANDONED_WHILE_QUEUED,
    TD_CLEARED,
    TD_CLOSED_BY_TIMEOUT,
)


class ResourceState(NamedTuple):
    key: int
    code: str
    name: str


STATE_READY = ResourceState(1, "READY", "Ready")
STATE_NOTREADY = ResourceState(2, "NOTREADY", "Not Ready")
STATE_BUSY = ResourceState(3, "BUSY", "Busy")
STATE_ACW = ResourceState(4, "ACW", "After Call Work")
STATE_LOGGED_OUT = ResourceState(5, "LOGGED_OUT", "Logged Out")
RESOURCE_STATES: tuple[ResourceState, ...] = (
    STATE_READY,
    STATE_NOTREADY,
    STATE_BUSY,
    STATE_ACW,
    STATE_LOGGED_OUT,
)
RESOURCE_STATE_KEY: dict[str, int] = {s.code: s.key for s in RESOURCE_STATES}


def technical_descriptor_key(
    resource_role: str, technical_result: str, result_reason: str = U, role_reason: str = U
) -> int:
    """Key of the seeded descriptor with these codes; ``TD_UNKNOWN.key`` when none matches."""
    wanted = (resource_role, role_reason, technical_result, result_reason)
    return _TD_BY_CODES.get(wanted, TD_UNKNOWN.key)


_TD_BY_CODES: dict[tuple[str, str, str, str], int] = {
    (t.resource_role, t.role_reason, t.technical_result, t.result_reason): t.key
    for t in TECHNICAL_DESCRIPTORS
}
