"""The aggregates' Dagster shell on real PostgreSQL: the sensor asks for a run once new audit keys are
committed, the asset aggregates them, and the totals check agrees with the facts."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from dagster import DagsterInstance, Definitions, build_sensor_context, materialize

from gim_dagster.assets import aggregates as aggregates_assets
from gim_dagster.core.infomart.aggregates import check_totals
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.resources import PostgresResource
from gim_dagster.settings import load_settings

from .conftest import TOPIC, irf_row, records


def test_the_sensor_requests_an_aggregation_after_each_load(
    tmp_path: Path, pg_server_url: str, unique: str
) -> None:
    tenant = f"ag{unique}"
    settings_file = tmp_path / "gim.yaml"
    settings_file.write_text(
        f"postgres:\n  server_url: '{pg_server_url}'\n"
        f"s3:\n  bucket: b\n  endpoint_url: null\n  access_key_id: null\n  secret_access_key: null\n"
        f"tenants:\n  - name: {tenant}\n"
    )
    postgres = PostgresResource(settings_file=str(settings_file))
    resources = {"postgres": postgres}
    area = aggregates_assets.definitions(load_settings(settings_file))
    defs = Definitions.merge(area, Definitions(resources=resources))
    instance = DagsterInstance.ephemeral()
    sensor = defs.resolve_sensor_def("infomart_aggregates_sensor")
    (asset,) = area.assets

    def requests() -> list:
        with build_sensor_context(instance=instance, resources=resources) as context:
            return list(sensor(context) or [])

    assert requests() == []  # no Info Mart yet: nothing to ask for, no error
    engine = postgres.migrated_infomart(tenant)
    try:
        batch = records([irf_row(i, resource_key=1 + i % 3) for i in range(40)])
        load_batch(engine, batch, job_name="t", topic_offsets={(TOPIC, 0): len(batch)})
        (request,) = requests()
        assert request.partition_key == tenant
        run = materialize([asset], partition_key=tenant, resources=resources, instance=instance)
        meta = run.asset_materializations_for_node("infomart_aggregates")[0].metadata
        assert meta["intervals"].value > 0 and meta["rows"].value["agt_i_agent_subhr"] > 0
        assert requests() == [], "caught up: nothing to ask for"
        with engine.connect() as conn:
            assert check_totals(conn) == []
            engaged = conn.execute(sa.text("SELECT sum(engage_time) FROM ag2_i_agent_day")).scalar_one()
            talked = conn.execute(sa.text("SELECT sum(talk_duration) FROM interaction_resource_fact"))
            assert engaged == talked.scalar_one()
    finally:
        engine.dispose()
        admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "gim_infomart_{tenant}" WITH (FORCE)'))
        admin.dispose()
