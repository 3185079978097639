"""The export stream on a real Info Mart: folder contract, one-day rule, outage catch-up, restart, views."""

from __future__ import annotations

import csv
import io
import itertools
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from gim_dagster import __version__
from gim_dagster.core.export.contract import ORIGIN, is_folder_name, parse_info
from gim_dagster.core.export.importer import check_day_rule, open_source, verify_folder
from gim_dagster.core.export.plan import DAY_SECONDS, AuditRow, choose_window, read_state
from gim_dagster.core.export.publish import LocalDestination, S3Destination
from gim_dagster.core.export.stream import ExportOptions, Published, export_once, export_stream
from gim_dagster.stack import S3_BUCKET

from .conftest import TODAY, WEEK_START, Mart, irf, ts_of


def _week(mart: Mart, days: int = 7) -> None:
    for d in range(days):
        mart.load_day(WEEK_START + timedelta(days=d))


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith("."))


def check_folder(path: Path) -> dict[str, list[list[str]]]:
    """Every contract check on one published folder; returns the CSV rows per table (header first)."""
    name = path.name
    assert is_folder_name(name)
    assert sorted(p.name for p in path.iterdir()) == sorted(
        [f"{name}.zip", f"{name}.zip.sha1", f"{name}.extracted.xml"]
    )
    subprocess.run(
        ["sha1sum", "-c", "--strict", f"{name}.zip.sha1"], cwd=path, check=True, capture_output=True
    )
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-tq", f"{name}.zip"], cwd=path, check=True, capture_output=True)
    with zipfile.ZipFile(path / f"{name}.zip") as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        tables = sorted(n[:-4] for n in names if n.endswith(".csv"))
        assert sorted(names) == sorted([f"{t}.csv" for t in tables] + [f"{t}.csv.sha1" for t in tables])
        archive.extractall(path.parent / f".check-{name}")
    extracted = path.parent / f".check-{name}"
    for table in tables:
        subprocess.run(
            ["sha1sum", "-c", "--strict", f"{table}.csv.sha1"], cwd=extracted, check=True, capture_output=True
        )
    out = {}
    for table in tables:
        text = (extracted / f"{table}.csv").read_text(encoding="utf-8")
        out[table] = list(csv.reader(io.StringIO(text)))
        assert len(out[table]) >= 2, f"{table}: a table without changes must write nothing"
    shutil.rmtree(extracted)
    return out


def test_week_exports_follow_the_contract(
    mart: Mart, local: LocalDestination, s3_dest: S3Destination
) -> None:
    _week(mart)
    published = export_stream(mart.engine, [s3_dest, local], max_folders=50)
    assert export_once(mart.engine, [s3_dest, local]) is None, "nothing new: no folder"

    folders = _folders(local.root)
    assert [p.name for p in folders] == [p.name for p in published], "name order is export order"
    assert len(folders) == 7, "a simulated week loaded before the first export: one folder per day"
    infos = [parse_info((p / f"{p.name}.extracted.xml").read_text(), p.name) for p in folders]
    assert infos[0].hwm_from == ORIGIN
    first_data = ts_of(WEEK_START)
    previous_max = None
    for info, folder, prev in zip(infos, folders, [None, *infos], strict=False):
        if prev is not None:
            assert info.hwm_from == prev.hwm_to, "hwm chain is continuous"
        assert info.gim_version == __version__ and info.gim_schema_version == "0003"
        assert folder.name.startswith(f"export_{info.hwm_to.audit_key:019d}_")
        span_start = previous_max if previous_max is not None else first_data
        assert info.max_data_ts - span_start <= DAY_SECONDS, "at most one day of data per export"
        previous_max = info.max_data_ts
        check_folder(folder)
    xml = (folders[0] / f"{folders[0].name}.extracted.xml").read_text()
    assert xml.splitlines()[0] == "<info>" and xml.splitlines()[4].startswith("<hwm-from audit-key=")

    # the same objects, byte for byte, in S3 (the metadata file too: readers key on it)
    for folder in folders:
        for file in folder.iterdir():
            key = f"{s3_dest.prefix}/{folder.name}/{file.name}"
            body = s3_dest.client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()
            assert body == file.read_bytes()

    with mart.engine.connect() as conn:
        state = read_state(conn)
    assert state is not None and state.mark == infos[-1].hwm_to and state.export_name == folders[-1].name
    assert state.max_data_ts == infos[-1].max_data_ts


