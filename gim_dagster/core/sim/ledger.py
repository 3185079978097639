"""The ground-truth ledger: what the simulated centre really did, as Parquet tables in one directory.

Every duration is whole seconds computed the way the Info Mart does: ``end_s - start_s`` with
``x_s = ts_ms // 1000``, summed over the intervals that make it up (so a downstream that floors each event
time and subtracts reconciles to the second). Times are also given in milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gim_dagster.core.sim.engine import Handling, Interaction, SessionRow, StateRow

TABLES = ("interactions", "handlings", "mediations", "agent_states", "agent_sessions", "faults")

_S = pa.string()
_I = pa.int64()
_B = pa.bool_()
SCHEMAS: dict[str, pa.Schema] = {
    "interactions": pa.schema(
        [
            ("interaction_id", _S),
            ("media", _S),
            ("call_type", _S),
            ("start_ms", _I),
            ("end_ms", _I),
            ("start_s", _I),
            ("end_s", _I),
            ("duration_s", _I),
            ("queue", _S),
            ("queue_s", _I),
            ("mediation_count", _I),
            ("abandoned", _B),
            ("abandon_where", _S),
            ("result", _S),
            ("agents", pa.list_(_S)),
            ("transfers", _I),
        ]
    ),
    "handlings": pa.schema(
        [
            ("interaction_id", _S),
            ("agent_id", _S),
            ("media", _S),
            ("order", _I),
            ("ring_count", _I),
            ("ring_s", _I),
            ("dial_count", _I),
            ("dial_s", _I),
            ("talk_count", _I),
            ("talk_s", _I),
            ("hold_count", _I),
            ("hold_s", _I),
            ("acw_count", _I),
            ("acw_s", _I),
            ("transferred", _B),
            ("transfer_type", _S),
            ("conferenced", _B),
            ("consult_received", _B),
            ("rejected", _B),
            ("customer_ring_s", _I),
            ("customer_dial_s", _I),
            ("customer_talk_s", _I),
            ("customer_hold_s", _I),
            ("customer_acw_s", _I),
            ("cons_rcv_acw_count", _I),
            ("cons_rcv_acw_s", _I),
        ]
    ),
    "mediations": pa.schema(
        [
            ("interaction_id", _S),
            ("order", _I),
            ("queue", _S),
            ("virtual_queue", _S),
            ("start_ms", _I),
            ("end_ms", _I),
            ("start_s", _I),
            ("end_s", _I),
            ("duration_s", _I),
            ("outcome", _S),
            ("agent_id", _S),
            ("queue_groups", pa.list_(_S)),
        ]
    ),
    "agent_states": pa.schema(
        [
            ("agent_id", _S),
            ("session_id", _S),
            ("media", _S),
            ("state", _S),
            ("reason_code", _S),
            ("interaction_id", _S),
            ("start_ms", _I),
            ("end_ms", _I),
            ("start_s", _I),
            ("end_s", _I),
            ("duration_s", _I),
        ]
    ),
    "agent_sessions": pa.schema(
        [
            ("agent_id", _S),
            ("session_id", _S),
            ("media", _S),
            ("login_code", _S),
            ("place", _S),
            ("dn", _S),
            ("login_ms", _I),
            ("logout_ms", _I),
            ("login_s", _I),
            ("logout_s", _I),
            ("duration_s", _I),
        ]
    ),
    "faults": pa.schema(
        [
            ("kind", _S),
            ("topic", _S),
            ("event_id", _S),
            ("source_event_id", _S),
            ("key", _S),
            ("position", _I),
            ("topic_position", _I),
            ("delay_ms", _I),
            ("detail", _S),
            ("value", pa.binary()),
        ]
    ),
}


def seconds(intervals: list[tuple[int, int]]) -> int:
    """Whole seconds of a list of ms intervals, the Info Mart way (floor each end point, then subtract)."""
    return sum(end // 1000 - start // 1000 for start, end in intervals)


@dataclass
class Ledger:
    """The ledger tables (``TABLES``, with ``SCHEMAS``) and the run's parameters."""

    tables: dict[str, pa.Table]
    run: dict[str, object]

    def write(self, directory: str | Path) -> Path:
        """Write ``<table>.parquet`` for every table and ``run.json``; returns the directory."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            pq.write_table(table, out / f"{name}.parquet")
        (out / "run.json").write_text(json.dumps(self.run, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return out

    @classmethod
    def read(cls, directory: str | Path) -> Ledger:
        src = Path(directory)
        tables = {name: pq.read_table(src / f"{name}.parquet") for name in TABLES}
        return cls(tables, json.loads((src / "run.json").read_text(encoding="utf-8")))


def build_tables(
    interactions: list[Interaction],
    states: list[StateRow],
    sessions: list[SessionRow],
    faults: list[dict[str, object]],
) -> dict[str, pa.Table]:
    rows: dict[str, list[dict[str, object]]] = {name: [] for name in TABLES}
    for ixn in interactions:
        rows["interactions"].append(_interaction_row(ixn))
        rows["handlings"].extend(_handling_row(ixn, h) for h in ixn.handlings.values())
        for order, med in enumerate(ixn.mediations, 1):
            assert med.end is not None
            rows["mediations"].append(
                {
                    "interaction_id": ixn.id,
                    "order": order,
                    "queue": med.queue,
                    "virtual_queue": med.virtual_queue,
                    **_span(med.start, med.end),
                    "outcome": med.outcome,
                    "agent_id": med.agent_id,
                    "queue_groups": [],  # configuration has agent and place groups only: no queue is in one
                }
            )
    for st in states:
        rows["agent_states"].append(
            {
                "agent_id": st.agent_id,
                "session_id": st.session_id,
                "media": st.media,
                "state": st.state,
                "reason_code": st.reason_code,
                "interaction_id": st.interaction_id,
                **_span(st.start, st.end),
            }
        )
    for se in sessions:
        assert se.logout is not None
        rows["agent_sessions"].append(
            {
                "agent_id": se.agent_id,
                "session_id": se.session_id,
                "media": se.media,
                "login_code": se.login_code,
                "place": se.place,
                "dn": se.dn,
                "login_ms": se.login,
                "logout_ms": se.logout,
                "login_s": se.login // 1000,
                "logout_s": se.logout // 1000,
                "duration_s": se.logout // 1000 - se.login // 1000,
            }
        )
    rows["faults"] = faults
    return {name: pa.Table.from_pylist(rows[name], schema=SCHEMAS[name]) for name in TABLES}


def _span(start: int, end: int) -> dict[str, int]:
    return {
        "start_ms": start,
        "end_ms": end,
        "start_s": start // 1000,
        "end_s": end // 1000,
        "duration_s": end // 1000 - start // 1000,
    }


def _interaction_row(ixn: Interaction) -> dict[str, object]:
    assert ixn.end is not None
    return {
        "interaction_id": ixn.id,
        "media": ixn.media,
        "call_type": ixn.call_type,
        **_span(ixn.start, ixn.end),
        "queue": ixn.mediations[0].queue if ixn.mediations else None,
        "queue_s": seconds([(m.start, m.end) for m in ixn.mediations if m.end is not None]),
        "mediation_count": len(ixn.mediations),
        "abandoned": ixn.result == "abandoned",
        "abandon_where": ixn.abandon_where,
        "result": ixn.result,
        "agents": list(ixn.handlings),
        "transfers": ixn.transfers,
    }


def _handling_row(ixn: Interaction, h: Handling) -> dict[str, object]:
    iv = h.intervals
    return {
        "interaction_id": ixn.id,
        "agent_id": h.agent_id,
        "media": ixn.media,
        "order": h.order,
        "ring_count": len(iv["ring"]),
        "ring_s": seconds(iv["ring"]),
        "dial_count": len(iv["dial"]),
        "dial_s": seconds(iv["dial"]),
        "talk_count": h.talk_count,
        "talk_s": seconds(iv["talk"]),
        "hold_count": len(iv["hold"]),
        "hold_s": seconds(iv["hold"]),
        "acw_count": len(iv["acw"]),
        "acw_s": seconds(iv["acw"]),
        "transferred": h.transferred,
        "transfer_type": h.transfer_type,
        "conferenced": h.conferenced,
        "consult_received": h.consult_received,
        "rejected": h.rejected,
        # The customer's side: a consulted agent's ring and consultation talk are not (docs/gsp.md).
        "customer_ring_s": 0 if h.consult_received else seconds(iv["ring"]),
        "customer_dial_s": seconds(iv["dial"]),
        "customer_talk_s": 0 if h.consult_only else seconds(iv["talk"]) - seconds(iv["cons_rcv_talk"]),
        "customer_hold_s": 0 if h.consult_only else seconds(iv["hold"]),
        "customer_acw_s": 0 if h.consult_only else seconds(iv["acw"]),
        "cons_rcv_acw_count": (len(iv["acw"]) if h.consult_only else 0) if h.consult_received else None,
        "cons_rcv_acw_s": (seconds(iv["acw"]) if h.consult_only else 0) if h.consult_received else None,
    }
