"""Job_MaintainGIM core: purge exactly what is older than retention, idempotently."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.maintenance import maintain
from gim_dagster.core.infomart.partitions import day_key, list_partitions, partition_name

from .conftest import TODAY, end_offsets, irf_row, records

IRF = "interaction_resource_fact"
RETENTION = 5


def _load_days(engine: sa.Engine, days_back: int, per_day: int) -> None:
    rows = [
        irf_row(d * 1000 + i, TODAY - timedelta(days=d)) for d in range(days_back + 1) for i in range(per_day)
    ]
    recs = records(rows)
    load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))


def _stray_default_rows(engine: sa.Engine) -> None:
    """Rows in the DEFAULT partition: one older than retention, one inside it (day without partition)."""
    with engine.begin() as conn:
        for ident, key in [(1, day_key(TODAY - timedelta(days=30)) + 60), (2, day_key(TODAY) - 86_400 * 4)]:
            conn.execute(
                sa.text(
                    "INSERT INTO interaction_fact_default (interaction_id, start_date_time_key, tenant_key, "
                    "media_type_key, interaction_type_key, create_audit_key, update_audit_key) "
                    "VALUES (:i, :k, 1, 1, 1, 1, 1)"
                ),
                {"i": ident, "k": key},
            )


def test_maintenance_drops_exactly_partitions_older_than_retention(engine: sa.Engine) -> None:
    _load_days(engine, days_back=8, per_day=4)
    _stray_default_rows(engine)

    result = maintain(engine, retention_days=RETENTION, today=TODAY, date_time_days_ahead=10)

    cutoff = TODAY - timedelta(days=RETENTION)
    assert result.cutoff == cutoff
    dropped_irf = sorted(p.day for p in result.dropped if p.table == IRF)
    assert dropped_irf == [TODAY - timedelta(days=d) for d in (8, 7, 6)]
    assert all(p.rows == 4 for p in result.dropped if p.table == IRF)
    assert result.deleted_rows["interaction_fact"] == 1
    assert result.purged_rows == 3 * 4 + 1
    with engine.connect() as conn:
        names = {p.name for p in list_partitions(conn, IRF)}
        for d in range(RETENTION + 1):
            assert partition_name(IRF, TODAY - timedelta(days=d)) in names
        oldest = conn.execute(sa.text(f"SELECT min(start_date_time_key) FROM {IRF}")).scalar_one()
        assert day_key(cutoff) <= oldest < day_key(cutoff + timedelta(days=1))
        assert conn.execute(sa.text(f"SELECT count(*) FROM {IRF}")).scalar_one() == (RETENTION + 1) * 4
        kept = conn.execute(sa.text("SELECT interaction_id FROM interaction_fact_default")).scalars().all()
        assert kept == [2]
        assert (
            conn.execute(sa.text("SELECT max(date_time_key) FROM date_time")).scalar_one()
            == day_key(TODAY + timedelta(days=10)) - 900
        )
    assert IRF in result.analyzed and "date_time" in result.analyzed


def test_second_run_changes_nothing(engine: sa.Engine) -> None:
    _load_days(engine, days_back=7, per_day=2)
    first = maintain(engine, retention_days=RETENTION, today=TODAY, date_time_days_ahead=10)
    assert first.purged_rows > 0
    with engine.connect() as conn:
        before = conn.execute(sa.text(f"SELECT count(*) FROM {IRF}")).scalar_one()
        audit_before = conn.execute(sa.text("SELECT count(*) FROM ctl_audit_log")).scalar_one()

    second = maintain(engine, retention_days=RETENTION, today=TODAY, date_time_days_ahead=10)
    assert second.dropped == [] and second.partitions_created == [] and second.analyzed == []
    assert second.date_time_rows == 0
    assert second.purged_rows == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {IRF}")).scalar_one() == before
        assert conn.execute(sa.text("SELECT count(*) FROM ctl_audit_log")).scalar_one() == audit_before
        runs = conn.execute(sa.text("SELECT job_name, status FROM ctl_etl_history")).all()
    assert runs == [("Job_MaintainGIM", "COMPLETE")] * 2


def test_analyze_takes_what_changed_since_the_previous_run_not_the_history(engine: sa.Engine) -> None:
    """Only partitions written since the last run are analyzed; the table itself once 10 % of it changed."""
    _load_days(engine, days_back=11, per_day=20)  # 240 rows over twelve days, offsets 0..239
    keep = 30
    first = maintain(engine, retention_days=keep, today=TODAY, date_time_days_ahead=10)
    written = {partition_name(IRF, TODAY - timedelta(days=d)) for d in range(12)}
    assert written | {IRF} <= set(first.analyzed)

    def load_more(ids: range, day_back: int, offset: int, retention_days: int = keep) -> list[str]:
        recs = records([irf_row(i, TODAY - timedelta(days=day_back)) for i in ids], start_offset=offset)
        load_batch(engine, recs, job_name="infomart_load", topic_offsets=end_offsets(recs))
        result = maintain(engine, retention_days=retention_days, today=TODAY, date_time_days_ahead=10)
        return sorted(n for n in result.analyzed if n.startswith(IRF))

    # three rows today (today's 23 rows: under 10 % of the table): today's partition, no other day
    assert load_more(range(5000, 5003), 0, 240) == [partition_name(IRF, TODAY)]
    # a day in, a day out (the total stays 243): the partitions written since hold 63 rows, 26 %
    assert load_more(range(6000, 6020), 1, 243, retention_days=10) == [
        IRF,
        partition_name(IRF, TODAY - timedelta(days=1)),
    ]
    with engine.connect() as conn:
        own = conn.execute(sa.text(f"SELECT reltuples FROM pg_class WHERE relname = '{IRF}'")).scalar_one()
    assert own == 243
