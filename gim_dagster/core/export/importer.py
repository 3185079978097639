"""``gim import``: apply export folders to a target database, as the seed's "Consumption" section describes.

1. List the published folders of the source (a directory or ``s3://bucket/prefix``) in name order; a folder is
   published once its ``.extracted.xml`` exists (the exporter writes it last).
2. Verify every folder not applied yet **before changing anything**: metadata parses, the zip matches its
   ``.zip.sha1``, and the stream's chain is continuous (each ``hwm-from`` at most the previous ``hwm-to``;
   a larger one means an export is missing: refused, naming the folder and the missing mark).
   Re-export folders (``reexport_…``) are outside the chain and only verified.
3. Apply each folder in its own transaction: per CSV, COPY into a temporary table (checking the CSV's own
   SHA-1 on the way), merge into the target by primary key, record the folder in ``gim_import_applied``.
   A crash loses at most the folder in flight; the next run resumes after the last recorded one and a
   second run over the same source is a no-op.

The merge only replaces a target row with a version whose ``update_audit_key`` is not older than the
target's, so overlapping folders (a restarted stream, a re-export applied after newer folders) can never
roll a row back.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError

from gim_dagster.core.export.contract import (
    ContractError,
    ExportInfo,
    is_reexport,
    parse_info,
    parse_sha1,
    reexport_folder_day,
)
from gim_dagster.core.export.plan import DAY_SECONDS, day_start
from gim_dagster.core.export.publish import local_folders, s3_folders

CONTROL_TABLE = "gim_import_applied"
CONTROL_DDL = f"""CREATE TABLE IF NOT EXISTS {CONTROL_TABLE} (
    folder VARCHAR(255) NOT NULL,
    hwm_from_audit_key BIGINT NOT NULL,
    hwm_to_audit_key BIGINT NOT NULL,
    hwm_to_created_ts INTEGER NOT NULL,
    max_data_ts INTEGER NOT NULL,
    zip_sha1 CHAR(40) NOT NULL,
    row_count BIGINT NOT NULL,
    applied TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT pk_{CONTROL_TABLE} PRIMARY KEY (folder)
);"""
IMPORT_LOCK_ID = 0x47494D_494D5054  # "GIM" "IMPT"
BLOCK_BYTES = 1 << 20


class ImportRefused(RuntimeError):
    """The source cannot be applied; the message names the folder and the reason. Nothing was changed."""


class FolderSource(Protocol):
    def folders(self) -> list[str]:
        """Published folder names, in name order."""
        ...

    def read_text(self, folder: str, file: str) -> str: ...

    def zip_path(self, folder: str) -> Path:
        """A local path of the folder's zip (downloaded first if remote)."""
        ...


@dataclass(frozen=True)
class LocalSource:
    root: Path

    def folders(self) -> list[str]:
        if not self.root.is_dir():
            raise ImportRefused(f"source directory {self.root} does not exist")
        return local_folders(self.root)

    def read_text(self, folder: str, file: str) -> str:
        return (self.root / folder / file).read_text(encoding="ascii")

    def zip_path(self, folder: str) -> Path:
        return self.root / folder / f"{folder}.zip"


@dataclass
class S3Source:
    client: Any
    bucket: str
    prefix: str
    scratch: Path

    def _key(self, folder: str, file: str) -> str:
        return f"{self.prefix.strip('/')}/{folder}/{file}".lstrip("/")

    def folders(self) -> list[str]:
        return s3_folders(self.client, self.bucket, self.prefix)

    def read_text(self, folder: str, file: str) -> str:
        obj = self.client.get_object(Bucket=self.bucket, Key=self._key(folder, file))
        return obj["Body"].read().decode("ascii")

    def zip_path(self, folder: str) -> Path:
        path = self.scratch / f"{folder}.zip"
        if not path.exists():
            self.client.download_file(self.bucket, self._key(folder, f"{folder}.zip"), str(path))
        return path


@dataclass(frozen=True)
class CheckedFolder:
    name: str
    info: ExportInfo
    zip_path: Path
    zip_sha1: str


