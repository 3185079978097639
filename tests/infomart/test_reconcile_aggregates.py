"""The ledger reconciliation of the aggregates: zero differences for a matching ledger, and a changed
aggregate row or a changed ledger row is counted, per interval."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.infomart.aggregates import aggregate
from gim_dagster.core.reconcile_aggregates import reconcile_aggregates, slices
from gim_dagster.core.sim.ledger import SCHEMAS

from .conftest import Feed
from .test_aggregates import AGENT, SESSION, T10, M
from .test_queue_aggregates import QUEUE, three_stays

EMPLOYEE, DN, QUEUE_NAME = "E7", "8001", "Sales"


def test_slices_split_a_span_at_the_quarter_hours() -> None:
    assert list(slices(T10 + 14 * M, T10 + 31 * M)) == [(T10, M), (T10 + 900, 900), (T10 + 1800, M)]
    assert list(slices(T10 + 5, T10 + 5)) == [(T10, 0)]
    assert list(slices(T10, T10 + 900)) == [(T10, 900)]


def ledger(**changes: Any) -> dict[str, pa.Table]:
    """What really happened in SESSION and three_stays(), as the simulator's ledger says it."""
    ixn = {"media": "voice", "call_type": "inbound"}
    tables: dict[str, list[dict[str, Any]]] = {
        "interactions": [
            {"interaction_id": f"i{n}", "start_s": T10 + s, "end_s": T10 + e, **ixn}
            for n, s, e in ((1, 0, 30 + 5 + 240), (2, 60, 68), (3, 120, 160))
        ],
        "handlings": [
            {"interaction_id": "i1", "agent_id": EMPLOYEE, "media": "voice", "order": 1, "ring_count": 1,
             "ring_s": 5, "dial_count": 0, "dial_s": 0, "talk_count": 1, "talk_s": 240, "hold_count": 0,
             "hold_s": 0, "acw_count": 1, "acw_s": 10}
        ],
        "mediations": [
            {"interaction_id": i, "order": 1, "queue": QUEUE_NAME, "start_s": T10 + s, "end_s": T10 + s + w,
             "duration_s": w, "outcome": outcome, "agent_id": agent}
            for i, s, w, outcome, agent in (
                ("i1", 0, 30, "routed", EMPLOYEE),
                ("i2", 60, 8, "abandoned", None),
                ("i3", 120, 40, "abandoned", None),
            )
        ],
        "agent_sessions": [
            {"agent_id": EMPLOYEE, "session_id": "s", "media": "voice", "login_s": T10 + 5 * M,
             "logout_s": T10 + 65 * M}
        ],
        "agent_states": [
            {"agent_id": EMPLOYEE, "session_id": "s", "media": "voice", "state": state, "reason_code": reason,
             "start_s": T10 + a * M, "end_s": T10 + b * M, "duration_s": (b - a) * M}
            for state, reason, a, b in (
                ("READY", None, 5, 20), ("NOTREADY", "Lunch", 20, 50), ("BUSY", None, 50, 65)
            )
        ],
    }  # fmt: skip
    for name, rows in changes.items():
        tables[name] = rows
    return {name: pa.Table.from_pylist(rows, schema=SCHEMAS[name]) for name, rows in tables.items()}


def loaded(engine: sa.Engine, feed: Feed) -> None:
    with engine.begin() as conn:
        for key, type_code, name, employee in ((AGENT, "AGENT", None, EMPLOYEE), (QUEUE, "QUEUE", DN, None)):
            conn.execute(
                sa.text(
                    "INSERT INTO resource_ (resource_key, tenant_key, resource_type_code, resource_name, "
                    "employee_id, start_ts, create_audit_key, update_audit_key) "
                    "VALUES (:k, :t, :c, :n, :e, 0, 0, 0)"
                ),
                {"k": key, "t": K.TENANT_KEY, "c": type_code, "n": name, "e": employee},
            )
        conn.execute(
            sa.text(
                "INSERT INTO resource_state_reason (resource_state_reason_key, tenant_key, "
                "software_reason_value, start_ts, create_audit_key, update_audit_key) "
                "VALUES (70, :t, 'Lunch', 0, 0, 0)"
            ),
            {"t": K.TENANT_KEY},
        )
    reason = {"resource_state_reason_key": 70}
    session = [
        (table, [r | reason if "resource_state_reason_key" in r else r for r in rows])
        for table, rows in SESSION
    ]
    feed.load(*session, *three_stays())
    aggregate(engine)


def differences(engine: sa.Engine, led: dict[str, pa.Table]) -> dict[str, int]:
    with engine.connect() as conn:
        result = reconcile_aggregates(led, conn, queue_names={DN: QUEUE_NAME})
    return {name: c.differences for name, c in result.items()}


def test_a_matching_ledger_reconciles_to_zero(engine: sa.Engine, feed: Feed) -> None:
    loaded(engine, feed)
    assert differences(engine, ledger()) == dict.fromkeys(
        ("agg_sess_state", "agg_state_rsn", "agg_queue", "agg_agent"), 0
    )


def test_a_changed_aggregate_row_or_ledger_row_is_a_difference(engine: sa.Engine, feed: Feed) -> None:
    loaded(engine, feed)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE agt_i_sess_state_subhr SET ready_time = ready_time + 1 WHERE date_time_key = :k"),
            {"k": T10 + 900},
        )
    assert differences(engine, ledger())["agg_sess_state"] == 1
    later = ledger()["mediations"].to_pylist()
    later[1]["start_s"] += 900  # the ledger says the second stay entered a quarter of an hour later
    found = differences(engine, ledger(mediations=later))
    assert found["agg_queue"] == 2 and found["agg_agent"] == 0
