"""Export test fixtures: an Info Mart filled through the real loader with a simulated week of facts, late
updates and dimension changes, each load's audit key dated at the time it would have run."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlalchemy as sa

from gim_dagster.core.export.publish import LocalDestination, S3Destination
from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.facts.records import FactRecord, encode
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.partitions import day_key
from gim_dagster.core.infomart.schema import migrate
from gim_dagster.core.infomart.tables import EXPORTED_TABLES, primary_key
from gim_dagster.stack import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY

TODAY = datetime.now(UTC).date()
WEEK_START = TODAY - timedelta(days=7)
TOPIC = "acme.gsp.facts"
CHUNK = 6 * 3600
"""Each simulated load carries six hours of traffic."""
ONE_KEY = 2**40
"""A load span longer than any test's data: one audit key per `load`."""


def ts_of(day: date, seconds: int = 0) -> int:
    return day_key(day) + seconds


def irf(i: int, start: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "interaction_resource_id": i,
        "start_date_time_key": start - start % 900,
        "end_date_time_key": start - start % 900,
        "tenant_key": K.TENANT_KEY,
        "start_ts": start,
        "end_ts": start + 60,
        "interaction_id": i // 2,
        "media_type_key": K.MEDIA_VOICE.key,
        "interaction_type_key": K.INBOUND.key,
        "resource_key": 1 + i % 5,
        "technical_descriptor_key": K.TD_COMPLETED.key,
        "talk_count": 1,
        "talk_duration": 20 + i % 7,
        "active_flag": 1,
        "media_server_ixn_guid": f"guid-{i}" if i % 5 else "",
    }
    return row | over


def ixn(i: int, start: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "interaction_id": i,
        "start_date_time_key": start - start % 900,
        "tenant_key": K.TENANT_KEY,
        "start_ts": start,
        "media_type_key": K.MEDIA_VOICE.key,
        "interaction_type_key": K.INBOUND.key,
        "source_address": "" if i % 3 == 0 else f"+4930{i:06d}",
        "subject": 'Grüße, "quoted"\nnew line' if i % 4 == 1 else None,
        "active_flag": 1,
        "status": 0,  # the loader writes NULL for a left-out column even where the table has a default
    }
    return row | over


def resource(key: int, name: str) -> dict[str, Any]:
    return {
        "resource_key": key,
        "tenant_key": K.TENANT_KEY,
        "resource_type": "Agent",
        "resource_type_code": "AGENT",
        "resource_name": name,
        "agent_first_name": "Zoë",
        "agent_last_name": "",
    }


@dataclass
class Mart:
    """An Info Mart and a way to load batches into it as GSP and the loader would."""

    url: str
    engine: sa.Engine
    offsets: Iterator[int] = field(default_factory=itertools.count)
    next_id: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def load(self, tables: dict[str, list[dict[str, Any]]], created_ts: int | None = None) -> int:
        """Load one batch as one audit key, whatever its data time (the export's rules are tested on keys
        chosen by the test); date its CTL_AUDIT_LOG row ``created_ts`` if given."""
        keys = self.load_spans(tables, ONE_KEY)
        assert len(keys) == 1
        if created_ts is not None:
            self.date_audit(keys[0], keys[0], created_ts)
        return keys[0]

    def load_spans(self, tables: dict[str, list[dict[str, Any]]], span_seconds: int) -> list[int]:
        """Load one batch as the loader cuts it (audit keys of at most ``span_seconds`` of data each)."""
        recs = [
            FactRecord(TOPIC, 0, next(self.offsets), *encode(name, row)[:2])
            for name, rows in tables.items()
            for row in rows
        ]
        topic_offsets = {(TOPIC, 0): recs[-1].offset + 1}
        result = load_batch(
            self.engine,
            recs,
            job_name="infomart_load",
            topic_offsets=topic_offsets,
            span_seconds=span_seconds,
        )
        return result.audit_keys

    def date_audit(self, first: int, last: int, created_ts: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE ctl_audit_log SET created_ts = :ts, "
                    "created = to_timestamp(:ts) AT TIME ZONE 'UTC' WHERE audit_key BETWEEN :a AND :b"
                ),
                {"ts": created_ts, "a": first, "b": last},
            )

    def load_day(self, day: date) -> list[int]:
        """Four loads of six hours each; every load also re-emits (updates) facts of two days before."""
        keys = []
        for chunk in range(4):
            start = ts_of(day, chunk * CHUNK)
            ids = [next(self.next_id) for _ in range(24)]
            tables: dict[str, list[dict[str, Any]]] = {
                "interaction_resource_fact": [irf(i, start + (n * 877) % CHUNK) for n, i in enumerate(ids)],
                "interaction_fact": [ixn(i, start + (n * 877) % CHUNK) for n, i in enumerate(ids[::2])],
            }
            late = day - timedelta(days=2)
            if late >= WEEK_START:  # late updates: close facts of two days ago with a longer talk time
                old = ts_of(late, chunk * CHUNK)
                first = ids[0] - 2 * 4 * 24
                tables["interaction_resource_fact"] += [
                    irf(i, old + (n * 877) % CHUNK, talk_duration=99, active_flag=0)
                    for n, i in enumerate(range(first, first + 3))
                ]
            if chunk == 0:
                tables["resource_"] = [resource(k, f"agent {k} of {day}") for k in range(1, 6)]
            keys.append(self.load(tables, created_ts=start + CHUNK + 600))
        return keys


@pytest.fixture()
def mart(fresh_db_url: str) -> Iterator[Mart]:
    """A migrated, empty Info Mart whose initial audit keys are dated before the simulated week."""
    migrate(fresh_db_url, date_time_range=(WEEK_START - timedelta(days=1), TODAY + timedelta(days=1)))
    engine = sa.create_engine(fresh_db_url)
    m = Mart(fresh_db_url, engine)
    m.date_audit(0, 10**9, ts_of(WEEK_START) - 3600)
    try:
        yield m
    finally:
        engine.dispose()


@pytest.fixture()
def s3_client(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )


@pytest.fixture()
def local(tmp_path: Path) -> LocalDestination:
    return LocalDestination(tmp_path / "exports")


@pytest.fixture()
def s3_dest(s3_client: Any, unique: str) -> S3Destination:
    return S3Destination(s3_client, S3_BUCKET, f"t-{unique}/exports")


def table_rows(engine: sa.Engine, name: str, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
    """All rows of an exported table in primary-key order, empty strings read as NULL (the CSV contract)."""
    tbl = next(t for t in EXPORTED_TABLES if t.name == name)
    cols = columns or [c.name for c in tbl.columns]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"SELECT {', '.join(cols)} FROM {name} ORDER BY {', '.join(primary_key(tbl))}")
        )
        return [tuple(None if v == "" else v for v in row) for row in rows]


@pytest.fixture()
def target(pg_server_url: str) -> Iterator[sa.Engine]:
    """An empty target database (what a customer's warehouse starts as)."""
    name = f"target_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(sa.make_url(pg_server_url).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_script(engine: sa.Engine, sql: str) -> None:
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(sql)
        raw.commit()
    finally:
        raw.close()
