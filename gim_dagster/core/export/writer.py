"""Write one export folder: stream each table's changed rows with ``COPY (SELECT …) TO STDOUT`` into a zip.

Rows are never held in memory: COPY delivers one row per message, rows are gathered into ~1 MiB blocks that
are hashed (the per-CSV SHA-1) and deflated straight into the zip entry. A table with no changed row gets no
entry at all. Null and empty string are both written as an empty field: string columns are selected as
``NULLIF(col, '')`` so COPY writes them as (unquoted, empty) NULLs.
"""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gim_dagster.core.export.contract import ExportInfo, Mark, render_info, sha1_line
from gim_dagster.core.infomart.audit import written_span
from gim_dagster.core.infomart.tables import EXPORTED_TABLES, PARTITION_KEY, PARTITIONED_TABLES, metadata

MODEL_TABLES = frozenset(metadata.tables)
PARTITIONED = frozenset(t.name for t in PARTITIONED_TABLES)

VIEW_SCHEMA = "gim_export"
BLOCK_BYTES = 1 << 20
COMPRESS_LEVEL = 6
"""Same as the ``zip`` command's default, so the benchmark compares like with like."""


@dataclass(frozen=True)
class Source:
    """One exported table: the relation read (table or export view) and its columns in order."""

    table: str
    relation: str
    columns: tuple[tuple[str, bool], ...]
    """``(name, is_string)`` pairs."""

    def select(self, window: tuple[Mark, Mark], span: tuple[int, int] | None = None) -> str:
        """Rows whose create or update audit key is in ``(from, to]``.

        Written as one range on ``update_audit_key`` (indexed) because ``create <= update``:
        ``update in (a, b]`` or (``update > b`` and ``create in (a, b]``).

        A fact table's partitions (by START_DATE_TIME_KEY) each have their own audit-key index, so the rows
        are also bounded by the data time that the window's transactions recorded in CTL_AUDIT_LOG (the
        loader, the only writer of facts, records the START_DATE_TIME_KEY range of every row it writes):
        the scan then probes the partitions of those days only, not one index per day of history. ``span``
        is that range when the caller read it (``window_span``): as constants it also spares the planner
        the other partitions; without it the query reads it itself.
        """
        a, b = int(window[0].audit_key), int(window[1].audit_key)
        cols = ", ".join(f"NULLIF({c}, '') AS {c}" if text else c for c, text in self.columns)
        select = (
            f"SELECT {cols} FROM {self.relation} WHERE update_audit_key > {a} "
            f"AND (update_audit_key <= {b} OR (create_audit_key > {a} AND create_audit_key <= {b}))"
        )
        if self.table not in PARTITIONED:
            return select
        if span is not None:
            lo, hi = str(int(span[0])), str(int(span[1]))
        else:
            keys = f"FROM ctl_audit_log WHERE audit_key > {a} AND audit_key <= {b}"
            lo = f"(SELECT min(min_start_date_time_key) {keys})"
            hi = f"(SELECT max(max_start_date_time_key) {keys})"
        return f"{select} AND {PARTITION_KEY} >= {lo} AND {PARTITION_KEY} <= {hi}"


def window_span(conn: sa.Connection, window: tuple[Mark, Mark]) -> tuple[int, int] | None:
    """The START_DATE_TIME_KEY range of the fact rows written in ``window`` (None: it wrote none)."""
    return written_span(conn, window[0].audit_key, window[1].audit_key)


@dataclass
class Folder:
    """A written (not yet published) folder."""

    name: str
    path: Path
    info: ExportInfo
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per table that had changes."""
    zip_sha1: str = ""

    @property
    def files(self) -> list[Path]:
        """The folder's files, the metadata file last (publishers write them in this order)."""
        return [self.path / f"{self.name}.zip", self.path / f"{self.name}.zip.sha1", self.info_path]

    @property
    def info_path(self) -> Path:
        return self.path / f"{self.name}.extracted.xml"


def exported_names(custom_tables: Sequence[str] = ()) -> list[str]:
    """The model's exported tables (``tables.py``), then the tenant's custom user-data tables."""
    return [t.name for t in EXPORTED_TABLES] + [c for c in custom_tables if c not in MODEL_TABLES]


def sources(conn: sa.Connection, use_views: bool, custom_tables: Sequence[str] = ()) -> list[Source]:
    """The exported tables, read directly or through the export views.

    A custom user-data table must exist in the Info Mart with ``create_audit_key`` and ``update_audit_key``
    (whatever writes it stamps them from CTL_AUDIT_LOG), or the export fails naming it.
    """
    out = []
    for name in exported_names(custom_tables):
        relation = f"{VIEW_SCHEMA}.{name}" if use_views else name
        columns = relation_columns(conn, relation)
        missing = {"create_audit_key", "update_audit_key"} - {c for c, _ in columns}
        if missing:
            raise LookupError(f"exported table {name} has no {' or '.join(sorted(missing))} column")
        out.append(Source(name, relation, columns))
    return out


