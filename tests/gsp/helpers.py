"""Shared by the GSP tests: simulated traffic as records, a resolver from the roster, reconciliation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gim_dagster.core.facts import static_keys as sk
from gim_dagster.core.gsp import KeyResolver, fact_id, irf_id
from gim_dagster.core.gsp.rows import MEDIA_KEY
from gim_dagster.core.kafka_io import Record
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, Simulation, TrafficParams, simulate

START = datetime(2026, 1, 5, 8, tzinfo=UTC)
FAR_FUTURE_MS = 10**13
"""A ``now_ms`` that flushes every partition (the simulated traffic is over)."""


def simulated(
    tenant: str, hours: float = 2, seed: int = 3, faults: bool = True, agents: int = 12
) -> Simulation:
    params = TrafficParams(
        tenant=tenant,
        start=START,
        hours=hours,
        calls_per_hour=60,
        chats_per_hour=15,
        emails_per_hour=8,
        seed=seed,
        duplicates=0.03 if faults else 0,
        late=0.05 if faults else 0,
        malformed=0.01 if faults else 0,
        shifts="window",
        daily_shape=False,
    )
    return simulate(Roster.synthetic(agents, seed=1), params)


def as_records(tenant: str, sim: Simulation) -> list[Record]:
    """The simulation's records as read from one partition per raw topic (offsets in delivery order)."""
    names = TenantNames(tenant)
    topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
    offsets: Counter[str] = Counter()
    records = []
    for rec in sim.records:
        topic = topics[rec.kind]
        records.append(Record(topic, 0, offsets[topic], rec.key, rec.value, 0))
        offsets[topic] += 1
    return records


def resolver_for(roster: Roster) -> KeyResolver:
    return KeyResolver.fixed(
        agents={a.employee_id: a.dbid for a in roster.agents},
        queues={q.name: q.dbid for q in roster.queues},
        places={a.place: 5000 + a.dbid for a in roster.agents},
        reasons={r: 900 + i for i, r in enumerate(roster.not_ready_reasons)},
    )


