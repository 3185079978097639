"""Fixtures for the Info Mart tests: a migrated database and fact records as GSP would produce them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.facts.records import FactRecord, encode
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.partitions import day_key
from gim_dagster.core.infomart.schema import migrate

TOPIC = "acme.gsp.facts"
TODAY = datetime.now(UTC).date()
DATE_TIME_RANGE = (TODAY - timedelta(days=20), TODAY + timedelta(days=5))


@pytest.fixture()
def engine(fresh_db_url: str) -> Iterator[sa.Engine]:
    """Engine on a freshly migrated Info Mart (small DATE_TIME range to keep tests fast)."""
    migrate(fresh_db_url, date_time_range=DATE_TIME_RANGE)
    eng = sa.create_engine(fresh_db_url)
    try:
        yield eng
    finally:
        eng.dispose()


def irf_row(i: int, day: date = TODAY, **overrides: Any) -> dict[str, Any]:
    """An INTERACTION_RESOURCE_FACT row starting on ``day`` (UTC), 30 s apart per ``i``."""
    start = day_key(day) + 30 * (i % 2800)
    row: dict[str, Any] = {
        "interaction_resource_id": i,
        "start_date_time_key": start - start % 900,
        "end_date_time_key": start - start % 900,
        "tenant_key": K.TENANT_KEY,
        "start_ts": start,
        "end_ts": start + 25,
        "interaction_id": 10_000 + i // 2,
        "media_type_key": K.MEDIA_VOICE.key,
        "interaction_type_key": K.INBOUND.key,
        "resource_key": K.UNKNOWN_KEY,
        "technical_descriptor_key": K.TD_COMPLETED.key,
        "talk_count": 1,
        "talk_duration": 20 + i % 7,
        "media_server_ixn_guid": f"guid-{i}" if i % 5 else "",
    }
    row.update(overrides)
    return row


def records(
    rows: list[dict[str, Any]], table: str = "interaction_resource_fact", start_offset: int = 0
) -> list[FactRecord]:
    """Encode ``rows`` as consecutive records of partition 0 of ``TOPIC``."""
    out = []
    for n, row in enumerate(rows):
        key, value, _headers = encode(table, row)
        out.append(FactRecord(TOPIC, 0, start_offset + n, key, value))
    return out


def end_offsets(recs: list[FactRecord]) -> dict[tuple[str, int], int]:
    """Next offset per partition after ``recs``."""
    ends: dict[tuple[str, int], int] = {}
    for r in recs:
        ends[(r.topic, r.partition)] = max(ends.get((r.topic, r.partition), 0), r.offset + 1)
    return ends


def snapshot(engine: sa.Engine, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` in primary-key order (for exact before/after comparisons)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 2"))]


class Feed:
    """Loads fact rows through the loader (so they get audit keys), on consecutive offsets."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.offset = engine, 0

    def load(self, *batches: tuple[str, list[dict[str, Any]]]) -> None:
        recs = []
        for table, rows in batches:
            recs += records(rows, table, self.offset + len(recs))
        self.offset += len(recs)
        load_batch(self.engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))


@pytest.fixture()
def feed(engine: sa.Engine) -> Feed:
    return Feed(engine)