def relation_columns(conn: sa.Connection, relation: str) -> tuple[tuple[str, bool], ...]:
    """Columns of a table or view from the catalog (so a view shows the schema it was created with)."""
    rows = conn.execute(
        sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(:r) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"r": relation},
    ).all()
    if not rows:
        raise LookupError(f"relation {relation} does not exist in the Info Mart")
    return tuple((name, kind.startswith(("character", "text"))) for name, kind in rows)


def refresh_views(conn: sa.Connection, only_missing: bool, custom_tables: Sequence[str] = ()) -> list[str]:
    """(Re)create the export views ``gim_export.<table>`` with today's columns; return the views written.

    A view keeps the column list it was created with, so after a migration the export stays as it was until
    the views are refreshed.
    """
    conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {VIEW_SCHEMA}"))
    written = []
    for name in exported_names(custom_tables):
        view = f"{VIEW_SCHEMA}.{name}"
        exists = conn.execute(sa.text("SELECT to_regclass(:v) IS NOT NULL"), {"v": view}).scalar_one()
        if exists and only_missing:
            continue
        cols = ", ".join(column for column, _ in relation_columns(conn, name))
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {view}"))
        conn.execute(sa.text(f"CREATE VIEW {view} AS SELECT {cols} FROM {name}"))
        written.append(view)
    return written


def _blocks(rows: Iterable[Any]) -> Iterator[tuple[bytes, int]]:
    """Gather COPY rows into blocks of about ``BLOCK_BYTES``; yield ``(block, rows in it)``."""
    buf = bytearray()
    count = 0
    for row in rows:
        buf += row
        count += 1
        if len(buf) >= BLOCK_BYTES:
            yield bytes(buf), count
            buf.clear()
            count = 0
    if buf:
        yield bytes(buf), count


def _transcoder(encoding: str) -> Callable[[bytes, bool], bytes]:
    """UTF-8 (what PostgreSQL sends) to ``encoding``; unmappable characters become ``?`` (as Java does)."""
    if codecs.lookup(encoding).name == "utf-8":
        return lambda block, _final: block
    decoder = codecs.getincrementaldecoder("utf-8")()
    return lambda block, final: decoder.decode(block, final).encode(encoding, errors="replace")


def write_table(
    raw: Any,
    archive: zipfile.ZipFile,
    source: Source,
    window: tuple[Mark, Mark],
    encoding: str,
    span: tuple[int, int] | None = None,
) -> int:
    """Stream one table's changed rows into ``<table>.csv`` (+ ``.csv.sha1``); return the row count."""
    sql = f"COPY ({source.select(window, span)}) TO STDOUT (FORMAT csv)"
    transcode = _transcoder(encoding)
    total = 0
    digest = hashlib.sha1()
    entry = None
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for block, count in _blocks(copy):
            if entry is None:  # first row: only now does the table get an entry
                entry = archive.open(f"{source.table}.csv", "w", force_zip64=True)
                header = (",".join(name for name, _ in source.columns) + "\n").encode(encoding)
                digest.update(header)
                entry.write(header)
            data = transcode(block, False)
            digest.update(data)
            entry.write(data)
            total += count
    if entry is None:
        return 0
    tail = transcode(b"", True)
    digest.update(tail)
    entry.write(tail)
    entry.close()
    archive.writestr(f"{source.table}.csv.sha1", sha1_line(digest.hexdigest(), f"{source.table}.csv"))
    return total


def file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def write_folder(
    conn: sa.Connection,
    parent: Path,
    name: str,
    info: ExportInfo,
    tables: list[Source],
    encoding: str,
) -> Folder:
    """Write ``parent/<name>/`` (zip, zip.sha1, metadata) from ``conn``'s snapshot; return what it holds."""
    folder = Folder(name, parent / name, info)
    folder.path.mkdir(parents=True)
    zip_path, sha1_path, _ = folder.files
    raw = conn.connection.driver_connection
    window = (info.hwm_from, info.hwm_to)
    span = window_span(conn, window)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for source in tables:
            if rows := write_table(raw, archive, source, window, encoding, span):
                folder.rows[source.table] = rows
    folder.zip_sha1 = file_sha1(zip_path)
    sha1_path.write_text(sha1_line(folder.zip_sha1, zip_path.name), encoding="ascii")
    folder.info_path.write_text(render_info(info), encoding="ascii")
    return folder