def test_csv_content_nulls_empty_strings_and_header(mart: Mart, local: LocalDestination) -> None:
    mart.load_day(WEEK_START)
    (folder,) = export_stream(mart.engine, [local])
    tables = check_folder(local.root / folder.name)
    assert {"interaction_fact", "interaction_resource_fact", "resource_", "date_time", "media_type"} <= set(
        tables
    )
    header, *rows = tables["interaction_fact"]
    assert header[:3] == ["interaction_id", "start_date_time_key", "end_date_time_key"]
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in rows}
    assert by_id[3]["source_address"] == "" and by_id[3]["subject"] == ""  # empty string / null: empty
    assert by_id[5]["subject"] == 'Grüße, "quoted"\nnew line'
    assert folder.rows["interaction_fact"] == len(rows)
    raw = (zipfile.ZipFile(local.root / folder.name / f"{folder.name}.zip").read("resource_.csv")).decode()
    assert ',"",' not in raw and ",," in raw


def test_two_day_outage_catches_up_one_day_at_a_time(mart: Mart, local: LocalDestination) -> None:
    _week(mart, days=2)
    before = export_stream(mart.engine, [local], max_folders=10)
    for d in range(2, 6):  # exports stopped for the loads of days 2..5
        mart.load_day(WEEK_START + timedelta(days=d))
    caught_up: list[Published] = []
    while (folder := export_once(mart.engine, [local])) is not None:
        caught_up.append(folder)
    assert len(caught_up) == 4
    chain = [*before, *caught_up]
    for prev, cur in itertools.pairwise(chain):
        assert cur.hwm_from == prev.hwm_to
        assert 0 < cur.max_data_ts - prev.max_data_ts <= DAY_SECONDS
    with mart.engine.connect() as conn:
        last_key = conn.execute(sa.text("SELECT max(audit_key) FROM ctl_audit_log")).scalar_one()
    assert caught_up[-1].hwm_to.audit_key == last_key, "never skips: ends exactly at the last committed key"


def test_a_three_day_backlog_in_one_load_exports_a_day_at_a_time(mart: Mart, local: LocalDestination) -> None:
    """One load of three days of facts (an outage's backlog) used to be one audit key, exported as one
    folder spanning all three days; the loader now cuts it into hour spans, so the stream moves a day at a
    time from the first folder on."""
    starts = [ts_of(WEEK_START, 0) + n * 1800 for n in range(3 * 48)]
    ids = [next(mart.next_id) for _ in starts]
    keys = mart.load_spans(
        {"interaction_resource_fact": [irf(i, t) for i, t in zip(ids, starts, strict=True)]}, 3600
    )
    assert len(keys) >= 72
    folders = export_stream(mart.engine, [local], max_folders=20)
    assert len(folders) >= 3
    assert folders[0].hwm_from == ORIGIN and folders[-1].hwm_to.audit_key == keys[-1]
    for prev, cur in itertools.pairwise(folders):
        assert cur.hwm_from == prev.hwm_to
        assert 0 < cur.max_data_ts - prev.max_data_ts <= DAY_SECONDS
    assert folders[0].max_data_ts - starts[0] <= DAY_SECONDS
    source = open_source(str(local.root), local.root)
    checked = [verify_folder(source, name) for name in source.folders()]
    assert check_day_rule(checked, after=None) == []


