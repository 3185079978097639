"""GCA test helpers: the environment of two fresh tenants on the session's real services, and readers."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import sqlalchemy as sa
from dagster import AssetsDefinition, ExecuteInProcessResult, materialize
from dagster_aws.s3 import S3Resource

from gim_dagster.assets.gca import definitions
from gim_dagster.core.configdb.schema import create_schema
from gim_dagster.core.configdb.seed import SeedSpec, seed_config
from gim_dagster.core.kafka_io import existing_partitions, read_range
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import load_settings
from gim_dagster.stack import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 2, 9, 30, tzinfo=UTC)


@dataclass
class GcaEnv:
    settings_file: Path
    tenants: tuple[str, str]
    prefix: str
    pg_server_url: str
    kafka_bootstrap: str
    s3_endpoint: str

    @property
    def postgres(self) -> PostgresResource:
        return PostgresResource(settings_file=str(self.settings_file))

    def resources(self, **overrides: Any) -> dict[str, Any]:
        resources = {
            "postgres": self.postgres,
            "kafka": KafkaResource(bootstrap_servers=self.kafka_bootstrap),
            "s3": S3Resource(
                endpoint_url=self.s3_endpoint,
                region_name="us-east-1",
                aws_access_key_id=S3_ACCESS_KEY,
                aws_secret_access_key=S3_SECRET_KEY,
            ),
        }
        return {**resources, **overrides}

    @property
    def asset(self) -> AssetsDefinition:
        defs = definitions(load_settings(self.settings_file))
        (asset,) = (a for a in defs.assets or [] if isinstance(a, AssetsDefinition))
        return asset

    def materialize(self, tenant: str, full: bool = False, **overrides: Any) -> ExecuteInProcessResult:
        return materialize(
            [self.asset],
            partition_key=tenant,
            resources=self.resources(**overrides),
            run_config={"ops": {"gca_snapshot": {"config": {"full_reconcile": full}}}},
            raise_on_error=False,
        )

    def configdb(self, tenant: str) -> sa.Engine:
        return self.postgres.configdb_engine(tenant)

    def infomart(self, tenant: str) -> sa.Engine:
        return self.postgres.infomart_engine(tenant)

    def seed(self, tenant: str, agents: int = 12, seed: int = 1) -> None:
        engine = self.configdb(tenant)
        create_schema(engine)
        seed_config(engine, SeedSpec(tenant=tenant, agents=agents, groups=3, skills=4, seed=seed, at=T0))

    def s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )

    def s3_keys(self, tenant: str) -> list[str]:
        listed = self.s3().list_objects_v2(Bucket=S3_BUCKET, Prefix=f"{self.prefix}/tenants/{tenant}/")
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def marker(self, tenant: str) -> dict[str, Any]:
        key = f"{self.prefix}/tenants/{tenant}/gca/snapshots/latest.json"
        return json.loads(self.s3().get_object(Bucket=S3_BUCKET, Key=key)["Body"].read())

    def dimension_keys(self, tenant: str) -> list[dict[str, Any]]:
        """The ``dimension_keys`` rows stored with the tenant's latest snapshot."""
        key = f"{self.marker(tenant)['snapshot_prefix']}/dimension_keys.parquet"
        body = self.s3().get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()
        return pq.read_table(io.BytesIO(body)).to_pylist()

    def topic(self, tenant: str) -> list[tuple[str, dict[str, Any]]]:
        """Every record of the tenant's configuration topic, in order: (key, value)."""
        kafka = KafkaResource(bootstrap_servers=self.kafka_bootstrap)
        consumer = kafka.consumer()
        try:
            tps = existing_partitions(consumer, [f"{tenant}.gca.config"])
            result = read_range(consumer, dict.fromkeys(tps, 0), max_records=1_000_000, idle_timeout=15)
        finally:
            consumer.close()
        return [(r.key.decode(), json.loads(r.value)) for r in result.records]


def latest(records: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The compacted view of a topic: the last value per key."""
    return dict(records)


def db_rows(engine: sa.Engine, sql: str, **params: Any) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]
