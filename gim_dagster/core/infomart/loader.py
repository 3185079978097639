"""Exactly-once load of ``<tenant>.gsp.facts`` records into the Info Mart.

One batch:

1. read the committed offsets and skip records below them (already loaded: a replayed range is harmless);
2. decode and validate the rest (``records.decode_batch``; the last record of a key wins);
3. cut the rows into spans of data time (``split_by_data_time``, ``span_seconds``: one hour by default, so
   an hourly export takes a day in about 24 keys and a backlog of any length still exports a day at a time);
   then per span, oldest first, one transaction:
4. take the audit lock, draw an audit key (``audit.begin_audit``), check the offsets did not move meanwhile;
5. (first span) make sure DATE_TIME and the fact partitions (of ``partition_period``) cover the batch;
6. per table (``upsert_table``): look up which primary keys already exist; COPY the rows with new keys
   straight into the table (create = update audit key = this audit key); COPY the others into a temporary
   staging table and update, set-based, those whose values differ (they keep their create audit key and get
   this one as update audit key); identical rows are not touched;
7. with the last span only, upsert the consumed offsets ``(topic, partition) -> next offset``;
8. finish the CTL_AUDIT_LOG row (or remove it when nothing changed), commit.

Kill it anywhere and the offsets are those before the batch, or after all of it: the re-run reads the same
records, finds the spans committed before the kill identical (nothing written, no audit key) and loads the
rest, so the result is that of one clean run. Reading Kafka is the caller's job: pass the records read and
the offsets reached.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from gim_dagster.core.facts.records import DecodedBatch, FactRecord, TableRows, decode_batch
from gim_dagster.core.infomart._db import EngineLike, transaction
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit
from gim_dagster.core.infomart.date_time import fill_date_time
from gim_dagster.core.infomart.partitions import DAY_SECONDS, Period, ensure_partitions, key_day
from gim_dagster.core.infomart.tables import (
    AUDIT_COLUMNS,
    PARTITION_KEY,
    PARTITIONED_TABLES,
    primary_key,
    table,
)

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class DataSpan(NamedTuple):
    """Data time of the rows one ``upsert_table`` wrote (all None when it wrote none, or they have none)."""

    min_key: int | None = None
    """Lowest START_DATE_TIME_KEY."""
    max_key: int | None = None
    """Highest START_DATE_TIME_KEY."""
    max_ts: int | None = None
    """Newest START_TS or END_TS: CTL_AUDIT_LOG.MAX_CHUNK_TS, the exports' ``max-data-ts``."""


@dataclass(frozen=True)
class LoadResult:
    """What one ``load_batch`` committed."""

    audit_keys: list[int]
    """CTL_AUDIT_LOG keys of its transactions that changed rows, oldest data first (none: nothing changed)."""
    tables: dict[str, TableCounts]
    records: int
    """Records passed in."""
    skipped: int
    """Records below the committed offsets (already loaded), not decoded."""
    offsets: dict[TopicPartition, int]
    """Committed next offsets after the load, for the partitions of this batch."""
    date_time_rows: int = 0
    partitions_created: list[str] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.tables.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.tables.values())


DEFAULT_SPAN_SECONDS = 3_600
"""Data time one audit key carries at most (tenant setting ``load_span_minutes``; module docstring)."""


def read_offsets(engine_or_conn: EngineLike, topic: str | None = None) -> dict[TopicPartition, int]:
    """Committed next offset per ``(topic, partition)``, of ``topic`` if given: where reading resumes."""
    with transaction(engine_or_conn) as conn:
        return _read_offsets(conn, topic)


def _read_offsets(conn: sa.Connection, topic: str | None) -> dict[TopicPartition, int]:
    sql = "SELECT topic, partition, next_offset FROM gim_kafka_offsets"
    rows = conn.execute(sa.text(sql + (" WHERE topic = :t" if topic else "")), {"t": topic}).all()
    return {(t, p): o for t, p, o in rows}


