"""A small demo-like Info Mart for the report tests: two simulated hours of a busy 10-agent centre (roster,
traffic and ledger of ``core.sim``; enough calls that some abandon) through the real GSP processor, Info Mart
loader and aggregation, with the dimensions GCA would write for that roster (agents, queues by name, groups,
reason codes)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.facts.records import FactRecord, encode
from gim_dagster.core.gsp import GspState, KeyResolver, Processor
from gim_dagster.core.infomart.aggregates import Thresholds, aggregate
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.schema import migrate
from gim_dagster.core.infomart.tables import table
from gim_dagster.core.reports import ReportOptions
from gim_dagster.core.sim import Roster, Simulation, TrafficParams, simulate
from tests.gsp.helpers import FAR_FUTURE_MS, START, as_records

TENANT = "rpt"
TIME_ZONE = "Europe/Berlin"
AGENTS = 10
THRESHOLDS = Thresholds(service_level_seconds=20, queue_service_level_seconds={"Sales": 30})
OPTIONS = ReportOptions(TENANT, THRESHOLDS, service_level_target_percent=80)
TOPIC = f"{TENANT}.gsp.facts"
TRAFFIC = TrafficParams(
    tenant=TENANT,
    start=START,
    hours=2,
    calls_per_hour=120,
    chats_per_hour=15,
    emails_per_hour=8,
    seed=3,
    shifts="window",
    daily_shape=False,
)
TRICKY_NAME = '<b>Zoë</b> & "$x$"'
"""First name of one agent: the pages must show it escaped, the charts as plain text."""


def write_settings(path: Path, infomart_url: str, reports_dir: Path, days: int = 7) -> Path:
    """A settings file whose one tenant (``TENANT``, ``THRESHOLDS``) is this Info Mart."""
    path.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": "127.0.0.1:9"},
                "s3": {"bucket": "unused", "endpoint_url": None},
                "postgres": {"server_url": infomart_url, "create_databases": False},
                "defaults": {"reports": {"local_dir": str(reports_dir), "days": days}},
                "tenants": [
                    {
                        "name": TENANT,
                        "infomart_dsn": infomart_url,
                        "time_zone": TIME_ZONE,
                        "aggregates": {
                            "service_level_seconds": THRESHOLDS.service_level_seconds,
                            "queue_service_level_seconds": dict(THRESHOLDS.queue_service_level_seconds),
                        },
                    }
                ],
            }
        )
    )
    return path


@dataclass(frozen=True)
class Mart:
    engine: sa.Engine
    url: str
    sim: Simulation
    roster: Roster
    first: date
    last: date
    """The local days the simulated window lies on."""


def _dimensions(roster: Roster) -> tuple[list[tuple[str, list[dict[str, Any]]]], KeyResolver]:
    """The dimension rows GCA would write for ``roster`` and a resolver giving the same keys."""
    groups = sorted({g for a in roster.agents for g in a.groups})
    group_key = {g: 11 + n for n, g in enumerate(groups)}
    combination = {g: 21 + n for n, g in enumerate(groups)}
    agents = [
        {
            "resource_key": a.dbid,
            "tenant_key": K.TENANT_KEY,
            "resource_type": "Agent",
            "resource_type_code": "AGENT",
            "resource_name": a.user_name,
            "resource_cfg_dbid": a.dbid,
            "agent_first_name": TRICKY_NAME if n == 0 else a.first_name,
            "agent_last_name": a.last_name,
            "employee_id": a.employee_id,
            "start_ts": 0,
        }
        for n, a in enumerate(roster.agents)
    ]
    queues = [
        {
            "resource_key": q.dbid,
            "tenant_key": K.TENANT_KEY,
            "resource_type": "Queue",
            "resource_type_code": "QUEUE",
            "resource_name": q.name,
            "resource_cfg_dbid": q.dbid,
            "start_ts": 0,
        }
        for q in roster.queues
    ]
    reasons = {r: 900 + n for n, r in enumerate(roster.not_ready_reasons)}
    tables = [
        ("resource_", agents),
        ("resource_", queues),
        (
            "group_",
            [
                {
                    "group_key": k,
                    "tenant_key": K.TENANT_KEY,
                    "group_name": g,
                    "group_type": "Agent",
                    "start_ts": 0,
                }
                for g, k in group_key.items()
            ],
        ),
        (
            "resource_group_combination",
            [
                {"resource_group_combination_key": combination[g], "group_key": group_key[g], "tenant_key": 1}
                for g in groups
            ],
        ),
        (
            "resource_state_reason",
            [
                {
                    "resource_state_reason_key": k,
                    "tenant_key": K.TENANT_KEY,
                    "reason_type": "Software",
                    "reason_type_code": "SOFTWARE",
                    "software_reason_key": "ReasonCode",
                    "software_reason_value": r,
                    "start_ts": 0,
                }
                for r, k in reasons.items()
            ],
        ),
    ]
    resolver = KeyResolver.fixed(
        agents={a.employee_id: a.dbid for a in roster.agents},
        queues={q.name: q.dbid for q in roster.queues},
        places={a.place: 5000 + a.dbid for a in roster.agents},
        reasons=reasons,
        group_combinations={a.employee_id: combination[a.groups[0]] for a in roster.agents},
    )
    return tables, resolver


def _local_days(sim: Simulation) -> tuple[date, date]:
    zone = ZoneInfo(TIME_ZONE)
    ends = [i["end_s"] for i in sim.ledger.tables["interactions"].to_pylist() if i["end_s"] is not None]
    return START.astimezone(zone).date(), datetime.fromtimestamp(max(ends), zone).date()


@pytest.fixture(scope="module")
def mart(pg_server_url: str) -> Iterator[Mart]:
    """The Info Mart of two simulated hours, loaded and aggregated once for the module."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    day = START.date()
    migrate(url, date_time_range=(day - timedelta(days=1), day + timedelta(days=2)), time_zone=TIME_ZONE)
    engine = sa.create_engine(url)
    try:
        roster = Roster.synthetic(AGENTS, seed=1)
        sim = simulate(roster, TRAFFIC)
        tables, resolver = _dimensions(roster)
        facts = (
            Processor(GspState(TENANT), None, resolver)
            .process(as_records(TENANT, sim), now_ms=FAR_FUTURE_MS)
            .facts
        )
        with engine.begin() as conn:  # as GCA writes them, before any fact
            for name, dims in tables:
                conn.execute(
                    table(name).insert(), [{**r, "create_audit_key": 1, "update_audit_key": 1} for r in dims]
                )
        offsets = itertools.count()
        records = [FactRecord(TOPIC, 0, next(offsets), *encode(t, r)[:2]) for t, r in facts]
        load_batch(engine, records, job_name="infomart_load", topic_offsets={(TOPIC, 0): len(records)})
        aggregate(engine, thresholds=THRESHOLDS)
        first, last = _local_days(sim)
        yield Mart(engine, url, sim, roster, first, last)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
