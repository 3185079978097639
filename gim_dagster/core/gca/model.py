"""The configuration object types GCA snapshots and publishes, with their columns and Arrow types.

Every object type has the meta columns ``META`` followed by its own attributes. The same column names are used
in the Configuration DB (``configdb.schema``), in the snapshot's Parquet files and in the JSON values on the
configuration topic (see ``gca.records`` for the record format).
"""

from __future__ import annotations

import pyarrow as pa

from gim_dagster.core.configdb.schema import OBJECT_TABLES

META: tuple[tuple[str, pa.DataType], ...] = (
    ("dbid", pa.int64()),
    ("state", pa.string()),
    ("change_counter", pa.int64()),
    ("created_ts", pa.int64()),
    ("changed_ts", pa.int64()),
)
VOLATILE = frozenset({"change_counter", "changed_ts", "created_ts"})
"""Meta columns that do not make an object "changed" on their own (only attributes and state do)."""

_S, _I, _F, _B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

ATTRIBUTES: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    "tenant": (("name", _S),),
    "switch": (("name", _S), ("switch_type", _S)),
    "dn": (
        ("switch_dbid", _I),
        ("number", _S),
        ("name", _S),
        ("dn_type", _S),
        ("media", _S),
        ("place_dbid", _I),
        ("queue_dbid", _I),
        ("virtual_queue_dbid", _I),
        ("skill_dbid", _I),
        ("weight", _F),
    ),
    "place": (("name", _S),),
    "person": (
        ("employee_id", _S),
        ("user_name", _S),
        ("first_name", _S),
        ("last_name", _S),
        ("is_agent", _B),
        ("place_dbid", _I),
    ),
    "agent_login": (("switch_dbid", _I), ("login_code", _S), ("person_dbid", _I)),
    "group": (("name", _S), ("group_type", _S)),
    "group_member": (("group_dbid", _I), ("member_dbid", _I)),
    "skill": (("name", _S),),
    "skill_level": (("person_dbid", _I), ("skill_dbid", _I), ("level", _I)),
    "attribute_value": (("attribute", _S), ("name", _S), ("display_name", _S)),
}
OBJECT_TYPES: tuple[str, ...] = tuple(ATTRIBUTES)
assert set(OBJECT_TYPES) == set(OBJECT_TABLES), "configdb.schema and gca.model list different object types"

Row = dict[str, object]


def schema(object_type: str) -> pa.Schema:
    return pa.schema([*META, *ATTRIBUTES[object_type]])


def empty_tables() -> dict[str, pa.Table]:
    return {t: schema(t).empty_table() for t in OBJECT_TYPES}


def to_table(object_type: str, rows: list[Row]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema(object_type))


def rows_by_dbid(table: pa.Table) -> dict[int, Row]:
    return {row["dbid"]: row for row in table.to_pylist()}


def same_object(a: Row, b: Row) -> bool:
    """Equal attributes and state (meta counters and times aside)."""
    return all(a[k] == b.get(k) for k in a if k not in VOLATILE)
