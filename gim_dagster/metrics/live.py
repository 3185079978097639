"""Live gauges of one tenant, read from the systems themselves at each refresh (not from Dagster).

GSP: raw-topic lag against the checkpoint pointer in S3 (``CheckpointStore``) and the checkpoint's age.
GIM: facts-topic lag against the Info Mart's ``gim_kafka_offsets`` and the export stream's high-water mark in
``gim_export_hwm``. Nothing here writes anything; a tenant whose Info Mart does not exist yet or has no schema
yet has no offsets and no export state (not an error), an unreachable one raises.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from confluent_kafka import Consumer

from gim_dagster.core.export.plan import STREAM
from gim_dagster.core.gsp import CheckpointStore
from gim_dagster.core.gsp.microbatch import LATEST, stop_reason
from gim_dagster.core.infomart.loader import read_offsets
from gim_dagster.core.kafka_io import TP, OutOfRange, existing_partitions, offsets_out_of_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.s3_objects import is_missing
from gim_dagster.metrics.families import Reading
from gim_dagster.metrics.kafka_lag import lag_by_topic, lag_seconds, partition_lags

CONNECT_ARGS = {"connect_timeout": 5}
"""A database that is down must fail a refresh fast, not hang it."""


def checkpoint_written_at(store: CheckpointStore) -> float | None:
    """Unix time the ``latest`` pointer was written (the checkpoint's time), None if there is none."""
    try:
        head = store.s3.head_object(Bucket=store.bucket, Key=f"{store.prefix}/{LATEST}")
    except Exception as exc:
        if is_missing(exc):
            return None
        raise
    return float(head["LastModified"].timestamp())


def gsp_readings(
    tenant: str, consumer: Consumer, store: CheckpointStore, now_s: float, has_gca_snapshot: bool = True
) -> list[Reading]:
    names = TenantNames(tenant)
    positions = dict.fromkeys(existing_partitions(consumer, names.raw_topics), 0)
    written_at = checkpoint_written_at(store)
    pointer = store.pointer() if written_at is not None else None
    problems: list[OutOfRange] = []
    if pointer is not None:
        positions.update({tp: o for tp, o in pointer.offsets.items() if tp in positions})
        problems = offsets_out_of_range(
            consumer, {tp: positions[tp] for tp in pointer.offsets if tp in positions}
        )
    lags = partition_lags(consumer, _in_range(positions, problems))
    by_topic = lag_by_topic(lags)
    readings = [
        Reading("gim_gsp_raw_lag_records", by_topic.get(topic, 0), (topic,)) for topic in names.raw_topics
    ]
    readings += _out_of_range_readings("gim_gsp_checkpoint_offset_out_of_range", problems)
    readings.append(Reading("gim_gsp_raw_lag_seconds", lag_seconds(lags, now_s, written_at)))
    if written_at is not None:
        readings.append(Reading("gim_gsp_checkpoint_age_seconds", max(now_s - written_at, 0.0)))
        readings.append(Reading("gim_gsp_checkpoint_timestamp_seconds", written_at))
    stopped = stop_reason(consumer, tenant, written_at is not None, has_gca_snapshot)
    if stopped is not None:
        readings.append(Reading("gim_gsp_stopped", 1.0, (stopped,)))
    return readings


def gim_readings(tenant: str, engine: sa.Engine, consumer: Consumer, now_s: float) -> list[Reading]:
    topic = TenantNames(tenant).facts_topic
    stored: dict[TP, int] = {}
    export = None
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            stored = read_offsets(conn, topic) if "gim_kafka_offsets" in tables else {}
            export = _export_state(conn) if "gim_export_hwm" in tables else None
    except sa.exc.OperationalError:
        if not database_missing(engine.url):
            raise
    positions = {tp: stored.get(tp, 0) for tp in existing_partitions(consumer, [topic])}
    problems = offsets_out_of_range(consumer, stored)
    lags = partition_lags(consumer, _in_range(positions, problems))
    readings = [
        Reading("gim_infomart_load_lag_records", lag_by_topic(lags).get(topic, 0), (topic,)),
        Reading("gim_infomart_load_lag_seconds", lag_seconds(lags, now_s, None)),
        *_out_of_range_readings("gim_infomart_offset_out_of_range", problems),
    ]
    if export is not None:
        hwm, updated, max_data_ts = export
        readings.append(Reading("gim_export_hwm_audit_key", hwm))
        readings.append(Reading("gim_export_hwm_updated_timestamp_seconds", updated))
        if max_data_ts is not None:
            readings.append(Reading("gim_export_max_data_timestamp_seconds", max_data_ts))
    return readings


def _in_range(positions: dict[TP, int], problems: list[OutOfRange]) -> dict[TP, int]:
    """The positions a lag can be read from (reading from one out of range would time out or rewind)."""
    bad = {(p.topic, p.partition) for p in problems}
    return {tp: o for tp, o in positions.items() if tp not in bad}


def _out_of_range_readings(name: str, problems: list[OutOfRange]) -> list[Reading]:
    """1 per stored offset out of its partition's range (labels topic, partition, side); the stage stops."""
    return [Reading(name, 1.0, (p.topic, str(p.partition), p.side)) for p in problems]


def database_missing(url: sa.URL) -> bool:
    """True only if the server answers and has no such database (the first load creates it).

    Asked through the server's ``postgres`` database, because a failed connection does not say why in a form
    that can be relied on; any failure of this probe means "don't know" (False).
    """
    probe = sa.create_engine(
        url.set(database="postgres"), poolclass=sa.pool.NullPool, connect_args=CONNECT_ARGS
    )
    try:
        with probe.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
            return found.first() is None
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        probe.dispose()


def _export_state(conn: sa.Connection) -> tuple[int, float, int | None] | None:
    """(hwm audit key, Unix time it moved, max data ts) of the main export stream, None before any export."""
    row: Any = conn.execute(
        sa.text("SELECT hwm_audit_key, updated, max_data_ts FROM gim_export_hwm WHERE stream = :s"),
        {"s": STREAM},
    ).first()
    if row is None:
        return None
    updated = row[1].replace(tzinfo=UTC) if row[1].tzinfo is None else row[1]  # stored as naive UTC
    return int(row[0]), datetime.timestamp(updated), row[2]
