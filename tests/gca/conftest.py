"""GCA fixture: a settings file for two fresh tenants on the session's real services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from gca_helpers import GcaEnv

from gim_dagster.stack import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY


@pytest.fixture()
def gca_env(
    tmp_path: Path, pg_server_url: str, kafka_bootstrap: str, s3_endpoint: str, unique: str
) -> Iterator[GcaEnv]:
    tenants = (f"a{unique}", f"b{unique}")
    prefix = f"gca-{unique}"
    settings = tmp_path / "gim.yaml"
    settings.write_text(
        f"kafka:\n  bootstrap_servers: '{kafka_bootstrap}'\n"
        f"s3:\n  bucket: {S3_BUCKET}\n  prefix: {prefix}\n  endpoint_url: '{s3_endpoint}'\n"
        f"  access_key_id: {S3_ACCESS_KEY}\n  secret_access_key: {S3_SECRET_KEY}\n"
        f"postgres:\n  server_url: '{pg_server_url}'\n"
        f"tenants:\n  - name: {tenants[0]}\n  - name: {tenants[1]}\n"
    )
    yield GcaEnv(settings, tenants, prefix, pg_server_url, kafka_bootstrap, s3_endpoint)
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for tenant in tenants:
            for db in (f"gim_config_{tenant}", f"gim_infomart_{tenant}"):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    admin.dispose()
