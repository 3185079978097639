"""The GSP's ``KeyResolver`` from the latest GCA snapshot: events' names and ids to Info Mart keys.

Mapping (see the GCA record format in ``core/gca``): an agent's employee id → its ``person`` RESOURCE_KEY, a
place name → PLACE_KEY, a queue's name or number (ACD queue, virtual queue, routing point DNs) →
RESOURCE_KEY, a not-ready reason name → RESOURCE_STATE_REASON_KEY. Each object resolves to its newest key
version (a deleted agent's closed version still resolves, so late events of someone who left keep their
key). Events of objects GCA does not know resolve to the unknown key, as ``KeyResolver`` does.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from gim_dagster.core.gsp.keys import KeyResolver

QUEUE_TYPES = frozenset({"acd_queue", "virtual_queue", "routing_point"})


def newest_keys(keys: pa.Table) -> dict[tuple[str, int], int]:
    """``(object_type, dbid) -> dim_key`` of the newest version (largest ``start_ts``) of each object."""
    newest: dict[tuple[str, int], tuple[int, int]] = {}
    for row in keys.select(["object_type", "dbid", "dim_key", "start_ts"]).to_pylist():
        ident, start = (row["object_type"], row["dbid"]), row["start_ts"] or 0
        if ident not in newest or start >= newest[ident][0]:
            newest[ident] = (start, row["dim_key"])
    return {ident: key for ident, (_, key) in newest.items()}


def resolver_from_gca(tables: Mapping[str, pa.Table], keys: pa.Table) -> KeyResolver:
    key_of = newest_keys(keys)

    def mapping(
        object_type: str, *names: str, where: str | None = None, allowed: frozenset = frozenset()
    ) -> dict[str, int]:
        result: dict[str, int] = {}
        for row in tables[object_type].to_pylist():
            key = key_of.get((object_type, row["dbid"]))
            if key is None or (where is not None and row[where] not in allowed):
                continue
            for name in names:
                if row[name]:
                    result[row[name]] = key
        return result

    return KeyResolver(
        agents=mapping("person", "employee_id", where="is_agent", allowed=frozenset({True})),
        queues=mapping("dn", "name", "number", where="dn_type", allowed=QUEUE_TYPES),
        places=mapping("place", "name"),
        reasons=mapping(
            "attribute_value", "name", where="attribute", allowed=frozenset({"not_ready_reason"})
        ),
    )