def final_facts(
    facts: Iterable[tuple[str, dict[str, Any]]],
) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Last value per (table, primary key), as the Info Mart keeps it."""
    from gim_dagster.core.infomart.tables import primary_key, table

    result: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for name, row in facts:
        pk = tuple(row[c] for c in primary_key(table(name)))
        result.setdefault(name, {})[pk] = {k: v for k, v in row.items() if v is not None}
    return result


_CUSTOMER = ("ring", "dial", "talk", "hold", "acw")
_STATE_KEY = {"READY": 1, "NOTREADY": 2, "BUSY": 3, "ACW": 4}
_MSF_TD = {
    "routed": sk.TD_DIVERTED.key,
    "abandoned": sk.TD_ABANDONED_WHILE_QUEUED.key,
    "stopped": sk.TD_CLEARED.key,
}


def reconcile(tenant: str, sim: Simulation, facts: dict[str, dict[tuple[Any, ...], dict[str, Any]]]) -> None:
    """Every interaction, handling, mediation, agent state and session of the ledger is in the facts with the
    same times and durations (to the second), and there is no fact the ledger does not have."""
    t = {name: tab.to_pylist() for name, tab in sim.ledger.tables.items()}
    roster_agents = {row["agent_id"] for row in t["agent_sessions"]}
    assert roster_agents, "the simulation has no agents"
    ixns = {r["interaction_id"]: r for r in facts["interaction_fact"].values()}
    expected = {fact_id(tenant, "ixn", i["interaction_id"]): i for i in t["interactions"]}
    assert set(ixns) == set(expected)
    for key, ledger in expected.items():
        got = ixns[key]
        assert (got["start_ts"], got["end_ts"], got["active_flag"]) == (ledger["start_s"], ledger["end_s"], 0)
        assert got["media_type_key"] == MEDIA_KEY[ledger["media"]]
        assert got["media_server_ixn_guid"] == ledger["interaction_id"]

    irfs = {r["interaction_resource_id"]: r for r in facts["interaction_resource_fact"].values()}
    expected_irf = {irf_id(tenant, h["interaction_id"], h["agent_id"]): h for h in t["handlings"]}
    assert set(irfs) == set(expected_irf)
    for key, h in expected_irf.items():
        got = irfs[key]
        for kind, column in (("ring", "ring"), ("dial", "dial"), ("talk", "talk"), ("hold", "hold")):
            assert (got[f"{column}_count"], got[f"{column}_duration"]) == (
                h[f"{kind}_count"],
                h[f"{kind}_s"],
            ), (
                kind,
                h,
                got,
            )
        assert (got["after_call_work_count"], got["after_call_work_duration"]) == (
            h["acw_count"],
            h["acw_s"],
        ), (
            h,
            got,
        )
        customer = tuple(got.get(f"customer_{k}_duration") for k in _CUSTOMER)
        assert customer == tuple(h[f"customer_{k}_s"] for k in _CUSTOMER), (h, got)
        assert (got.get("cons_rcv_acw_count"), got.get("cons_rcv_acw_duration")) == (
            h["cons_rcv_acw_count"],
            h["cons_rcv_acw_s"],
        ), (h, got)
        assert got["irf_anchor"] == int(h["order"] == 1)
        assert got["active_flag"] == 0 and got["technical_descriptor_key"] != sk.TD_UNKNOWN.key
        if h["transferred"]:
            assert got["technical_descriptor_key"] in (sk.TD_TRANSFERRED.key, sk.TD_INITIATED_TRANSFERRED.key)

    msfs = sorted(
        (
            r["interaction_id"],
            r["start_ts"],
            r["end_ts"],
            r["mediation_duration"],
            r["technical_descriptor_key"],
            r["resource_group_combination_key"],
        )
        for r in facts["mediation_segment_fact"].values()
    )
    expected_msf = sorted(
        (
            fact_id(tenant, "ixn", m["interaction_id"]),
            m["start_s"],
            m["end_s"],
            m["duration_s"],
            _MSF_TD[m["outcome"]],
            sk.NO_GROUP_COMBINATION_KEY,  # no simulated queue is in a group (asserted below)
        )
        for m in t["mediations"]
    )
    abandoned_ringing = {
        fact_id(tenant, "ixn", i["interaction_id"])
        for i in t["interactions"]
        if i["abandon_where"] == "ringing"
    }
    msfs = [
        (*m[:4], sk.TD_DIVERTED.key, *m[5:])
        if m[0] in abandoned_ringing and m[4] == sk.TD_DIVERTED_ABANDONED_WHILE_RINGING.key
        else m
        for m in msfs
    ]
    assert msfs == expected_msf
    assert not any(m["queue_groups"] for m in t["mediations"])

    agent_keys = {a: i for a, i in _agent_dbids(sim).items()}
    states = sorted(
        (
            r["resource_key"],
            r["media_type_key"],
            r["resource_state_key"],
            r["start_ts"],
            r["end_ts"],
            r["total_duration"],
        )
        for r in facts["sm_res_state_fact"].values()
    )
    expected_states = sorted(
        (
            agent_keys[s["agent_id"]],
            MEDIA_KEY[s["media"]],
            _STATE_KEY[s["state"]],
            s["start_s"],
            s["end_s"],
            s["duration_s"],
        )
        for s in t["agent_states"]
    )
    assert states == expected_states
    reasons = sorted(
        (r["resource_key"], r["start_ts"], r["total_duration"])
        for r in facts.get("sm_res_state_reason_fact", {}).values()
    )
    expected_reasons = sorted(
        (agent_keys[s["agent_id"]], s["start_s"], s["duration_s"])
        for s in t["agent_states"]
        if s["state"] == "NOTREADY"
    )
    assert reasons == expected_reasons
    assert len(facts.get("sm_media_nrr_fact", {})) == len(expected_reasons)
    sessions = sorted(
        (r["sm_res_session_fact_key"], r["start_ts"], r["end_ts"], r["total_duration"])
        for r in facts["sm_res_session_fact"].values()
    )
    expected_sessions = sorted(
        (fact_id(tenant, "session", s["session_id"]), s["login_s"], s["logout_s"], s["duration_s"])
        for s in t["agent_sessions"]
    )
    assert sessions == expected_sessions


def _agent_dbids(sim: Simulation) -> dict[str, int]:
    roster = Roster.synthetic(int(sim.ledger.run["agents"]), seed=1)  # type: ignore[arg-type]
    return {a.employee_id: a.dbid for a in roster.agents}


def malformed_values(sim: Simulation) -> list[bytes]:
    return [f["value"] for f in sim.ledger.tables["faults"].to_pylist() if f["kind"] == "malformed"]


def write_empty_gca_snapshot(s3: Any, bucket: str, s3_prefix: str, tenant: str) -> None:
    """A GCA snapshot with no configuration objects, as GCA writes it (every key then resolves to -1): GSP
    refuses to run on raw events without one."""
    from gim_dagster.core.gca.dimensions import KEYS_SCHEMA
    from gim_dagster.core.gca.snapshot import Snapshot
    from gim_dagster.core.gca.store import Marker, SnapshotStore

    store = SnapshotStore(s3, bucket, f"{s3_prefix}/{TenantNames(tenant).gca_snapshot_prefix}")
    written = store.write_snapshot(Snapshot(1, 0, Snapshot.empty().tables), KEYS_SCHEMA.empty_table(), {})
    store.write_marker(Marker(1, 0, written))
