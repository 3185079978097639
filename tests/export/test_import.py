"""`gim export target-schema` and `gim import` against real PostgreSQL and S3: equality, resume, refusals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from gim_dagster.commands.export import export_app, import_command
from gim_dagster.core.export.importer import CONTROL_TABLE, LocalSource, import_exports
from gim_dagster.core.export.publish import LocalDestination, S3Destination
from gim_dagster.core.export.stream import export_stream
from gim_dagster.core.export.target_schema import target_schema_sql
from gim_dagster.core.infomart.tables import EXPORTED_TABLES
from gim_dagster.stack import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY

from .conftest import WEEK_START, Mart, run_script, table_rows

cli = typer.Typer()
cli.add_typer(export_app, name="export")
cli.command("import")(import_command)
runner = CliRunner()


def _url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def create_target(engine: sa.Engine) -> None:
    result = runner.invoke(cli, ["export", "target-schema", "--dialect", "postgresql"])
    assert result.exit_code == 0, result.output
    run_script(engine, result.output)


def gim_import(source: str, engine: sa.Engine, **env: str) -> Any:
    return runner.invoke(cli, ["import", "--source", source, "--target", _url(engine)], env=env or None)


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {t.name: table_rows(engine, t.name) for t in EXPORTED_TABLES}


def test_import_equals_infomart_including_late_updates(
    mart: Mart, target: sa.Engine, local: LocalDestination
) -> None:
    for d in range(4):
        mart.load_day(WEEK_START + timedelta(days=d))
    export_stream(mart.engine, [local], max_folders=2)
    create_target(target)
    first = gim_import(str(local.root), target)
    assert first.exit_code == 0, first.output
    assert "applied 2 folder(s)" in first.output

    for d in range(4, 6):  # more days, re-emitting (updating) facts that were already exported and imported
        mart.load_day(WEEK_START + timedelta(days=d))
    with mart.engine.begin() as conn:
        updated = conn.execute(
            sa.text(
                "SELECT count(*) FROM interaction_resource_fact WHERE create_audit_key <> update_audit_key"
            )
        ).scalar_one()
    assert updated > 0
    export_stream(mart.engine, [local], max_folders=10)

    second = gim_import(str(local.root), target)
    assert second.exit_code == 0, second.output
    assert snapshot(target) == snapshot(mart.engine), "the target equals the Info Mart row by row"

    again = gim_import(str(local.root), target)
    assert again.exit_code == 0 and "applied 0 folder(s), 0 row(s)" in again.output, "second run is a no-op"
    with target.connect() as conn:
        names = conn.execute(sa.text(f"SELECT folder FROM {CONTROL_TABLE} ORDER BY folder")).scalars().all()
    assert names == sorted(p.name for p in local.root.iterdir())


def test_import_from_s3_prefix(
    mart: Mart, target: sa.Engine, s3_dest: S3Destination, s3_endpoint: str
) -> None:
    mart.load_day(WEEK_START)
    mart.load_day(WEEK_START + timedelta(days=1))
    export_stream(mart.engine, [s3_dest], max_folders=5)
    # a folder still being uploaded (no metadata file yet) is not published: it must be ignored
    s3_dest.client.put_object(
        Bucket=S3_BUCKET, Key=f"{s3_dest.prefix}/export_{9:019d}_2030_01_01_00_00_00/x.zip", Body=b""
    )
    create_target(target)
    env = {
        "GIM_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = gim_import(f"s3://{S3_BUCKET}/{s3_dest.prefix}", target, **env)
    assert result.exit_code == 0, result.output
    assert snapshot(target) == snapshot(mart.engine)


def test_corrupt_zip_or_missing_folder_is_refused_and_changes_nothing(
    mart: Mart, target: sa.Engine, local: LocalDestination
) -> None:
    for d in range(3):
        mart.load_day(WEEK_START + timedelta(days=d))
    export_stream(mart.engine, [local], max_folders=1)
    create_target(target)
    assert gim_import(str(local.root), target).exit_code == 0
    for d in range(3, 6):
        mart.load_day(WEEK_START + timedelta(days=d))
    export_stream(mart.engine, [local], max_folders=10)
    folders = sorted(local.root.iterdir())
    assert len(folders) >= 4
    before = snapshot(target)

    corrupt = folders[2] / f"{folders[2].name}.zip"
    good = corrupt.read_bytes()
    corrupt.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    result = gim_import(str(local.root), target)
    assert result.exit_code == 2
    assert folders[2].name in result.output and "SHA-1" in result.output
    assert snapshot(target) == before, "nothing applied, not even the good folder before the corrupt one"
    corrupt.write_bytes(good)

    missing = folders[2]
    text = (missing / f"{missing.name}.extracted.xml").read_text()
    mark = text.split('<hwm-from audit-key="')[1].split('"')[0]
    gone = missing.rename(local.root / ".deleted")
    result = gim_import(str(local.root), target)
    assert result.exit_code == 2
    assert folders[3].name in result.output and f"hwm-from audit-key={mark} is missing" in result.output
    assert snapshot(target) == before
    gone.rename(missing)

    assert gim_import(str(local.root), target).exit_code == 0
    assert snapshot(target) == snapshot(mart.engine)


def test_resume_after_a_crash_mid_import(mart: Mart, target: sa.Engine, local: LocalDestination) -> None:
    for d in range(3):
        mart.load_day(WEEK_START + timedelta(days=d))
    export_stream(mart.engine, [local], max_folders=10)
    create_target(target)
    calls: list[str] = []

    def crash_on_third(folder: str, done: int, _total: int) -> None:
        calls.append(folder)
        if done == 2:
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        import_exports(LocalSource(local.root), target, progress=crash_on_third)
    with target.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {CONTROL_TABLE}")).scalar_one() == 2
    result = import_exports(LocalSource(local.root), target)
    assert len(result.already) == 2 and len(result.applied) == 1
    assert snapshot(target) == snapshot(mart.engine)


def test_target_schema_migrates_an_older_target(target: sa.Engine) -> None:
    sql = target_schema_sql()
    assert "custom user-data tables are not included" in sql.lower()
    run_script(target, sql)
    with target.begin() as conn:  # an older target: one table and one column missing
        conn.execute(sa.text("DROP TABLE sm_media_nrr_fact"))
        conn.execute(sa.text("ALTER TABLE resource_ DROP COLUMN switch_name"))
        conn.execute(
            sa.text(
                "INSERT INTO media_type (media_type_key, create_audit_key, update_audit_key) VALUES (1, 1, 1)"
            )
        )
    run_script(target, sql)
    run_script(target, sql)
    inspector = sa.inspect(target)
    for tbl in EXPORTED_TABLES:
        assert [c["name"] for c in inspector.get_columns(tbl.name)] != []
        assert {c.name for c in tbl.columns} == {c["name"] for c in inspector.get_columns(tbl.name)}
        assert inspector.get_pk_constraint(tbl.name)["constrained_columns"] == [
            c.name for c in tbl.primary_key
        ]
    with target.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM media_type")).scalar_one() == 1


def test_target_schema_rejects_unknown_dialect() -> None:
    result = runner.invoke(cli, ["export", "target-schema", "--dialect", "oracle"])
    assert result.exit_code == 2 and "unsupported dialect" in result.output


def test_missing_source_directory(target: sa.Engine, tmp_path: Path) -> None:
    result = gim_import(str(tmp_path / "nope"), target)
    assert result.exit_code == 2 and "does not exist" in result.output