def load_batch(
    engine_or_conn: EngineLike,
    records: Iterable[FactRecord | tuple[str, int, int, bytes | None, bytes]],
    *,
    job_name: str,
    topic_offsets: Mapping[TopicPartition, int],
    job_id: str | None = None,
    partition_period: Period = Period.DAY,
    span_seconds: int = DEFAULT_SPAN_SECONDS,
) -> LoadResult:
    """Load ``records`` and commit ``topic_offsets`` (next offset per partition) with the last of them.

    ``records`` are ``(topic, partition, offset, key, value)`` in the order read; every record's offset must
    be below its partition's entry in ``topic_offsets``. The rows are cut by data time into spans of
    ``span_seconds`` and each span is loaded in its own transaction with its own audit key, oldest first; the
    offsets commit with the last one. Missing fact-table partitions are created with ``partition_period``.
    Raises ``records.RecordError`` (nothing committed) on a malformed record.
    """
    batch = list(records)
    _check_offsets(batch, topic_offsets)
    with transaction(engine_or_conn) as conn:
        committed = _read_offsets(conn, None)
    fresh = [r for r in batch if r[2] >= committed.get((r[0], r[1]), 0)]
    whole = decode_batch(fresh)
    spans = split_by_data_time(whole, span_seconds)
    audit_keys: list[int] = []
    counts: dict[str, TableCounts] = {}
    date_time_rows, created = 0, []
    offsets: dict[TopicPartition, int] = {}
    for number, decoded in enumerate(spans or [DecodedBatch()]):
        with transaction(engine_or_conn) as conn:
            audit_key = begin_audit(
                conn, job_id=job_id or f"{job_name}-{uuid.uuid4().hex[:12]}", job_name=job_name
            )
            if _read_offsets(conn, None) != committed:
                raise RuntimeError("another load committed offsets to this Info Mart meanwhile: run it again")
            # The first transaction prepares the days of the whole batch: one catalog look-up, not one a span.
            added, made = _prepare_days(conn, whole, audit_key, partition_period) if number == 0 else (0, [])
            changed, written = added, []
            for rows in decoded.tables.values():
                table_counts, span = upsert_table(conn, rows, audit_key)
                counts[rows.table] = _sum(counts.get(rows.table), table_counts)
                changed += table_counts.inserted + table_counts.updated
                written.append(span)
            if number >= len(spans) - 1:  # the last span commits the offsets of the whole batch
                _write_offsets(conn, topic_offsets)
                offsets = {tp: o for tp, o in _read_offsets(conn, None).items() if tp in topic_offsets}
            finish_audit(conn, audit_key, _audit_stats(changed, written))
        if changed:
            audit_keys.append(audit_key)
        date_time_rows, created = date_time_rows + added, created + made
    return LoadResult(
        audit_keys=audit_keys,
        tables=counts,
        records=len(batch),
        skipped=len(batch) - len(fresh),
        offsets=offsets,
        date_time_rows=date_time_rows,
        partitions_created=created,
    )


