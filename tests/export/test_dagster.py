"""The Dagster shell: the gim_export asset, per-tenant schedules, and a re-export backfill of one past day."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from dagster import AssetsDefinition, MultiPartitionKey, materialize
from dagster_aws.s3 import S3Resource

from gim_dagster.assets.export import definitions
from gim_dagster.core.export.contract import parse_info
from gim_dagster.core.export.importer import LocalSource, import_exports
from gim_dagster.core.export.plan import read_state
from gim_dagster.core.export.target_schema import target_schema_sql
from gim_dagster.core.infomart.tables import EXPORTED_TABLES, primary_key
from gim_dagster.resources import PostgresResource
from gim_dagster.settings import load_settings
from gim_dagster.stack import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY

from .conftest import TODAY, WEEK_START, Mart, irf, run_script, ts_of


def _settings_file(tmp_path: Path, mart: Mart, s3_endpoint: str, prefix: str) -> Path:
    doc = {
        "s3": {
            "bucket": S3_BUCKET,
            "prefix": prefix,
            "endpoint_url": s3_endpoint,
            "access_key_id": S3_ACCESS_KEY,
            "secret_access_key": S3_SECRET_KEY,
        },
        "tenants": [
            {
                "name": "acme",
                "infomart_dsn": mart.url,
                "export": {
                    "cron": "20 */8 * * *",
                    "destinations": ["s3", "local"],
                    "local_dir": str(tmp_path),
                },
            },
            {"name": "other-co", "infomart_dsn": mart.url},
        ],
    }
    path = tmp_path / "gim.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _assets(settings_file: Path) -> dict[str, AssetsDefinition]:
    defs = definitions(load_settings(settings_file))
    return {a.key.path[-1]: a for a in defs.assets or [] if isinstance(a, AssetsDefinition)}


def _resources(settings_file: Path, s3_endpoint: str) -> dict[str, Any]:
    return {
        "postgres": PostgresResource(settings_file=str(settings_file)),
        "s3": S3Resource(
            endpoint_url=s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        ),
    }


def _pks(archive: zipfile.ZipFile, table: str) -> set[tuple[str, ...]]:
    if f"{table}.csv" not in archive.namelist():
        return set()
    header, *rows = list(csv.reader(io.StringIO(archive.read(f"{table}.csv").decode())))
    positions = [header.index(c) for c in primary_key(next(t for t in EXPORTED_TABLES if t.name == table))]
    return {tuple(row[i] for i in positions) for row in rows}


def _expected_pks(engine: sa.Engine, table: str, lo: int, hi: int) -> set[tuple[str, ...]]:
    tbl = next(t for t in EXPORTED_TABLES if t.name == table)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT {', '.join(primary_key(tbl))} FROM {table} WHERE "
                "create_audit_key > :lo AND create_audit_key <= :hi "
                "OR update_audit_key > :lo AND update_audit_key <= :hi"
            ),
            {"lo": lo, "hi": hi},
        ).all()
    return {tuple(str(v) for v in row) for row in rows}


def test_export_asset_schedules_and_reexport_backfill(
    mart: Mart, target: sa.Engine, tmp_path: Path, s3_endpoint: str, unique: str
) -> None:
    for d in range(5):
        mart.load_day(WEEK_START + timedelta(days=d))
    settings_file = _settings_file(tmp_path, mart, s3_endpoint, f"t-{unique}")
    assets = _assets(settings_file)
    resources = _resources(settings_file, s3_endpoint)

    defs = definitions(load_settings(settings_file))
    schedules = {s.name: s.cron_schedule for s in defs.schedules or []}
    assert schedules["gim_export_acme_schedule"] == "20 */8 * * *"
    assert any(name.startswith("gim_export_other_co_") for name in schedules)

    run = materialize(
        [assets["gim_export"]],
        partition_key="acme",
        resources=resources,
        run_config={"ops": {"gim_export": {"config": {"max_folders": 20}}}},
    )
    meta = run.asset_materializations_for_node("gim_export")[0].metadata
    folders = meta["folders"].value
    assert len(folders) == 5 and meta["rows_per_table"].value["interaction_resource_fact"] > 0
    root = tmp_path / "acme"
    assert sorted(p.name for p in root.iterdir()) == folders
    s3_keys = (
        resources["s3"]
        .get_client()
        .list_objects_v2(Bucket=S3_BUCKET, Prefix=f"t-{unique}/tenants/acme/exports/")
    )
    assert len(s3_keys["Contents"]) == 3 * len(folders)
    with mart.engine.connect() as conn:
        hwm_before = read_state(conn)

    day = WEEK_START + timedelta(days=2)
    backfill = materialize(
        [assets["gim_reexport"]],
        partition_key=MultiPartitionKey({"tenant": "acme", "day": day.isoformat()}),
        resources=resources,
    )
    (name,) = backfill.asset_materializations_for_node("gim_reexport")[0].metadata["folders"].value
    assert name.startswith(f"reexport_{day:%Y_%m_%d}_") and sorted(p.name for p in root.iterdir())[-1] == name
    info = parse_info((root / name / f"{name}.extracted.xml").read_text(), name)
    with mart.engine.connect() as conn:
        span = conn.execute(
            sa.text(
                "SELECT min(audit_key) - 1, max(audit_key) FROM ctl_audit_log "
                "WHERE COALESCE(max_chunk_ts, max_start_date_time_key) >= :a "
                "AND COALESCE(max_chunk_ts, max_start_date_time_key) < :b"
            ),
            {"a": ts_of(day), "b": ts_of(day + timedelta(days=1))},
        ).one()
        assert read_state(conn) == hwm_before, "a re-export does not move the stream's HWM"
    assert (info.hwm_from.audit_key, info.hwm_to.audit_key) == tuple(span)
    with zipfile.ZipFile(root / name / f"{name}.zip") as archive:
        for tbl in EXPORTED_TABLES:
            assert _pks(archive, tbl.name) == _expected_pks(mart.engine, tbl.name, *span), tbl.name

    run_script(target, target_schema_sql())  # the importer takes re-exports alongside the stream
    result = import_exports(LocalSource(root), target)
    assert result.applied == [*folders, name]


def test_today_reexports_from_the_cli_and_a_restart_goes_to_a_run_time_destination(
    mart: Mart, tmp_path: Path, s3_endpoint: str, unique: str
) -> None:
    """The issue's commands: a backfill partition of today's data day, from `dagster asset materialize`;
    a restart from a data date into an S3 prefix named in run config, the tenant's stream untouched."""
    mart.load_day(WEEK_START)
    today = TODAY
    mart.load_spans({"interaction_resource_fact": [irf(next(mart.next_id), ts_of(today, 60))]}, 3600)
    settings_file = _settings_file(tmp_path, mart, s3_endpoint, f"t-{unique}")
    assets, resources = _assets(settings_file), _resources(settings_file, s3_endpoint)
    materialize(
        [assets["gim_export"]],
        partition_key="acme",
        resources=resources,
        run_config={"ops": {"gim_export": {"config": {"max_folders": 20}}}},
    )
    with mart.engine.connect() as conn:
        hwm = read_state(conn)

    env = {**os.environ, "GIM_SETTINGS": str(settings_file), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "gim_dagster.definitions"]
    result = subprocess.run(
        [*command, "--select", "gim_reexport", "--partition", f"{today.isoformat()}|acme"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    made = sorted(p.name for p in (tmp_path / "acme").iterdir() if p.name.startswith("reexport_"))
    assert made and all(n.startswith(f"reexport_{today:%Y_%m_%d}_") for n in made)

    prefix = f"s3://{S3_BUCKET}/t-{unique}/restarted/acme"
    config = {"restart": WEEK_START.isoformat(), "destination": prefix, "max_folders": 20}
    run = materialize(
        [assets["gim_export"]],
        partition_key="acme",
        resources=resources,
        run_config={"ops": {"gim_export": {"config": config}}},
    )
    meta = run.asset_materializations_for_node("gim_export")[0].metadata
    assert meta["destination"].value == prefix and len(meta["folders"].value) >= 2
    listed = (
        resources["s3"].get_client().list_objects_v2(Bucket=S3_BUCKET, Prefix=f"t-{unique}/restarted/acme/")
    )
    assert len(listed["Contents"]) == 3 * len(meta["folders"].value)
    with mart.engine.connect() as conn:
        assert read_state(conn) == hwm, "the tenant's stream does not move"
