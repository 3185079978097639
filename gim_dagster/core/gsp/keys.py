"""Deterministic fact identities and the resolution of configuration objects to dimension keys.

Fact ids are a stable 63-bit hash of the tenant and the upstream ids that identify the fact, so re-processing
the same events (a re-run after a crash, a different split into micro-batches) gives the same ids, and the
Info Mart's upsert by primary key ``(<id>, start_date_time_key)`` replaces a re-emitted fact instead of adding
a second row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import blake2b

from gim_dagster.core.infomart.static_keys import NO_GROUP_COMBINATION_KEY, UNKNOWN_KEY

INTERVAL_S = 900
"""DATE_TIME granularity: 15-minute intervals keyed by their start in UTC seconds."""


def fact_id(tenant: str, kind: str, *parts: str) -> int:
    """A stable, positive 63-bit id of the fact ``kind`` identified by ``parts`` within ``tenant``."""
    text = "\x1f".join((tenant, kind, *parts)).encode()
    return int.from_bytes(blake2b(text, digest_size=8).digest(), "big") >> 1 or 1


def irf_id(tenant: str, interaction_id: str, agent_id: str) -> int:
    """The INTERACTION_RESOURCE_FACT of one agent in one interaction (computable from both event streams)."""
    return fact_id(tenant, "irf", interaction_id, agent_id)


def date_time_key(ts_s: int) -> int:
    """The DATE_TIME key (15-minute interval start, UTC seconds) of a time in UTC seconds."""
    return ts_s - ts_s % INTERVAL_S


@dataclass(frozen=True)
class KeyResolver:
    """Configuration keys from plain dicts; anything unknown resolves to ``UNKNOWN_KEY`` and is never dropped.

    ``agents`` maps the employee id carried by events to the agent's RESOURCE_KEY, ``queues`` a queue name to
    its RESOURCE_KEY, ``places`` a place name to PLACE_KEY, ``reasons`` a not-ready reason code to
    RESOURCE_STATE_REASON_KEY and ``group_combinations`` an agent's RESOURCE_KEY to its
    RESOURCE_GROUP_COMBINATION_KEY. Built by an adapter from the GCA snapshot; empty until one exists.
    """

    agents: Mapping[str, int] = field(default_factory=dict)
    queues: Mapping[str, int] = field(default_factory=dict)
    places: Mapping[str, int] = field(default_factory=dict)
    reasons: Mapping[str, int] = field(default_factory=dict)
    group_combinations: Mapping[int, int] = field(default_factory=dict)

    def agent(self, employee_id: str | None) -> int:
        return self.agents.get(employee_id, UNKNOWN_KEY) if employee_id else UNKNOWN_KEY

    def queue(self, name: str | None) -> int:
        return self.queues.get(name, UNKNOWN_KEY) if name else UNKNOWN_KEY

    def place(self, name: str | None) -> int:
        return self.places.get(name, UNKNOWN_KEY) if name else UNKNOWN_KEY

    def reason(self, code: str | None) -> int:
        return self.reasons.get(code, UNKNOWN_KEY) if code else UNKNOWN_KEY

    def group_combination(self, resource_key: int) -> int:
        return self.group_combinations.get(resource_key, NO_GROUP_COMBINATION_KEY)