def split_by_data_time(decoded: DecodedBatch, span_seconds: int) -> list[DecodedBatch]:
    """The batch's rows cut into spans of data time, oldest first (empty spans left out).

    A row's data time is what CTL_AUDIT_LOG records for its transaction and the export's one-day rule reads:
    the later of START_TS and END_TS (START_DATE_TIME_KEY without either). Rows in one span are at most
    ``span_seconds`` apart in data time, so however large a backlog one load takes, no audit key carries
    more than that: each export then moves ahead at most one day of data, the first one included.
    """
    spans: dict[int, DecodedBatch] = {}
    for rows in decoded.tables.values():
        times = [i for i, c in enumerate(rows.columns) if c in ("start_ts", "end_ts")]
        times = times or [rows.columns.index(PARTITION_KEY)]
        for key, values in rows.rows.items():
            when = max((t for i in times if (t := values[i]) is not None), default=0)
            target = spans.setdefault(when // span_seconds, DecodedBatch())
            part = target.tables.get(rows.table)
            if part is None:
                part = target.tables[rows.table] = TableRows(rows.table, rows.columns)
            part.rows[key] = values
    return [spans[number] for number in sorted(spans)]


def _sum(a: TableCounts | None, b: TableCounts) -> TableCounts:
    if a is None:
        return b
    return TableCounts(a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged)


def _audit_stats(changed: int, spans: Sequence[DataSpan]) -> AuditStats:
    def extreme(pick: Callable[..., int | None], values: Iterable[int | None]) -> int | None:
        return pick((v for v in values if v is not None), default=None)

    return AuditStats(
        changed,
        min_start_date_time_key=extreme(min, (s.min_key for s in spans)),
        max_start_date_time_key=extreme(max, (s.max_key for s in spans)),
        max_chunk_ts=extreme(max, (s.max_ts for s in spans)),
    )


def _check_offsets(batch: Sequence[tuple], topic_offsets: Mapping[TopicPartition, int]) -> None:
    """Every record must lie below the end offset committed with it, or a later batch would skip past it."""
    for topic, partition, offset, *_ in batch:
        end = topic_offsets.get((topic, partition))
        if end is None or offset >= end:
            raise ValueError(
                f"record {topic}[{partition}]@{offset} is not below its end offset {end} in topic_offsets"
            )


def _prepare_days(
    conn: sa.Connection, decoded: DecodedBatch, audit_key: int, period: Period
) -> tuple[int, list[str]]:
    """Fill the DATE_TIME days and create the partitions that the batch's facts refer to.

    Only the days actually referenced are filled (not the span between them), so a far-off sentinel end
    time cannot make a batch fill years of calendar.
    """
    partitioned = {t.name for t in PARTITIONED_TABLES}
    referenced: set[int] = set()
    fact_days: set[int] = set()
    for rows in decoded.tables.values():
        if rows.table not in partitioned:
            continue
        positions = [i for i, c in enumerate(rows.columns) if c.endswith("date_time_key")]
        referenced |= _day_numbers(rows, positions)
        fact_days |= _day_numbers(rows, [rows.columns.index(PARTITION_KEY)])
    if not referenced:
        return 0, []
    missing = conn.execute(
        sa.text(
            "SELECT d FROM unnest(CAST(:days AS bigint[])) AS d WHERE NOT EXISTS "
            "(SELECT 1 FROM date_time WHERE date_time_key = d * :day)"
        ),
        {"days": sorted(referenced), "day": DAY_SECONDS},
    ).scalars()
    added = 0
    for number in missing:
        day = key_day(number * DAY_SECONDS)
        added += fill_date_time(conn, day, day + timedelta(days=1), audit_key=audit_key)
    tables = [n for n in decoded.tables if n in partitioned]
    created = ensure_partitions(conn, {key_day(n * DAY_SECONDS) for n in fact_days}, tables, period)
    return added, created


def _day_numbers(rows: TableRows, positions: Sequence[int]) -> set[int]:
    """UTC day numbers (days since 1970) of the date-time keys at ``positions`` (NULLs left out)."""
    return {
        value // DAY_SECONDS
        for values in rows.rows.values()
        for i in positions
        if type(value := values[i]) is int
    }


def upsert_table(conn: sa.Connection, rows: TableRows, audit_key: int) -> tuple[TableCounts, DataSpan]:
    """Upsert ``rows`` into their table by primary key; return the counts and the data time written.

    Rows whose key is new -- nearly all of them in a bulk load -- are COPY'd straight into the table with
    both audit keys set, so they are written once. Only rows whose key exists go through a staging table
    and one set-based UPDATE of those that differ. The key lookup is exact because every writer of an Info
    Mart holds the audit lock (no concurrent insert of the same key) and a batch has one row per key.
    Measured (bench/bench_load.py): this costs little more than a raw COPY, where staging every row and an
    anti-join INSERT cost about twice as much.
    """
    span = _data_span(rows)
    existing = _existing_keys(conn, rows, span)
    new = [v for k, v in rows.rows.items() if k not in existing] if existing else list(rows.rows.values())
    audit = (audit_key, audit_key)
    copy_rows(conn, rows.table, (*rows.columns, *AUDIT_COLUMNS), (values + audit for values in new))
    updated = _update_existing(conn, rows, existing, audit_key) if existing else 0
    counts = TableCounts(len(new), updated, len(rows) - len(new) - updated)
    return counts, span if new or updated else DataSpan()


def copy_rows(
    conn: sa.Connection, name: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """COPY ``rows`` (value tuples in ``columns`` order, None for NULL) into table ``name``.

    psycopg's row writer (text format, formatting and escaping in C) is about twice as fast as building CSV
    text in Python.
    """
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        write = copy.write_row
        for values in rows:
            write(values)


def _data_span(rows: TableRows) -> DataSpan:
    """The data time of ``rows`` (the batch's rows, whether or not they change anything)."""

    def column(name: str) -> list[int]:
        if name not in rows.columns:
            return []
        at = rows.columns.index(name)
        return [value for values in rows.rows.values() if (value := values[at]) is not None]

    keys = column(PARTITION_KEY)
    stamps = column("start_ts") + column("end_ts")
    return DataSpan(min(keys, default=None), max(keys, default=None), max(stamps, default=None))


def _existing_keys(conn: sa.Connection, rows: TableRows, span: DataSpan) -> set[tuple[Any, ...]]:
    """The primary keys of ``rows`` that are already in the table.

    A fact's key includes its START_DATE_TIME_KEY, so when the table has no row at all in the batch's time
    span (a bulk load, a backfill, a new day) no key can exist and the lookup is skipped. Otherwise the keys
    are COPY'd into a temporary table and joined: passing a million keys as array parameters costs about
    four times as much.
    """
    lo, hi, _ = span
    if not rows.rows or (
        lo is not None and hi is not None and not _has_rows_between(conn, rows.table, lo, hi)
    ):
        return set()
    pk = primary_key(table(rows.table))
    keys = f"gim_keys_{rows.table}"
    _create_temp_like(conn, keys, rows.table, pk)
    copy_rows(conn, keys, pk, rows.rows)
    joined = " AND ".join(f"t.{c} = k.{c}" for c in pk)
    if lo is not None and hi is not None:  # prunes the partitions outside the batch's span
        joined += f" AND t.{PARTITION_KEY} BETWEEN {int(lo)} AND {int(hi)}"
    conn.execute(sa.text(f"ANALYZE {keys}"))  # a temporary table has no statistics: the join needs its size
    found = conn.execute(sa.text(f"SELECT k.* FROM {keys} AS k JOIN {rows.table} AS t ON {joined}"))
    return {tuple(key) for key in found}


def _has_rows_between(conn: sa.Connection, name: str, lo: int, hi: int) -> bool:
    """Whether ``name`` has a row with START_DATE_TIME_KEY in ``[lo, hi]`` (pruned to those partitions).

    The bounds are constants in the text, not parameters: psycopg prepares a statement run five times, and
    PostgreSQL's generic plan of a prepared statement prunes partitions only at run time, after locking and
    opening every partition of the table: a cost that grows with the history kept.
    """
    sql = f"SELECT EXISTS (SELECT 1 FROM {name} WHERE {PARTITION_KEY} BETWEEN {int(lo)} AND {int(hi)})"
    return conn.execute(sa.text(sql)).scalar_one()


def _create_temp_like(conn: sa.Connection, name: str, source: str, columns: Sequence[str]) -> None:
    """An empty temporary table ``name`` with ``columns`` of ``source``, dropped at commit."""
    conn.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{name}"))
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {name} ON COMMIT DROP AS "
            f"SELECT {', '.join(columns)} FROM {source} WITH NO DATA"
        )
    )


