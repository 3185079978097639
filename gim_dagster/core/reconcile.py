"""Reconciliation of an Info Mart against the simulator's ground-truth ledger.

Every interaction, handling (interaction x agent), queue stay, agent state interval and login session the
ledger says happened must be in the facts with the same times and durations to the second, and no fact may
exist that the ledger lacks. A handling's customer-side durations and consultation after-call work, and a
queue stay's groups (RESOURCE_GROUP_COMBINATION_KEY, as group names), must equal the ledger's, NULL where it
has a value being a difference. Agents are compared by employee id (any RESOURCE_ version key of the agent
counts), interactions, handlings and sessions by GSP's deterministic fact ids.

The result counts differences per category (missing / extra / different) with a few examples each; zero
everywhere means the pipeline reproduced the truth exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from gim_dagster.core.facts.static_keys import NO_GROUP_COMBINATION_KEY
from gim_dagster.core.gsp import fact_id, irf_id
from gim_dagster.core.gsp.rows import MEDIA_KEY

STATE_KEY = {"READY": 1, "NOTREADY": 2, "BUSY": 3, "ACW": 4}
DURATIONS = ("ring", "dial", "talk", "hold")
CUSTOMER = ("ring", "dial", "talk", "hold", "acw")
EXAMPLES = 3


@dataclass
class CategoryResult:
    expected: int = 0
    found: int = 0
    missing: int = 0
    extra: int = 0
    different: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.different


@dataclass
class Reconciliation:
    categories: dict[str, CategoryResult]

    @property
    def differences(self) -> int:
        return sum(c.differences for c in self.categories.values())

    def summary(self) -> dict[str, Any]:
        return {
            name: {
                "expected": c.expected,
                "found": c.found,
                "missing": c.missing,
                "extra": c.extra,
                "different": c.different,
                "examples": c.examples,
            }
            for name, c in self.categories.items()
        }


def _compare(expected: Mapping[Any, tuple], found: Mapping[Any, tuple]) -> CategoryResult:
    result = CategoryResult(expected=len(expected), found=len(found))
    for key, value in expected.items():
        if key not in found:
            result.missing += 1
            _example(result, f"missing {key}: {value}")
        elif found[key] != value:
            result.different += 1
            _example(result, f"{key}: ledger {value} != facts {found[key]}")
    for key in found.keys() - expected.keys():
        result.extra += 1
        _example(result, f"extra {key}: {found[key]}")
    return result


def _compare_multisets(expected: Iterable[tuple], found: Iterable[tuple]) -> CategoryResult:
    want, got = Counter(expected), Counter(found)
    result = CategoryResult(expected=sum(want.values()), found=sum(got.values()))
    for item, n in (want - got).items():
        result.missing += n
        _example(result, f"missing {item}")
    for item, n in (got - want).items():
        result.extra += n
        _example(result, f"extra {item}")
    return result


def _example(result: CategoryResult, text: str) -> None:
    if len(result.examples) < EXAMPLES:
        result.examples.append(text)


def _rows(conn: sa.Connection, sql: str) -> list[Mapping[str, Any]]:
    return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


def reconcile(tenant: str, ledger: Mapping[str, pa.Table], conn: sa.Connection) -> Reconciliation:
    """Compare the ledger tables (``interactions``, ``handlings``, …) with the facts of the Info Mart."""
    t = {name: table.to_pylist() for name, table in ledger.items()}
    employee_of = {
        r["resource_key"]: r["employee_id"]
        for r in _rows(conn, "SELECT resource_key, employee_id FROM resource_ WHERE employee_id IS NOT NULL")
    }
    groups_of: dict[int, list[str]] = {NO_GROUP_COMBINATION_KEY: []}
    for r in _rows(
        conn,
        "SELECT c.resource_group_combination_key AS combination, g.group_name"
        " FROM resource_group_combination c JOIN group_ g ON g.group_key = c.group_key"
        f" WHERE c.resource_group_combination_key <> {NO_GROUP_COMBINATION_KEY}",  # its seeded row: no group
    ):
        groups_of.setdefault(r["combination"], []).append(r["group_name"])
    categories = {
        "interactions": _compare(
            {
                fact_id(tenant, "ixn", i["interaction_id"]): (i["start_s"], i["end_s"])
                for i in t["interactions"]
            },
            {
                r["interaction_id"]: (r["start_ts"], r["end_ts"])
                for r in _rows(conn, "SELECT interaction_id, start_ts, end_ts FROM interaction_fact")
            },
        ),
        "handlings": _compare(
            {irf_id(tenant, h["interaction_id"], h["agent_id"]): _handling(h) for h in t["handlings"]},
            {
                r["interaction_resource_id"]: _irf(r)
                for r in _rows(conn, "SELECT * FROM interaction_resource_fact")
            },
        ),
        "queue_stays": _compare_multisets(
            (
                (
                    fact_id(tenant, "ixn", m["interaction_id"]),
                    m["start_s"],
                    m["end_s"],
                    m["duration_s"],
                    tuple(sorted(m["queue_groups"])),
                )
                for m in t["mediations"]
            ),
            (
                (
                    r["interaction_id"],
                    r["start_ts"],
                    r["end_ts"],
                    r["mediation_duration"],
                    _groups(groups_of, r["resource_group_combination_key"]),
                )
                for r in _rows(
                    conn,
                    "SELECT interaction_id, start_ts, end_ts, mediation_duration,"
                    " resource_group_combination_key FROM mediation_segment_fact",
                )
            ),
        ),
        "agent_states": _compare_multisets(
            (
                (
                    s["agent_id"],
                    MEDIA_KEY[s["media"]],
                    STATE_KEY[s["state"]],
                    s["start_s"],
                    s["end_s"],
                    s["duration_s"],
                )
                for s in t["agent_states"]
            ),
            (
                (
                    employee_of.get(r["resource_key"], f"key {r['resource_key']}"),
                    r["media_type_key"],
                    r["resource_state_key"],
                    r["start_ts"],
                    r["end_ts"],
                    r["total_duration"],
                )
                for r in _rows(conn, "SELECT * FROM sm_res_state_fact")
            ),
        ),
        "sessions": _compare(
            {
                fact_id(tenant, "session", s["session_id"]): (s["login_s"], s["logout_s"], s["duration_s"])
                for s in t["agent_sessions"]
            },
            {
                r["sm_res_session_fact_key"]: (r["start_ts"], r["end_ts"], r["total_duration"])
                for r in _rows(conn, "SELECT * FROM sm_res_session_fact")
            },
        ),
    }
    return Reconciliation(categories)


def _groups(groups_of: Mapping[int, list[str]], combination: int | None) -> tuple[str, ...] | str:
    """The names of a combination's groups; an unknown key (or NULL) as itself, so it differs."""
    names = groups_of.get(combination) if combination is not None else None
    return tuple(sorted(names)) if names is not None else f"combination {combination}"


def _handling(h: Mapping[str, Any]) -> tuple:
    counts = [(h[f"{k}_count"], h[f"{k}_s"]) for k in DURATIONS]
    customer = tuple(h[f"customer_{k}_s"] for k in CUSTOMER)
    return (*counts, (h["acw_count"], h["acw_s"]), customer, (h["cons_rcv_acw_count"], h["cons_rcv_acw_s"]))


def _irf(r: Mapping[str, Any]) -> tuple:
    counts = [(r[f"{k}_count"] or 0, r[f"{k}_duration"] or 0) for k in DURATIONS]
    customer = tuple(r[f"customer_{k}_duration"] for k in CUSTOMER)  # NULL stays None: a difference
    return (
        *counts,
        (r["after_call_work_count"] or 0, r["after_call_work_duration"] or 0),
        customer,
        (r["cons_rcv_acw_count"], r["cons_rcv_acw_duration"]),
    )
