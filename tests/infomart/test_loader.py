"""Exactly-once loads against a real PostgreSQL: counts, re-delivery, crash before commit, updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gim_dagster.core.events.models import MAX_TS
from gim_dagster.core.facts.records import RecordError
from gim_dagster.core.infomart import loader
from gim_dagster.core.infomart.loader import load_batch, read_offsets
from gim_dagster.core.infomart.partitions import Period, day_key, ensure_partitions, partition_name

from .conftest import TODAY, TOPIC, end_offsets, irf_row, records, snapshot

IRF = "interaction_resource_fact"


def _day_rows(n: int = 300) -> list[dict]:
    return [irf_row(i, TODAY - timedelta(days=i % 3)) for i in range(n)]


def _key(result: loader.LoadResult) -> int:
    """The one audit key of a load whose rows lie within one span of data time."""
    assert len(result.audit_keys) == 1, result.audit_keys
    return result.audit_keys[0]


def _scalar(engine: sa.Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_load_counts_match_and_audit_rows_written(engine: sa.Engine) -> None:
    rows = _day_rows()
    recs = records(rows)
    result = load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
    assert result.tables[IRF] == loader.TableCounts(inserted=300, updated=0, unchanged=0)
    assert result.offsets == {(TOPIC, 0): 300}
    assert read_offsets(engine) == {(TOPIC, 0): 300}
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}") == 300
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}_default") == 0
    # Three days of 150 minutes: one transaction per hour of data time, oldest first.
    hours = sorted({max(row["start_ts"], row["end_ts"]) // 3600 for row in rows})
    assert len(result.audit_keys) == len(hours) == 9 and result.audit_keys == sorted(result.audit_keys)
    with engine.connect() as conn:
        audits = conn.execute(
            sa.text("SELECT * FROM ctl_audit_log WHERE audit_key = ANY(:k) ORDER BY audit_key"),
            {"k": result.audit_keys},
        ).all()
        per_key = dict(
            conn.execute(sa.text(f"SELECT update_audit_key, count(*) FROM {IRF} GROUP BY 1")).all()
        )
    assert [a._mapping["max_chunk_ts"] // 3600 for a in audits] == hours
    assert all(a._mapping["job_name"] == "infomart_load" for a in audits)
    assert sum(a._mapping["row_count"] for a in audits) >= 300 and sum(per_key.values()) == 300
    assert audits[0]._mapping["min_start_date_time_key"] == day_key(TODAY - timedelta(days=2))
    assert audits[-1]._mapping["max_chunk_ts"] == max(row["end_ts"] for row in rows)


def test_redelivery_changes_nothing_but_offsets(engine: sa.Engine) -> None:
    recs = records(_day_rows())
    load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
    before = snapshot(engine, IRF)
    audit_before = snapshot(engine, "ctl_audit_log")

    skipped = load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
    assert skipped.skipped == 300 and skipped.tables == {} and skipped.audit_keys == []

    with engine.begin() as conn:  # an operator resets the offsets to an older value: replay from 0
        conn.execute(sa.text("UPDATE gim_kafka_offsets SET next_offset = 0"))
    replay = load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
    assert replay.skipped == 0
    assert replay.tables[IRF] == loader.TableCounts(inserted=0, updated=0, unchanged=300)
    assert replay.audit_keys == []
    assert snapshot(engine, IRF) == before
    assert snapshot(engine, "ctl_audit_log") == audit_before
    assert read_offsets(engine) == {(TOPIC, 0): 300}


def test_crash_before_the_last_span_commits_and_rerun_gives_one_clean_load(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after COPY and upsert of the last span, before its commit: the spans before it stay committed
    (each is a whole transaction), the offsets have not moved, and the re-run reads the same records, finds
    those spans identical (no audit key) and loads only the last one."""
    rows = _day_rows()
    recs = records(rows)

    def crash(*_args: object) -> None:
        raise RuntimeError("killed after COPY and upsert, before commit")

    monkeypatch.setattr(loader, "_write_offsets", crash)
    with pytest.raises(RuntimeError, match="killed"):
        load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
    last_hour = max(max(r["start_ts"], r["end_ts"]) // 3600 for r in rows)
    in_last = sum(1 for r in rows if max(r["start_ts"], r["end_ts"]) // 3600 == last_hour)
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}") == len(rows) - in_last
    assert read_offsets(engine) == {}
    keys_before = _scalar(engine, "SELECT count(*) FROM ctl_audit_log")
    monkeypatch.undo()

    result = load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
    assert result.tables[IRF] == loader.TableCounts(inserted=in_last, updated=0, unchanged=300 - in_last)
    assert len(result.audit_keys) == 1
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}") == 300
    assert _scalar(engine, "SELECT count(*) FROM ctl_audit_log") == keys_before + 1  # type: ignore[operator]
    assert read_offsets(engine) == {(TOPIC, 0): 300}


