"""The Info Mart's Dagster shell on real PostgreSQL and Kafka: load asset, checks, sensor, maintenance."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from dagster import DagsterInstance, Definitions, build_sensor_context, materialize

from gim_dagster.assets import infomart as infomart_assets
from gim_dagster.core.facts.records import encode
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import load_settings

from .conftest import irf_row


def _settings_file(tmp_path: Path, pg_server_url: str, kafka: str, tenant: str) -> str:
    path = tmp_path / "gim.yaml"
    path.write_text(
        f"kafka:\n  bootstrap_servers: '{kafka}'\npostgres:\n  server_url: '{pg_server_url}'\n"
        f"s3:\n  bucket: b\n  endpoint_url: null\n  access_key_id: null\n  secret_access_key: null\n"
        f"tenants:\n  - name: {tenant}\n"
    )
    return str(path)


def _produce(kafka: KafkaResource, topic: str, rows: list[dict]) -> None:
    kafka.ensure_topics([topic])
    producer = kafka.producer()
    for row in rows:
        key, value, headers = encode("interaction_resource_fact", row)
        producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(15) == 0


def test_load_asset_sensor_and_maintenance(
    tmp_path: Path, pg_server_url: str, kafka_bootstrap: str, unique: str
) -> None:
    tenant = f"im{unique}"
    settings_file = _settings_file(tmp_path, pg_server_url, kafka_bootstrap, tenant)
    postgres = PostgresResource(settings_file=settings_file)
    kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
    resources = {"postgres": postgres, "kafka": kafka}
    area = infomart_assets.definitions(load_settings(settings_file))
    defs = Definitions.merge(area, Definitions(resources=resources))
    instance = DagsterInstance.ephemeral()
    topic = f"{tenant}.gsp.facts"
    assets = {a.key.to_user_string(): a for a in area.assets}
    load_asset = assets["infomart_load"]
    sensor = defs.resolve_sensor_def("infomart_load_sensor")

    def sensor_requests() -> list:
        with build_sensor_context(instance=instance, resources=resources) as context:
            return list(sensor(context) or [])

    kafka.ensure_topics([topic])
    assert sensor_requests() == []  # nothing produced yet
    _produce(kafka, topic, [irf_row(i) for i in range(50)])
    requests = sensor_requests()
    assert [r.partition_key for r in requests] == [tenant]

    first = materialize([load_asset], partition_key=tenant, resources=resources, instance=instance)
    assert first.success
    meta = first.asset_materializations_for_node("infomart_load")[0].metadata
    assert meta["rows_inserted"].value == {"interaction_resource_fact": 50}
    assert meta["drained"].value is True
    checks = {e.check_name: e for e in first.get_asset_check_evaluations()}
    assert {name: c.passed for name, c in checks.items()} == {
        "referential_integrity": False,  # no GCA run yet: the TENANT row is missing
        "audit_keys_present": True,
        "offsets_contiguous": True,
        "load_freshness": True,
    }
    orphans = checks["referential_integrity"].metadata["orphans"].value
    assert orphans == {"interaction_resource_fact.tenant_key": 50}
    engine = postgres.infomart_engine(tenant)
    with engine.begin() as conn:  # what GCA's dimension sync writes first
        conn.execute(
            sa.text(
                "INSERT INTO tenant (tenant_key, tenant_name, create_audit_key, update_audit_key) "
                "VALUES (1, :t, 1, 1)"
            ),
            {"t": tenant},
        )
    assert sensor_requests() == []  # drained: nothing new

    # a late update of 5 facts and 10 new ones: updates keep their create audit key
    _produce(
        kafka, topic, [irf_row(i, talk_duration=999) for i in range(5)] + [irf_row(i) for i in range(50, 60)]
    )
    assert len(sensor_requests()) == 1
    second = materialize([load_asset], partition_key=tenant, resources=resources, instance=instance)
    meta = second.asset_materializations_for_node("infomart_load")[0].metadata
    assert meta["rows_inserted"].value == {"interaction_resource_fact": 10}
    assert meta["rows_updated"].value == {"interaction_resource_fact": 5}
    assert meta["offsets_from"].value == {f"{topic}[0]": 50}
    assert all(e.passed for e in second.get_asset_check_evaluations())
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE create_audit_key <> update_audit_key) "
                "FROM interaction_resource_fact"
            )
        ).one()
    assert tuple(rows) == (60, 5)

    maintenance = materialize(
        [assets["infomart_maintenance"]],
        partition_key=tenant,
        resources=resources,
        instance=instance,
    )
    assert maintenance.success
    assert (
        maintenance.asset_materializations_for_node("infomart_maintenance")[0].metadata["purged_rows"].value
        == 0
    )
    engine.dispose()
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "gim_infomart_{tenant}" WITH (FORCE)'))
    admin.dispose()
