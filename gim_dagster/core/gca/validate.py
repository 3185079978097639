"""Model checks on a snapshot: references to unknown objects and agents that cannot be identified.

A violation is reported (run metadata, asset check, ``violations.parquet`` of the snapshot), never fatal: the
violating object is neither published nor synced to the Info Mart, everything else is. Only live objects
(not deleted) are checked; a reference to a deleted object counts as a reference to an unknown one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import pyarrow as pa

from gim_dagster.core.gca.model import Row


@dataclass(frozen=True, order=True)
class Violation:
    object_type: str
    dbid: int
    rule: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


VIOLATION_SCHEMA = pa.schema(
    [("object_type", pa.string()), ("dbid", pa.int64()), ("rule", pa.string()), ("message", pa.string())]
)

# (object type, column, referenced type, extra condition on the referenced row, rule name)
_REFERENCES: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("dn", "switch_dbid", "switch", None, "dn_unknown_switch"),
    ("dn", "place_dbid", "place", None, "dn_unknown_place"),
    ("dn", "queue_dbid", "dn", "acd_queue", "routing_point_unknown_queue"),
    ("dn", "virtual_queue_dbid", "dn", "virtual_queue", "queue_unknown_virtual_queue"),
    ("dn", "skill_dbid", "skill", None, "queue_unknown_skill"),
    ("person", "place_dbid", "place", None, "person_unknown_place"),
    ("agent_login", "switch_dbid", "switch", None, "login_unknown_switch"),
    ("agent_login", "person_dbid", "person", None, "login_unknown_person"),
    ("group_member", "group_dbid", "group", None, "member_unknown_group"),
    ("skill_level", "person_dbid", "person", None, "skill_level_unknown_person"),
    ("skill_level", "skill_dbid", "skill", None, "skill_level_unknown_skill"),
)


def _live(tables: dict[str, pa.Table]) -> dict[str, dict[int, Row]]:
    return {
        t: {row["dbid"]: row for row in table.to_pylist() if row["state"] != "deleted"}
        for t, table in tables.items()
    }


def validate(tables: dict[str, pa.Table]) -> list[Violation]:
    """Every model violation among the live objects of ``tables``, sorted."""
    live = _live(tables)
    found: list[Violation] = []
    for object_type, column, target, dn_type, rule in _REFERENCES:
        for dbid, row in live[object_type].items():
            ref = row[column]
            if ref is None:
                continue
            other = live[target].get(ref)
            if other is None or (dn_type is not None and other["dn_type"] != dn_type):
                what = dn_type or target
                found.append(
                    Violation(
                        object_type, dbid, rule, f"{object_type} {dbid}: {column} {ref} is no live {what}"
                    )
                )
    found += _members(live) + _agents(live)
    return sorted(found)


def _members(live: dict[str, dict[int, Row]]) -> list[Violation]:
    found = []
    for dbid, row in live["group_member"].items():
        group = live["group"].get(row["group_dbid"])
        if group is None:
            continue  # reported as member_unknown_group
        target = "person" if group["group_type"] == "agent" else "place"
        member = live[target].get(row["member_dbid"])
        if member is None or (target == "person" and not member["is_agent"]):
            what = "agent" if target == "person" else "place"
            message = (
                f"group_member {dbid}: member {row['member_dbid']} of {what} group "
                f"{group['name']!r} is no live {what}"
            )
            found.append(Violation("group_member", dbid, "member_unknown", message))
    return found


def _agents(live: dict[str, dict[int, Row]]) -> list[Violation]:
    """Agents need an employee id, unique among live agents (events identify agents by it)."""
    agents = {dbid: row for dbid, row in live["person"].items() if row["is_agent"]}
    counts = Counter(row["employee_id"] for row in agents.values() if row["employee_id"])
    found = []
    for dbid, row in agents.items():
        if not row["employee_id"]:
            found.append(
                Violation(
                    "person", dbid, "agent_without_employee_id", f"person {dbid}: agent has no employee id"
                )
            )
        elif counts[row["employee_id"]] > 1:
            message = (
                f"person {dbid}: employee id {row['employee_id']!r} is used by "
                f"{counts[row['employee_id']]} agents"
            )
            found.append(Violation("person", dbid, "duplicate_employee_id", message))
    return found


def violations_table(violations: list[Violation]) -> pa.Table:
    return pa.Table.from_pylist([v.as_dict() for v in violations], schema=VIOLATION_SCHEMA)


def violations_from_table(table: pa.Table) -> list[Violation]:
    return [Violation(**row) for row in table.to_pylist()]