def _update_existing(
    conn: sa.Connection, rows: TableRows, existing: set[tuple[Any, ...]], audit_key: int
) -> int:
    """Stage the rows whose key exists and update those that differ; return how many were updated."""
    staging = f"gim_stg_{rows.table}"
    _create_temp_like(conn, staging, rows.table, rows.columns)
    copy_rows(conn, staging, rows.columns, (rows.rows[key] for key in existing))
    pk = primary_key(table(rows.table))
    span = None
    if PARTITION_KEY in pk:
        at = pk.index(PARTITION_KEY)
        span = (min(key[at] for key in existing), max(key[at] for key in existing))
    sql = update_sql(rows.table, rows.columns, staging, span)
    return conn.execute(sa.text(sql), {"ak": audit_key}).rowcount


def update_sql(name: str, columns: Sequence[str], staging: str, span: tuple[int, int] | None = None) -> str:
    """The UPDATE of ``name`` from ``staging`` (bound parameter ``:ak`` = audit key) by primary key.

    It touches only rows whose values differ: they keep CREATE_AUDIT_KEY and get ``:ak`` as
    UPDATE_AUDIT_KEY. Identical rows are left alone, so a replayed batch changes nothing. ``span``, the
    lowest and highest START_DATE_TIME_KEY of the staged keys, prunes a fact table to those partitions:
    without it the join visits every partition of the history.
    """
    pk = primary_key(table(name))
    non_key = [c for c in columns if c not in pk]
    joined = " AND ".join(f"t.{c} = s.{c}" for c in pk)
    if span is not None:
        joined += f" AND t.{PARTITION_KEY} BETWEEN {int(span[0])} AND {int(span[1])}"
    assignments = ", ".join([*(f"{c} = s.{c}" for c in non_key), "update_audit_key = :ak"])
    old = ", ".join(f"t.{c}" for c in non_key)
    new = ", ".join(f"s.{c}" for c in non_key)
    return (
        f"UPDATE {name} AS t SET {assignments} FROM {staging} AS s "
        f"WHERE {joined} AND ({old}) IS DISTINCT FROM ({new})"
    )


def _write_offsets(conn: sa.Connection, topic_offsets: Mapping[TopicPartition, int]) -> None:
    """Upsert the next offsets; an offset never moves backwards here (a replay of an old range keeps it)."""
    if not topic_offsets:
        return
    items = sorted(topic_offsets.items())
    conn.execute(
        sa.text(
            "INSERT INTO gim_kafka_offsets (topic, partition, next_offset, updated) "
            "SELECT t, p, o, clock_timestamp() AT TIME ZONE 'UTC' "
            "FROM unnest(CAST(:t AS text[]), CAST(:p AS integer[]), CAST(:o AS bigint[])) AS u(t, p, o) "
            "ON CONFLICT (topic, partition) DO UPDATE SET "
            "next_offset = GREATEST(gim_kafka_offsets.next_offset, EXCLUDED.next_offset), "
            "updated = EXCLUDED.updated"
        ),
        {"t": [tp[0] for tp, _ in items], "p": [tp[1] for tp, _ in items], "o": [o for _, o in items]},
    )