def test_restart_from_beginning_and_from_a_data_date(mart: Mart, tmp_path: Path) -> None:
    _week(mart, days=3)
    export_stream(mart.engine, [LocalDestination(tmp_path / "a")], max_folders=10)
    again = export_once(mart.engine, [LocalDestination(tmp_path / "b")], restart="beginning")
    assert again is not None and again.hwm_from == ORIGIN
    third_day = WEEK_START + timedelta(days=2)
    dated = export_once(mart.engine, [LocalDestination(tmp_path / "c")], restart=third_day.isoformat())
    with mart.engine.connect() as conn:
        expected = conn.execute(
            sa.text(
                "SELECT max(audit_key) FROM ctl_audit_log WHERE audit_key < (SELECT min(audit_key) "
                "FROM ctl_audit_log WHERE COALESCE(max_chunk_ts, max_start_date_time_key) >= :t)"
            ),
            {"t": ts_of(third_day)},
        ).scalar_one()
    assert dated is not None and dated.hwm_from.audit_key == expected
    fresh = ExportOptions(start_date=third_day)
    with mart.engine.begin() as conn:  # a stream that never exported starts at settings' start_date
        conn.execute(sa.text("DELETE FROM gim_export_hwm"))
    started = export_once(mart.engine, [LocalDestination(tmp_path / "d")], fresh)
    assert started is not None and started.hwm_from.audit_key == expected


def test_export_views_hide_a_migration_until_refreshed(mart: Mart, local: LocalDestination) -> None:
    mart.load_day(WEEK_START)
    options = ExportOptions(use_views=True)
    export_stream(mart.engine, [local], options)
    with mart.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE resource_ ADD COLUMN extra_attr varchar(10)"))
    mart.load_day(WEEK_START + timedelta(days=1))
    (folder,) = export_stream(mart.engine, [local], options)
    header = check_folder(local.root / folder.name)["resource_"][0]
    assert "extra_attr" not in header and "resource_name" in header


def test_encoding_is_configurable(mart: Mart, local: LocalDestination) -> None:
    mart.load_day(WEEK_START)
    (folder,) = export_stream(mart.engine, [local], ExportOptions(encoding="latin-1"))
    with zipfile.ZipFile(local.root / folder.name / f"{folder.name}.zip") as archive:
        data = archive.read("interaction_fact.csv")
    assert "Grüße".encode("latin-1") in data and "Grüße".encode() not in data


def _rows(*spec: tuple[int, int | None, int | None]) -> list[AuditRow]:
    return [AuditRow(k, k, lo, hi) for k, lo, hi in spec]


@pytest.mark.parametrize(
    ("rows", "prev", "taken"),
    [
        (
            _rows((1, None, None), (2, 0, 3600), (3, 3600, 90_000)),
            None,
            [1, 2],
        ),  # first export: from first data
        (_rows((4, 100, 200_000)), 50, [4]),  # one transaction beyond the day: alone, never stuck
        (_rows((5, None, None), (6, 10, 20)), 100_000, [5, 6]),  # late data never counts against the day
        (_rows((7, 0, 86_400 + 500), (8, 0, 86_401 + 500)), 500, [7]),
        (_rows((9, 200_000, 203_600), (10, 203_600, 286_000)), 500, [9, 10]),  # after a gap: from its data
        (_rows((11, 200_000, 203_600), (12, 150_000, 240_000)), 500, [11]),  # late data moves the start back
        ([], 10, []),
    ],
)
def test_choose_window(rows: list[AuditRow], prev: int | None, taken: list[int]) -> None:
    assert [r.audit_key for r in choose_window(rows, prev)] == taken


def test_folder_names_sort_numerically() -> None:
    from gim_dagster.core.export.contract import reexport_folder_name, stream_folder_name

    names = [stream_folder_name(k, 1_700_000_000 + k) for k in (9, 10, 99, 100, 12345)]
    assert sorted(names) == names
    assert sorted([reexport_folder_name(TODAY, 5), *names])[-1].startswith("reexport_")
