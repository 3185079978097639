"""The Info Mart's integrity checks on a real database: facts outside their dimension row's validity."""

from __future__ import annotations

import sqlalchemy as sa

from gim_dagster.core.infomart.checks import facts_outside_validity
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.partitions import day_key

from .conftest import TODAY, TOPIC, irf_row, records


def _resource(conn: sa.Connection, key: int, start: int, end: int | None) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO resource_ (resource_key, tenant_key, resource_type, resource_type_code, "
            "resource_name, resource_cfg_dbid, start_ts, end_ts, create_audit_key, update_audit_key) "
            "VALUES (:k, 1, 'Agent', 'AGENT', :n, :k, :s, :e, 0, 0)"
        ),
        {"k": key, "n": f"agent{key}", "s": start, "e": end},
    )


def test_facts_started_before_or_after_their_version_are_counted(engine: sa.Engine) -> None:
    noon = day_key(TODAY) + 12 * 3600
    with engine.begin() as conn:
        _resource(conn, 101, noon - 3600, noon)  # valid 11:00-12:00
        _resource(conn, 102, noon, None)  # valid from 12:00 on
    rows = [
        irf_row(1, start_ts=noon - 1800, resource_key=101),  # inside
        irf_row(2, start_ts=noon, resource_key=101),  # at its end: the next version's
        irf_row(3, start_ts=noon - 7200, resource_key=101),  # before it began
        irf_row(4, start_ts=noon + 60, resource_key=102),  # inside, open-ended
        irf_row(5, start_ts=noon - 60, resource_key=102),  # before it began
        irf_row(6, resource_key=0),  # the static unknown row has no validity
    ]
    batch = records(rows)
    load_batch(engine, batch, job_name="t", topic_offsets={(TOPIC, 0): len(batch)})
    with engine.connect() as conn:
        assert facts_outside_validity(conn) == {"interaction_resource_fact.resource_key": 3}