@dataclass
class ImportResult:
    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    day_rule: list[str] = field(default_factory=list)
    """Folders whose data moves more than a day (``check_day_rule``): imported all the same."""


Progress = Callable[[str, int, int], None]
"""Called with (folder, folders done, folders to do)."""


def _file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def verify_folder(source: FolderSource, name: str) -> CheckedFolder:
    """Metadata and zip checksum of one folder; ``ImportRefused`` naming it if anything is wrong."""
    try:
        info = parse_info(source.read_text(name, f"{name}.extracted.xml"), f"{name}.extracted.xml")
        expected = parse_sha1(source.read_text(name, f"{name}.zip.sha1"), f"{name}.zip", f"{name}.zip.sha1")
        path = source.zip_path(name)
        actual = _file_sha1(path)
    except (OSError, ContractError) as exc:
        raise ImportRefused(f"folder {name}: {exc}; nothing was imported") from None
    except (BotoCoreError, ClientError) as exc:
        raise ImportRefused(f"folder {name}: cannot read it ({exc}); nothing was imported") from None
    if actual != expected:
        raise ImportRefused(
            f"folder {name}: {name}.zip does not match its SHA-1 (corrupt or incomplete); "
            "nothing was imported"
        )
    return CheckedFolder(name, info, path, actual)


def check_chain(last_hwm_to: int | None, folders: list[CheckedFolder]) -> None:
    """Refuse a gap in the stream: an export whose ``hwm-from`` is beyond the previous ``hwm-to``."""
    last = last_hwm_to
    for folder in folders:
        if is_reexport(folder.name):
            continue
        start = folder.info.hwm_from.audit_key
        if last is not None and start > last:
            raise ImportRefused(
                f"folder {folder.name}: its hwm-from audit-key={start} does not follow the previous export's "
                f"hwm-to audit-key={last}; the export with hwm-from audit-key={last} is missing; "
                "nothing was imported"
            )
        last = max(last or 0, folder.info.hwm_to.audit_key)


def check_day_rule(folders: list[CheckedFolder], after: int | None, encoding: str = "utf-8") -> list[str]:
    """What a receiving side can check of the seed's one-day rule, one line per folder that breaks it:

    * a stream export's ``max-data-ts`` lies at most a day after the previous export's (``after``: that of
      the last export applied before these), or after the earliest data of its own rows when that is later
      (the stream's first export; the first after a gap in the data). Its own rows are the fact rows its span
      wrote (update audit key in ``(hwm-from, hwm-to]``), their earliest data their smallest START_TS;
    * a re-export of a data day holds that day's data only: each of its own rows has its data time (the later
      of START_TS and END_TS) on the folder's day.
    """
    problems = []
    previous = after
    for folder in folders:
        own = _own_data(folder, encoding)
        if is_reexport(folder.name):
            day = reexport_folder_day(folder.name)
            lo = day_start(day)
            if own.earliest is not None and (own.earliest < lo or (own.latest or 0) >= lo + DAY_SECONDS):
                problems.append(f"folder {folder.name}: holds data outside {day} (UTC)")
            continue
        base = max((v for v in (previous, own.first_start) if v is not None), default=None)
        moved = folder.info.max_data_ts - base if base is not None else 0
        if moved > DAY_SECONDS:
            since = "the previous export's max-data-ts" if base == previous else "the earliest data it holds"
            problems.append(
                f"folder {folder.name}: max-data-ts {moved / 3600:.1f} h after {since} (at most 24 h)"
            )
        previous = folder.info.max_data_ts
    return problems


@dataclass(frozen=True)
class OwnData:
    """Of the fact rows a folder's span wrote: the smallest START_TS, the earliest and latest data time."""

    first_start: int | None
    earliest: int | None
    latest: int | None


