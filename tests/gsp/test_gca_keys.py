"""The GSP's KeyResolver from a GCA snapshot: names to the key version valid at the event's time."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from gim_dagster.core.facts.static_keys import NO_GROUP_COMBINATION_KEY, UNKNOWN_KEY
from gim_dagster.core.gca.dimensions import KEYS_SCHEMA
from gim_dagster.core.gca.model import empty_tables, to_table
from gim_dagster.core.gsp.gca_keys import resolver_from_gca

T1, T2 = 1_767_600_000, 1_767_700_000  # a rename at T1, a move to another group at T2


def _meta(dbid: int) -> dict[str, Any]:
    return {"dbid": dbid, "state": "live", "change_counter": 1, "created_ts": 0, "changed_ts": 0}


def _key(
    object_type: str, dbid: int, key: int, start: int | None, end: int | None = None, name: str | None = None
) -> dict[str, Any]:
    return {
        "object_type": object_type,
        "dbid": dbid,
        "dim_table": "",
        "dim_key": key,
        "start_ts": start,
        "end_ts": end,
        "name": name,
    }


def _snapshot() -> tuple[dict[str, pa.Table], pa.Table]:
    tables = empty_tables()
    tables["person"] = to_table(
        "person",
        [
            {**_meta(7), "employee_id": "E7", "user_name": "ann", "first_name": "A", "last_name": "N",
             "is_agent": True, "place_dbid": None},
            {**_meta(8), "employee_id": "E8", "user_name": "bob", "first_name": "B", "last_name": "O",
             "is_agent": True, "place_dbid": None},
        ],
    )  # fmt: skip
    tables["place"] = to_table("place", [{**_meta(30), "name": "P30"}])
    keys = [
        _key("person", 7, 101, 0, T1),  # renamed at T1: a new RESOURCE_ version
        _key("person", 7, 102, T1),
        _key("person", 8, 103, 0),
        _key("place", 30, 301, 0),
        _key("group_combination", 7, 1, 100, T2),  # in groups from 100, other groups from T2
        _key("group_combination", 7, 2, T2),
    ]
    return tables, pa.Table.from_pylist(keys, schema=KEYS_SCHEMA)


def test_keys_are_the_versions_valid_at_the_time() -> None:
    resolver = resolver_from_gca(*_snapshot())
    assert resolver.agent("E7", T1 - 1) == 101
    assert resolver.agent("E7", T1) == 102
    assert resolver.agent("E7", T2 + 10**6) == 102
    assert resolver.agent("E8", T1) == 103
    assert resolver.place("P30", T1) == 301


def test_group_combination_follows_membership_and_is_none_before_it() -> None:
    resolver = resolver_from_gca(*_snapshot())
    assert resolver.group_combination("E7", 99) == NO_GROUP_COMBINATION_KEY  # created at 0, in a group at 100
    assert resolver.group_combination("E7", 100) == 1
    assert resolver.group_combination("E7", T2) == 2
    assert resolver.group_combination("E8", T2) == NO_GROUP_COMBINATION_KEY  # never in a group


def test_facts_older_than_the_configuration_get_its_first_versions() -> None:
    tables, keys = _snapshot()
    late = pa.Table.from_pylist(
        [_key("person", 9, 109, T1), _key("group_combination", 9, 4, T1)], schema=KEYS_SCHEMA
    )
    tables["person"] = pa.concat_tables(
        [tables["person"], to_table("person", [{**_meta(9), "employee_id": "E9", "user_name": "cy",
                                                "first_name": "C", "last_name": "Y", "is_agent": True,
                                                "place_dbid": None}])]
    )  # fmt: skip
    resolver = resolver_from_gca(tables, pa.concat_tables([keys, late]))
    assert resolver.agent("E9", T1 - 3600) == 109
    assert resolver.group_combination("E9", T1 - 3600) == 4  # created straight into a group


def test_unknown_names_resolve_to_the_unknown_key() -> None:
    resolver = resolver_from_gca(*_snapshot())
    assert resolver.agent("E404", T1) == UNKNOWN_KEY
    assert resolver.agent(None, T1) == UNKNOWN_KEY
    assert resolver.queue("nope", T1) == UNKNOWN_KEY


def test_former_names_resolve_to_the_versions_that_had_them() -> None:
    """E7's employee id became E7b at T1; place 30 was renamed P30 -> P31 at T1 and place 40, created at T2,
    took the name P30."""
    tables, _ = _snapshot()
    tables["person"] = to_table(
        "person",
        [{**_meta(7), "employee_id": "E7b", "user_name": "ann", "first_name": "A", "last_name": "N",
          "is_agent": True, "place_dbid": None}],
    )  # fmt: skip
    tables["place"] = to_table("place", [{**_meta(30), "name": "P31"}, {**_meta(40), "name": "P30"}])
    keys = [
        _key("person", 7, 101, 0, T1, name="E7"),
        _key("person", 7, 102, T1, name="E7b"),
        _key("place", 30, 301, 0, T1, name="P30"),
        _key("place", 30, 302, T1, name="P31"),
        _key("place", 40, 401, T2, name="P30"),
        _key("group_combination", 7, 1, 100),
    ]
    resolver = resolver_from_gca(tables, pa.Table.from_pylist(keys, schema=KEYS_SCHEMA))
    assert resolver.agent("E7", T1 - 1) == 101
    assert resolver.agent("E7", T1 + 60) == 101  # a straggler with the old id keeps the version that had it
    assert resolver.agent("E7b", T1) == resolver.agent("E7b", T1 - 1) == 102
    assert resolver.group_combination("E7", T1 - 1) == resolver.group_combination("E7b", T1) == 1
    assert resolver.place("P30", T1 - 1) == 301
    assert resolver.place("P30", T2) == 401  # the current holder of the name, since it took it
    assert resolver.place("P31", T1) == 302


def test_a_reused_employee_id_resolves_to_whoever_had_it_then() -> None:
    """Person 7 was E7 until T1, then E7b (combination 5 throughout); person 8 was hired as E7 at T2 and
    joined groups (combination 9) an hour later. DN 60 (a queue) was number 8001, then 8002 from T1."""
    tables, _ = _snapshot()
    agent = {"user_name": "x", "first_name": "X", "last_name": "Y", "is_agent": True, "place_dbid": None}
    tables["person"] = to_table(
        "person", [{**_meta(7), **agent, "employee_id": "E7b"}, {**_meta(8), **agent, "employee_id": "E7"}]
    )
    tables["dn"] = to_table(
        "dn",
        [{**_meta(60), "number": "8002", "name": "Sales", "dn_type": "acd_queue", "switch_dbid": 1,
          "media": "voice", "place_dbid": None}],
    )  # fmt: skip
    keys = [
        _key("person", 7, 101, 0, T1, name="E7"),
        _key("person", 7, 102, T1, name="E7b"),
        _key("person", 8, 103, T2, name="E7"),
        _key("group_combination", 7, 5, 0),
        _key("group_combination", 8, 9, T2 + 3600),
        _key("dn", 60, 601, 0, T1, name="8001"),
        _key("dn", 60, 602, T1, name="8002"),
    ]
    resolver = resolver_from_gca(tables, pa.Table.from_pylist(keys, schema=KEYS_SCHEMA))
    assert (resolver.agent("E7", T1 - 1), resolver.group_combination("E7", T1 - 1)) == (101, 5)
    assert (resolver.agent("E7", T2), resolver.group_combination("E7", T2)) == (103, NO_GROUP_COMBINATION_KEY)
    assert resolver.group_combination("E7", T2 + 3600) == 9
    assert (resolver.agent("E7b", T2), resolver.group_combination("E7b", T2)) == (102, 5)
    assert resolver.queue("8001", T1 + 60) == 601  # a former number
    assert resolver.queue("Sales", T1 - 1) == 601 and resolver.queue("Sales", T1) == 602


def test_an_employee_id_newer_than_the_key_versions_keeps_the_agents_combination() -> None:
    tables, keys = _snapshot()
    agent = {"user_name": "x", "first_name": "X", "last_name": "Y", "is_agent": True, "place_dbid": None}
    tables["person"] = to_table("person", [{**_meta(7), **agent, "employee_id": "E7-new"}])
    rows = keys.to_pylist()
    named = [{**r, "name": "E7"} if (r["object_type"], r["dbid"]) == ("person", 7) else r for r in rows]
    resolver = resolver_from_gca(tables, pa.Table.from_pylist(named, schema=KEYS_SCHEMA))
    assert resolver.agent("E7-new", T1) == 102
    assert resolver.group_combination("E7-new", T2) == resolver.group_combination("E7", T2) == 2
