"""The GSP's ``KeyResolver`` from the latest GCA snapshot: events' names and ids to Info Mart keys.

Mapping (see the GCA record format in ``core/gca``): an agent's employee id → its ``person`` RESOURCE_KEY
versions and its group combinations over time, a place name → PLACE_KEY versions, a queue's name or number
(ACD queue, virtual queue, routing point DNs) → RESOURCE_KEY versions, a not-ready reason name →
RESOURCE_STATE_REASON_KEY versions. A fact gets the version valid when it starts (a deleted agent's closed
version still resolves, so late events of someone who left keep their key); a fact older than an object's
first version gets that first version (the configuration was entered after the fact).

Names are those of the current snapshot and those earlier versions had (``dimension_keys``' ``name``): an
event carrying an agent's former employee id, say a late one from before a change, resolves to the version
(and the group combination) of the agent that had that id then. A name another object holds now resolves to
the current holder, except at times when an earlier holder's version had it. Queues are found by their
current name, or by a current or former number (RESOURCE_ keeps a DN's number, not its name). Anything GCA
does not know resolves to the unknown key. Snapshots written before ``name`` existed give the current names
only.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from gim_dagster.core.facts.static_keys import NO_GROUP_COMBINATION_KEY
from gim_dagster.core.gsp.keys import KeyResolver, Versions

QUEUE_TYPES = frozenset({"acd_queue", "virtual_queue", "routing_point"})


Version = tuple[int, int, str | None]
"""(start_ts, dim_key, the name the object had in that version)."""


def key_versions(keys: pa.Table) -> dict[tuple[str, int], list[Version]]:
    """``(object_type, dbid) -> [(start_ts, dim_key, name), ...]`` of every version of each object."""
    columns = ["object_type", "dbid", "dim_key", "start_ts"]
    columns += ["name"] if "name" in keys.column_names else []  # snapshots before names: none
    versions: dict[tuple[str, int], list[Version]] = {}
    for row in keys.select(columns).to_pylist():
        versions.setdefault((row["object_type"], row["dbid"]), []).append(
            (row["start_ts"] or 0, row["dim_key"], row.get("name"))
        )
    return versions


def resolver_from_gca(tables: Mapping[str, pa.Table], keys: pa.Table) -> KeyResolver:
    versions_of = key_versions(keys)

    def mapping(
        object_type: str,
        *names: str,
        where: str | None = None,
        allowed: frozenset = frozenset(),
        former: bool = False,
    ) -> dict[str, Versions]:
        """Each current name -> the versions of its object that had it (all of them where versions carry no
        names); with ``former``, each former name too. Current holders are listed last: they win a tie."""
        current: dict[str, list[tuple[int, int]]] = {}
        earlier: dict[str, list[tuple[int, int]]] = {}
        for row in tables[object_type].to_pylist():
            versions = versions_of.get((object_type, row["dbid"]))
            if versions is None or (where is not None and row[where] not in allowed):
                continue
            named: dict[str, list[tuple[int, int]]] = {}
            for start, key, name in versions:
                if name:
                    named.setdefault(name, []).append((start, key))
            now = {row[name] for name in names if row[name]}
            for name in now:
                current.setdefault(name, []).extend(
                    named.get(name) or [(start, key) for start, key, _ in versions]
                )
            for name, pieces in named.items() if former else ():
                if name not in now:
                    earlier.setdefault(name, []).extend(pieces)
        return {
            name: Versions.of(earlier.get(name, []) + current.get(name, []))
            for name in earlier.keys() | current.keys()
        }

    def combinations() -> dict[str, Versions]:
        """Per employee id: for each period an agent had that id, the agent's group combination then (-1
        from its creation to its first membership and while in no group); current holders win a tie."""
        current: dict[str, list[tuple[int, int]]] = {}
        earlier: dict[str, list[tuple[int, int]]] = {}
        for row in tables["person"].to_pylist():
            if not (row["is_agent"] and row["employee_id"]):
                continue
            found = versions_of.get(("group_combination", row["dbid"]), [])
            pieces = [(start, key) for start, key, _ in found]
            periods = sorted(versions_of.get(("person", row["dbid"]), []))
            if periods and (not pieces or periods[0][0] < pieces[0][0]):
                pieces = [(periods[0][0], NO_GROUP_COMBINATION_KEY), *pieces]
            if not pieces:
                continue
            whole = Versions.of(pieces)
            held_now = False
            for i, (start, _key, name) in enumerate(periods or [(pieces[0][0], 0, None)]):
                end = periods[i + 1][0] if i + 1 < len(periods) else None
                employee_id = name or row["employee_id"]
                held_now |= employee_id == row["employee_id"]
                into = current if employee_id == row["employee_id"] else earlier
                into.setdefault(employee_id, []).extend(
                    [(start, whole.at(start))]
                    + [(s, k) for s, k in pieces if start < s and (end is None or s < end)]
                )
            if not held_now:  # an id newer than the key versions: all of its agent's combinations
                current.setdefault(row["employee_id"], []).extend(pieces)
        return {
            employee_id: Versions.of(earlier.get(employee_id, []) + current.get(employee_id, []))
            for employee_id in earlier.keys() | current.keys()
        }

    return KeyResolver(
        agents=mapping("person", "employee_id", where="is_agent", allowed=frozenset({True}), former=True),
        queues=mapping("dn", "name", "number", where="dn_type", allowed=QUEUE_TYPES, former=True),
        places=mapping("place", "name", former=True),
        reasons=mapping(
            "attribute_value", "name", where="attribute", allowed=frozenset({"not_ready_reason"})
        ),
        group_combinations=combinations(),
    )