def test_reemitted_fact_becomes_update_with_new_update_audit_key(engine: sa.Engine) -> None:
    first = records([irf_row(1), irf_row(2)])
    r1 = load_batch(engine, first, job_name="infomart_load", topic_offsets=end_offsets(first))
    late = records(
        [irf_row(1, talk_duration=500, end_ts=irf_row(1)["end_ts"] + 480), irf_row(2)], start_offset=2
    )
    r2 = load_batch(engine, late, job_name="infomart_load", topic_offsets=end_offsets(late))
    assert r2.tables[IRF] == loader.TableCounts(inserted=0, updated=1, unchanged=1)
    assert _key(r2) > _key(r1)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT interaction_resource_id, talk_duration, create_audit_key, update_audit_key "
                f"FROM {IRF}"
            )
        ).all()
    assert sorted(rows) == [(1, 500, _key(r1), _key(r2)), (2, 22, _key(r1), _key(r1))]


def test_batch_mixing_new_changed_and_identical_rows(engine: sa.Engine) -> None:
    """New keys in the time span of existing ones take the key lookup; each row lands exactly once."""
    first = records([irf_row(i) for i in range(10)])
    r1 = load_batch(engine, first, job_name="l", topic_offsets=end_offsets(first))
    mixed = records(
        [irf_row(i, talk_duration=900) if i < 3 else irf_row(i) for i in range(20)], start_offset=10
    )
    r2 = load_batch(engine, mixed, job_name="l", topic_offsets=end_offsets(mixed))
    assert r2.tables[IRF] == loader.TableCounts(inserted=10, updated=3, unchanged=7)
    with engine.connect() as conn:
        audit = dict(
            conn.execute(
                sa.text(
                    f"SELECT create_audit_key, count(*) FILTER (WHERE talk_duration = 900) FROM {IRF} "
                    "GROUP BY create_audit_key"
                )
            ).all()
        )
    assert audit == {_key(r1): 3, _key(r2): 0}
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}") == 20


def test_strings_and_nulls_survive_copy(engine: sa.Engine) -> None:
    texts = ["", r"\N", 'quote " comma , semicolon ;', "tab\tnew\nline\rcr", "back\\slash", "Zoë 東京"]
    rows = [irf_row(i, media_server_ixn_guid=text) for i, text in enumerate(texts)]
    rows.append(irf_row(len(texts), media_server_ixn_guid=None))
    recs = records(rows)
    load_batch(engine, recs, job_name="l", topic_offsets=end_offsets(recs))
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text(f"SELECT media_server_ixn_guid FROM {IRF} ORDER BY interaction_resource_id")
        ).scalars()
        assert list(stored) == [*texts, None]


def test_bad_record_rolls_back_the_whole_batch(engine: sa.Engine) -> None:
    recs = records(_day_rows(10))
    bad = recs[5]._replace(value=b'{"table": "interaction_resource_fact", "row": {"nope": 1}}')
    with pytest.raises(RecordError, match=r"acme.gsp.facts\[0\]@5: unknown column\(s\) nope"):
        load_batch(engine, [*recs[:5], bad, *recs[6:]], job_name="l", topic_offsets=end_offsets(recs))
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}") == 0
    assert read_offsets(engine) == {}


def test_records_beyond_given_end_offsets_are_refused(engine: sa.Engine) -> None:
    recs = records(_day_rows(3))
    with pytest.raises(ValueError, match="not below its end offset 2"):
        load_batch(engine, recs, job_name="l", topic_offsets={(TOPIC, 0): 2})


def test_late_day_gets_partition_and_date_time(engine: sa.Engine) -> None:
    old_day = TODAY - timedelta(days=60)  # outside the migrated DATE_TIME range, no partition yet
    recs = records([irf_row(1, old_day)])
    result = load_batch(engine, recs, job_name="l", topic_offsets=end_offsets(recs))
    assert partition_name(IRF, old_day) in result.partitions_created
    assert result.date_time_rows == 96
    assert _scalar(engine, f"SELECT count(*) FROM {partition_name(IRF, old_day)}") == 1


def test_new_partition_takes_rows_out_of_default(engine: sa.Engine) -> None:
    day = TODAY - timedelta(days=40)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO interaction_fact (interaction_id, start_date_time_key, tenant_key, "
                "media_type_key, "
                "interaction_type_key, create_audit_key, update_audit_key) VALUES (1, :k, 1, 1, 1, 1, 1)"
            ),
            {"k": day_key(day) + 900},
        )
        assert ensure_partitions(conn, [day], ["interaction_fact"]) == [
            partition_name("interaction_fact", day)
        ]
    assert _scalar(engine, "SELECT count(*) FROM interaction_fact_default") == 0
    assert _scalar(engine, f"SELECT count(*) FROM {partition_name('interaction_fact', day)}") == 1


@pytest.mark.parametrize("period", list(Period))
def test_the_latest_time_the_parser_accepts_loads_in_every_partition_period(
    engine: sa.Engine, period: Period
) -> None:
    """Year 3000 made the loader fail (NumericValueOutOfRange) computing its partitions; the parser now caps
    ``ts`` at the last instant whose partition still ends inside the 32-bit date-time keys."""
    last = datetime.fromtimestamp(MAX_TS / 1000, UTC)
    recs = records([irf_row(1, last.date(), start_ts=MAX_TS // 1000 - 30, end_ts=MAX_TS // 1000)])
    load_batch(engine, recs, job_name="l", topic_offsets=end_offsets(recs), partition_period=period)
    assert _scalar(engine, f"SELECT max(end_ts) FROM {IRF}") == MAX_TS // 1000
    assert _scalar(engine, f"SELECT count(*) FROM {IRF}_default") == 0
