"""Chunked admission (``processor.CHUNK_RECORDS``) is invisible: any chunk size gives the same output."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from gim_dagster.core.gsp import BatchOutput, GspConfig, GspState, Processor
from gim_dagster.core.kafka_io import Record
from gim_dagster.core.sim import Roster, Simulation
from tests.gsp.helpers import FAR_FUTURE_MS, as_records, resolver_for, simulated

TENANT = "chunks"
RESOLVER = resolver_for(Roster.synthetic(12, seed=1))
CONFIG = GspConfig(allowed_lateness_ms=5_000, dedup_window_ms=10_000)
"""A short lateness, so that some late records are dead-lettered as too late."""


@pytest.fixture(scope="module")
def simulation() -> Simulation:
    return simulated(TENANT, hours=2)


def spread(records: list[Record], partitions: int) -> list[Record]:
    """The same records over ``partitions`` partitions per topic (by record key), still interleaved."""
    offsets: dict[tuple[str, int], int] = {}
    spread_out = []
    for rec in records:
        tp = (rec.topic, zlib.crc32(rec.key or b"") % partitions)
        offsets[tp] = offsets.get(tp, -1) + 1
        spread_out.append(Record(tp[0], tp[1], offsets[tp], rec.key, rec.value, rec.timestamp_ms))
    return spread_out


def outputs(records: list[Record], flush_every_batch: bool) -> list[Any]:
    """Every batch's output, rows with their column order, for 300-record batches and a final flush."""
    state, seen = GspState(TENANT), []
    for start in range(0, len(records) + 1, 300):
        now_ms = FAR_FUTURE_MS if flush_every_batch or start + 300 > len(records) else None
        out = Processor(state, CONFIG, RESOLVER).process(records[start : start + 300], now_ms=now_ms)
        seen.append(comparable(out))
    return seen


def comparable(out: BatchOutput) -> tuple[Any, ...]:
    facts = [(table, list(row.items())) for table, row in out.facts]
    return facts, out.dead_letters, dict(out.stats), dict(out.events_by_type)


@pytest.mark.parametrize("partitions", [1, 3])
@pytest.mark.parametrize("flush_every_batch", [False, True])
def test_chunk_size_does_not_change_the_output(
    simulation: Simulation, partitions: int, flush_every_batch: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = spread(as_records(TENANT, simulation), partitions)
    monkeypatch.setattr("gim_dagster.core.gsp.processor.CHUNK_RECORDS", 10**9)
    expected = outputs(records, flush_every_batch)
    reasons = {d.reason.split(":")[0] for _facts, dead, _stats, _types in expected for d in dead}
    assert {"malformed", "too late"} <= reasons
    for chunk in (1, 7, 120):
        monkeypatch.setattr("gim_dagster.core.gsp.processor.CHUNK_RECORDS", chunk)
        assert outputs(records, flush_every_batch) == expected, chunk
