"""The GSP's ``KeyResolver`` from the latest GCA snapshot: events' names and ids to Info Mart keys.

Mapping (see the GCA record format in ``core/gca``): an agent's employee id → its ``person`` RESOURCE_KEY
versions and its group combinations over time, a place name → PLACE_KEY versions, a queue's name or number
(ACD queue, virtual queue, routing point DNs) → RESOURCE_KEY versions, a not-ready reason name →
RESOURCE_STATE_REASON_KEY versions. A fact gets the version valid when it starts (a deleted agent's closed
version still resolves, so late events of someone who left keep their key); a fact older than an object's
first version gets that first version (the configuration was entered after the fact). Names are those of
the current snapshot: an event that carries a name the object no longer has resolves to the unknown key, as
does anything GCA does not know.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from gim_dagster.core.gsp.keys import KeyResolver, Versions
from gim_dagster.core.infomart.static_keys import NO_GROUP_COMBINATION_KEY

QUEUE_TYPES = frozenset({"acd_queue", "virtual_queue", "routing_point"})


def key_versions(keys: pa.Table) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """``(object_type, dbid) -> [(start_ts, dim_key), ...]`` of every version of each object."""
    versions: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for row in keys.select(["object_type", "dbid", "dim_key", "start_ts"]).to_pylist():
        versions.setdefault((row["object_type"], row["dbid"]), []).append(
            (row["start_ts"] or 0, row["dim_key"])
        )
    return versions


def resolver_from_gca(tables: Mapping[str, pa.Table], keys: pa.Table) -> KeyResolver:
    versions_of = key_versions(keys)

    def mapping(
        object_type: str, *names: str, where: str | None = None, allowed: frozenset = frozenset()
    ) -> dict[str, Versions]:
        result: dict[str, Versions] = {}
        for row in tables[object_type].to_pylist():
            versions = versions_of.get((object_type, row["dbid"]))
            if versions is None or (where is not None and row[where] not in allowed):
                continue
            for name in names:
                if row[name]:
                    result[row[name]] = Versions.of(versions)
        return result

    def combinations() -> dict[str, Versions]:
        """Per agent: no group (-1) from its creation to its first membership, then the GCA pieces."""
        result: dict[str, Versions] = {}
        for row in tables["person"].to_pylist():
            pieces = versions_of.get(("group_combination", row["dbid"]))
            if not (pieces and row["is_agent"] and row["employee_id"]):
                continue
            created = min((start for start, _ in versions_of.get(("person", row["dbid"]), [])), default=None)
            if created is not None and created < pieces[0][0]:
                pieces = [(created, NO_GROUP_COMBINATION_KEY), *pieces]
            result[row["employee_id"]] = Versions.of(pieces)
        return result

    return KeyResolver(
        agents=mapping("person", "employee_id", where="is_agent", allowed=frozenset({True})),
        queues=mapping("dn", "name", "number", where="dn_type", allowed=QUEUE_TYPES),
        places=mapping("place", "name"),
        reasons=mapping(
            "attribute_value", "name", where="attribute", allowed=frozenset({"not_ready_reason"})
        ),
        group_combinations=combinations(),
    )