def _own_data(folder: CheckedFolder, encoding: str) -> OwnData:
    span = (folder.info.hwm_from.audit_key, folder.info.hwm_to.audit_key)
    starts: list[int] = []
    data: list[int] = []
    with zipfile.ZipFile(folder.zip_path) as archive:
        for entry in archive.namelist():
            if not entry.endswith("_fact.csv"):
                continue
            with archive.open(entry) as raw:
                for row in csv.DictReader(io.TextIOWrapper(raw, encoding=encoding, newline="")):
                    if not span[0] < int(row["update_audit_key"]) <= span[1]:
                        continue
                    times = [int(row[c]) for c in ("start_ts", "end_ts") if row.get(c)]
                    if row.get("start_ts"):
                        starts.append(int(row["start_ts"]))
                    if times:
                        data.append(max(times))
    return OwnData(min(starts, default=None), min(data, default=None), max(data, default=None))


def _last_max_data_ts(conn: sa.Connection) -> int | None:
    """``max-data-ts`` of the last stream export applied to the target (None: none yet)."""
    names = [n for n in _applied(conn) if not is_reexport(n)]
    if not names:
        return None
    sql = f"SELECT max_data_ts FROM {CONTROL_TABLE} WHERE folder = :f"
    return conn.execute(sa.text(sql), {"f": max(names)}).scalar_one()


def _applied(conn: sa.Connection) -> dict[str, int]:
    """Folders recorded in the target (none while the control table does not exist yet)."""
    if not conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": CONTROL_TABLE}).scalar_one():
        return {}
    rows = conn.execute(sa.text(f"SELECT folder, hwm_to_audit_key FROM {CONTROL_TABLE}")).all()
    return {name: hwm for name, hwm in rows}


def import_exports(
    source: FolderSource, target: sa.Engine, encoding: str = "utf-8", progress: Progress | None = None
) -> ImportResult:
    """Verify, then apply every folder of ``source`` not yet applied to ``target``, in name order."""
    with target.connect() as conn:
        applied = _applied(conn)
    names = source.folders()
    result = ImportResult(already=[n for n in names if n in applied])
    pending = [n for n in names if n not in applied]
    checked = [verify_folder(source, name) for name in pending]
    stream_marks = [hwm for name, hwm in applied.items() if not is_reexport(name)]
    check_chain(max(stream_marks, default=None), checked)
    with target.connect() as conn:
        result.day_rule = check_day_rule(checked, _last_max_data_ts(conn), encoding)
    for done, folder in enumerate(checked):
        if progress:
            progress(folder.name, done, len(checked))
        for table, rows in apply_folder(target, folder, encoding).items():
            result.rows[table] = result.rows.get(table, 0) + rows
        result.applied.append(folder.name)
    if progress and checked:
        progress(checked[-1].name, len(checked), len(checked))
    return result


def apply_folder(target: sa.Engine, folder: CheckedFolder, encoding: str) -> dict[str, int]:
    """Merge one folder's CSVs and record it, in one transaction; rows per table (none if applied already)."""
    rows: dict[str, int] = {}
    with target.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": IMPORT_LOCK_ID})
        conn.execute(sa.text(CONTROL_DDL))
        if folder.name in _applied(conn):  # a concurrent importer got there first
            return rows
        with zipfile.ZipFile(folder.zip_path) as archive:
            for entry in sorted(n for n in archive.namelist() if n.endswith(".csv")):
                expected = parse_sha1(
                    archive.read(f"{entry}.sha1").decode("ascii"), entry, f"{folder.name}/{entry}.sha1"
                )
                rows[entry[:-4]] = _merge_csv(conn, archive, entry, expected, folder.name, encoding)
        _record(conn, folder, sum(rows.values()))
    return rows


def _record(conn: sa.Connection, folder: CheckedFolder, row_count: int) -> None:
    info = folder.info
    conn.execute(
        sa.text(
            f"INSERT INTO {CONTROL_TABLE} (folder, hwm_from_audit_key, hwm_to_audit_key, hwm_to_created_ts, "
            "max_data_ts, zip_sha1, row_count, applied) "
            "VALUES (:f, :a, :b, :c, :d, :s, :n, clock_timestamp() AT TIME ZONE 'UTC')"
        ),
        {
            "f": folder.name,
            "a": info.hwm_from.audit_key,
            "b": info.hwm_to.audit_key,
            "c": info.hwm_to.created_ts,
            "d": info.max_data_ts,
            "s": folder.zip_sha1,
            "n": row_count,
        },
    )


