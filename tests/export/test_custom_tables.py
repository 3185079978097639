"""Custom user-data tables (settings ``export.custom_tables``): exported like the model's, created in the
target separately (the target-schema script does not know them), merged by `gim import`."""

from __future__ import annotations

import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gim_dagster.core.export.importer import LocalSource, import_exports
from gim_dagster.core.export.publish import LocalDestination
from gim_dagster.core.export.stream import ExportOptions, export_stream
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit

from .conftest import WEEK_START, Mart, ts_of
from .test_import import create_target

CUSTOM = "ud_call_notes"
DDL = (
    f"CREATE TABLE {CUSTOM} (note_id bigint PRIMARY KEY, interaction_id bigint, note text, "
    "create_audit_key bigint NOT NULL, update_audit_key bigint NOT NULL)"
)


def _notes(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {CUSTOM} ORDER BY note_id"))]


def _write_notes(mart: Mart, notes: list[tuple[int, str]], created_ts: int) -> None:
    """What a custom loader does: one CTL_AUDIT_LOG transaction stamping its rows' audit keys."""
    with mart.engine.begin() as conn:
        key = begin_audit(conn, job_id=f"notes-{created_ts}", job_name="custom_notes")
        for note_id, text in notes:
            conn.execute(
                sa.text(
                    f"INSERT INTO {CUSTOM} VALUES (:id, :id, :note, :ak, :ak) ON CONFLICT (note_id) "
                    "DO UPDATE SET note = excluded.note, update_audit_key = excluded.update_audit_key"
                ),
                {"id": note_id, "note": text, "ak": key},
            )
        finish_audit(conn, key, AuditStats(len(notes)))
    mart.date_audit(key, key, created_ts)


def test_custom_table_is_exported_and_imported(
    mart: Mart, target: sa.Engine, local: LocalDestination
) -> None:
    with mart.engine.begin() as conn:
        conn.execute(sa.text(DDL))
    day = WEEK_START
    mart.load_day(day)
    _write_notes(mart, [(1, "callback requested"), (2, "")], ts_of(day, 86_400 + 1200))
    options = ExportOptions(custom_tables=(CUSTOM,))
    first = export_stream(mart.engine, [local], options, max_folders=5)
    assert any(f.rows.get(CUSTOM) == 2 for f in first)
    with zipfile.ZipFile(local.root / first[-1].name / f"{first[-1].name}.zip") as archive:
        assert f"{CUSTOM}.csv" in archive.namelist()

    mart.load_day(day + timedelta(days=1))
    _write_notes(mart, [(2, "resolved"), (3, None)], ts_of(day, 2 * 86_400 + 1200))  # an update, a new row
    export_stream(mart.engine, [local], options, max_folders=5)

    create_target(target)
    with target.begin() as conn:
        conn.execute(sa.text(DDL))  # custom tables are created in the target separately
    import_exports(LocalSource(local.root), target)
    assert _notes(target) == _notes(mart.engine)
    assert [r[2] for r in _notes(target)] == ["callback requested", "resolved", None]


def test_custom_table_without_audit_keys_fails_naming_it(mart: Mart, local: LocalDestination) -> None:
    with mart.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ud_plain (id bigint PRIMARY KEY)"))
    mart.load_day(WEEK_START)
    with pytest.raises(LookupError, match="ud_plain has no create_audit_key or update_audit_key"):
        export_stream(mart.engine, [local], ExportOptions(custom_tables=("ud_plain",)))
