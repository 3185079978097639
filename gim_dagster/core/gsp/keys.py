"""Deterministic fact identities and the resolution of configuration objects to dimension keys.

Fact ids are a stable 63-bit hash of the tenant and the upstream ids that identify the fact, so re-processing
the same events (a re-run after a crash, a different split into micro-batches) gives the same ids, and the
Info Mart's upsert by primary key ``(<id>, start_date_time_key)`` replaces a re-emitted fact instead of adding
a second row.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import blake2b
from operator import itemgetter
from struct import Struct

from gim_dagster.core.facts.static_keys import NO_GROUP_COMBINATION_KEY, UNKNOWN_KEY

INTERVAL_S = 900
"""DATE_TIME granularity: 15-minute intervals keyed by their start in UTC seconds."""


_UINT64 = Struct(">Q").unpack
"""A digest as a big-endian unsigned integer (cheaper than ``int.from_bytes``, which GSP calls per event)."""


def fact_id(tenant: str, kind: str, *parts: str) -> int:
    """A stable, positive 63-bit id of the fact ``kind`` identified by ``parts`` within ``tenant``."""
    text = "\x1f".join((tenant, kind, *parts)).encode()
    return _UINT64(blake2b(text, digest_size=8).digest())[0] >> 1 or 1


@lru_cache(maxsize=1 << 14)
def irf_id(tenant: str, interaction_id: str, agent_id: str) -> int:
    """The INTERACTION_RESOURCE_FACT of one agent in one interaction (computable from both event streams).

    Memoised: both state machines ask for it several times per leg (queue target, leg, after-call work).
    """
    return fact_id(tenant, "irf", interaction_id, agent_id)


def date_time_key(ts_s: int) -> int:
    """The DATE_TIME key (15-minute interval start, UTC seconds) of a time in UTC seconds."""
    return ts_s - ts_s % INTERVAL_S


@dataclass(frozen=True, slots=True)
class Versions:
    """The dimension keys of one configuration object's versions, each valid from its start (UTC seconds)."""

    starts: tuple[int, ...]
    keys: tuple[int, ...]

    @classmethod
    def of(cls, versions: Iterable[tuple[int, int]]) -> Versions:
        """From ``(start, key)`` pairs; of two versions starting at the same second the later listed wins."""
        by_start = dict(sorted(versions, key=itemgetter(0)))
        return cls(tuple(by_start), tuple(by_start.values()))

    @classmethod
    def fixed(cls, key: int) -> Versions:
        return cls((0,), (key,))

    def at(self, at_s: int) -> int:
        """The key of the version valid at ``at_s``; before the first version, the first one's."""
        keys = self.keys
        if len(keys) == 1:
            return keys[0]
        return keys[max(bisect_right(self.starts, at_s) - 1, 0)]


@dataclass(frozen=True)
class KeyResolver:
    """Configuration keys valid at a time; anything unknown resolves to ``UNKNOWN_KEY`` and is never dropped.

    ``agents`` maps the employee id carried by events to the versions of the agent's RESOURCE_KEY, ``queues``
    a queue name to its RESOURCE_KEY versions, ``places`` a place name to PLACE_KEY versions, ``reasons`` a
    not-ready reason code to RESOURCE_STATE_REASON_KEY versions and ``group_combinations`` an employee id to
    the RESOURCE_GROUP_COMBINATION_KEY of each period of the agent's group memberships (-1 in none). Each
    lookup takes the time (UTC seconds) the fact starts, so a renamed agent's earlier facts keep the earlier
    version's key. Built by an adapter from the GCA snapshot (``gca_keys``); empty until one exists.
    """

    agents: Mapping[str, Versions] = field(default_factory=dict)
    queues: Mapping[str, Versions] = field(default_factory=dict)
    places: Mapping[str, Versions] = field(default_factory=dict)
    reasons: Mapping[str, Versions] = field(default_factory=dict)
    group_combinations: Mapping[str, Versions] = field(default_factory=dict)

    @classmethod
    def fixed(cls, **keys: Mapping[str, int]) -> KeyResolver:
        """One version per name whatever the time (tests, fixed configurations): ``fixed(agents={...})``."""
        return cls(
            **{
                kind: {name: Versions.fixed(key) for name, key in names.items()}
                for kind, names in keys.items()
            }
        )

    def agent(self, employee_id: str | None, at_s: int) -> int:
        return _lookup(self.agents, employee_id, at_s, UNKNOWN_KEY)

    def queue(self, name: str | None, at_s: int) -> int:
        return _lookup(self.queues, name, at_s, UNKNOWN_KEY)

    def place(self, name: str | None, at_s: int) -> int:
        return _lookup(self.places, name, at_s, UNKNOWN_KEY)

    def reason(self, code: str | None, at_s: int) -> int:
        return _lookup(self.reasons, code, at_s, UNKNOWN_KEY)

    def group_combination(self, employee_id: str | None, at_s: int) -> int:
        return _lookup(self.group_combinations, employee_id, at_s, NO_GROUP_COMBINATION_KEY)


def _lookup(keys: Mapping[str, Versions], name: str | None, at_s: int, default: int) -> int:
    versions = keys.get(name) if name else None
    return default if versions is None else versions.at(at_s)