def target_columns(conn: sa.Connection, table: str) -> tuple[list[str], list[str]]:
    """Columns and primary-key columns of a target table, from its catalog."""
    cols = conn.execute(
        sa.text(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"
        ),
        {"t": table},
    ).scalars()
    pk = conn.execute(
        sa.text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = to_regclass(:t) AND i.indisprimary "
            "ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)"
        ),
        {"t": table},
    ).scalars()
    return list(cols), list(pk)


def merge_sql(table: str, staging: str, columns: list[str], pk: list[str]) -> str:
    """Upsert ``staging`` into ``table`` by primary key, never replacing a newer version of a row."""
    cols = ", ".join(columns)
    rest = [c for c in columns if c not in pk]
    if not rest:
        action = "DO NOTHING"
    else:
        newer = " WHERE t.update_audit_key <= EXCLUDED.update_audit_key" if "update_audit_key" in rest else ""
        action = "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in rest) + newer
    conflict = f"ON CONFLICT ({', '.join(pk)}) {action}"
    return f"INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {staging} {conflict}"


def _utf8(encoding: str) -> Callable[[bytes, bool], bytes]:
    if codecs.lookup(encoding).name == "utf-8":
        return lambda block, _final: block
    decoder = codecs.getincrementaldecoder(encoding)()
    return lambda block, final: decoder.decode(block, final).encode("utf-8")


def _blocks(stream: Any) -> Iterator[bytes]:
    while block := stream.read(BLOCK_BYTES):
        yield block


def _merge_csv(
    conn: sa.Connection, archive: zipfile.ZipFile, entry: str, expected: str, folder: str, encoding: str
) -> int:
    table = entry[:-4]
    columns, pk = target_columns(conn, table)
    if not columns or not pk:
        raise ImportRefused(
            f"folder {folder}: table {table} is missing in the target or has no primary key "
            "(run `gim export target-schema` against it; custom tables are created separately)"
        )
    digest = hashlib.sha1()
    to_utf8 = _utf8(encoding)
    with archive.open(entry) as stream:
        header_bytes = stream.readline()
        digest.update(header_bytes)
        header = header_bytes.decode(encoding).strip().split(",")
        unknown = [c for c in header if c not in columns]
        if unknown:
            raise ImportRefused(
                f"folder {folder}: target table {table} lacks column(s) {', '.join(unknown)} "
                "(run `gim export target-schema` against it)"
            )
        staging = f"gim_imp_{table}"
        cols = ", ".join(header)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{staging}"))
        conn.execute(
            sa.text(f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA")
        )
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {staging} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                for block in _blocks(stream):
                    digest.update(block)
                    copy.write(to_utf8(block, False))
                copy.write(to_utf8(b"", True))
            count = cur.rowcount
    if digest.hexdigest() != expected:
        raise ImportRefused(f"folder {folder}: {entry} does not match its SHA-1; the folder was not applied")
    conn.execute(sa.text(merge_sql(table, staging, header, pk)))
    return count


def open_source(spec: str, scratch: Path, s3_client: Any | None = None) -> FolderSource:
    """A directory path or ``s3://bucket/prefix`` (``s3_client`` is a boto3 S3 client for the latter)."""
    if spec.startswith("s3://"):
        bucket, _, prefix = spec[len("s3://") :].partition("/")
        if not bucket or s3_client is None:
            raise ImportRefused(f"invalid S3 source {spec!r}: use s3://bucket/prefix")
        return S3Source(s3_client, bucket, prefix, scratch)
    return LocalSource(Path(spec))


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """Where an S3 source's zips are downloaded for verification and loading."""
    return tempfile.TemporaryDirectory(prefix="gim-import-")
