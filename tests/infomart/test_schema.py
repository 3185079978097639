"""Migrations: idempotent, concurrent-safe, and the database equals the live model in tables.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from gim_dagster.core.facts import static_keys as K
from gim_dagster.core.facts import tables as facts
from gim_dagster.core.infomart.date_time import INTERVAL_SECONDS
from gim_dagster.core.infomart.partitions import day_key, list_partitions, partition_name
from gim_dagster.core.infomart.schema import head_revision, migrate
from gim_dagster.core.infomart.tables import (
    AGGREGATE_TABLES,
    ALL_TABLES,
    AUDIT_COLUMNS,
    EXPORTED_TABLES,
    FACT_TABLES,
    PARTITIONED_TABLES,
    data_columns,
    primary_key,
    view_name,
)

from .conftest import DATE_TIME_RANGE, TODAY


def test_migrate_twice_is_idempotent_and_matches_model(fresh_db_url: str) -> None:
    assert migrate(fresh_db_url, date_time_range=DATE_TIME_RANGE) == head_revision()
    engine = sa.create_engine(fresh_db_url)
    with engine.connect() as conn:
        audit_rows = conn.execute(sa.text("SELECT count(*) FROM ctl_audit_log")).scalar_one()
    assert migrate(fresh_db_url, date_time_range=DATE_TIME_RANGE) == head_revision()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
        assert conn.execute(sa.text("SELECT count(*) FROM ctl_audit_log")).scalar_one() == audit_rows
        inspector = sa.inspect(conn)
        for tbl in ALL_TABLES:
            db_columns = {c["name"] for c in inspector.get_columns(tbl.name)}
            assert db_columns == {c.name for c in tbl.columns}, tbl.name
            assert tuple(inspector.get_pk_constraint(tbl.name)["constrained_columns"]) == primary_key(tbl)
        for tbl in AGGREGATE_TABLES:  # reports read the AG2_* views, column for column the AGT_* tables
            view_columns = [c["name"] for c in inspector.get_columns(view_name(tbl))]
            assert view_columns == [c.name for c in tbl.columns], view_name(tbl)
    engine.dispose()


def test_exported_tables_have_audit_keys_and_facts_are_partitioned() -> None:
    assert {t.name for t in FACT_TABLES} == {t.name for t in PARTITIONED_TABLES}
    assert len(FACT_TABLES) == 7
    assert len(EXPORTED_TABLES) == 7 + 2 + 12
    for tbl in EXPORTED_TABLES:
        assert {"create_audit_key", "update_audit_key"} <= set(tbl.c.keys()), tbl.name
    for tbl in FACT_TABLES:
        assert primary_key(tbl)[1] == "start_date_time_key"


def test_exported_tables_are_the_fact_contract_s() -> None:
    """Each exported table has the columns (then the audit keys) and primary key of its record schema."""
    assert [t.name for t in EXPORTED_TABLES] == [s.name for s in facts.TABLES]
    for tbl, schema in zip(EXPORTED_TABLES, facts.TABLES, strict=True):
        assert data_columns(tbl) == schema.column_names
        assert tuple(tbl.c.keys()) == (*schema.column_names, *AUDIT_COLUMNS)
        assert primary_key(tbl) == schema.primary_key
        assert tbl.info["kind"] == schema.kind


def test_partitions_created(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        for tbl in PARTITIONED_TABLES:
            parts = list_partitions(conn, tbl.name)
            assert parts[0].is_default
            names = {p.name for p in parts}
            for ahead in range(4):
                day = TODAY + timedelta(days=ahead)
                assert partition_name(tbl.name, day) in names
            today = next(p for p in parts if p.name == partition_name(tbl.name, TODAY))
            assert (today.lower, today.upper) == (day_key(TODAY), day_key(TODAY) + 86_400)


def test_static_dimensions_seeded_as_documented(engine: sa.Engine) -> None:
    with engine.connect() as conn:

        def rows(sql: str) -> set[tuple[object, ...]]:
            return {tuple(r) for r in conn.execute(sa.text(sql))}

        assert rows("SELECT media_type_key, media_name_code, media_name, is_online FROM media_type") == set(
            K.MEDIA_TYPES
        )
        assert rows(
            "SELECT interaction_type_key, interaction_type_code, interaction_subtype_code "
            "FROM interaction_type"
        ) == set(K.INTERACTION_TYPES)
        assert rows(
            "SELECT technical_descriptor_key, resource_role_code, role_reason_code, technical_result_code, "
            "result_reason_code FROM technical_descriptor"
        ) == set(K.TECHNICAL_DESCRIPTORS)
        assert rows("SELECT resource_state_key, state_name_code, state_name FROM resource_state") == set(
            K.RESOURCE_STATES
        )
        for table, key in [("resource_", "resource_key"), ("place", "place_key"), ("group_", "group_key")]:
            assert rows(f"SELECT {key} FROM {table}") == {(K.UNKNOWN_KEY,)}
        assert rows("SELECT create_audit_key, update_audit_key FROM technical_descriptor") == {(1, 1)}
        assert K.technical_descriptor_key("ROUTEDTO", "ABANDONED", "ABANDONEDWHILEQUEUED") == 15


def test_date_time_filled_with_calendar_attributes(fresh_db_url: str) -> None:
    first, end = DATE_TIME_RANGE
    migrate(fresh_db_url, date_time_range=(first, end), time_zone="America/New_York")
    engine = sa.create_engine(fresh_db_url)
    with engine.connect() as conn:
        lo, hi, n = conn.execute(
            sa.text("SELECT min(date_time_key), max(date_time_key), count(*) FROM date_time")
        ).one()
        assert (lo, hi + INTERVAL_SECONDS) == (day_key(first), day_key(end))
        assert n == (end - first).days * 96
        row = (
            conn.execute(
                sa.text("SELECT * FROM date_time WHERE date_time_key = :k"),
                {"k": day_key(TODAY) + 3600 + 900},
            )
            .one()
            ._mapping
        )
        assert row["utc_hour_24_num_in_day"] == 1 and row["utc_minute_num_in_hour"] == 15
        assert row["date_time_tz"] == "America/New_York"
        assert row["date_time_tz_offset"] in (-5 * 3600, -4 * 3600)
        local_hour = (1 + row["date_time_tz_offset"] // 3600) % 24
        assert row["cal_hour_24_num_in_day"] == local_hour
        assert row["cal_date"] == TODAY - timedelta(days=1)
        assert row["label_15_min"] == f"{local_hour:02d}:15-{local_hour:02d}:30"
        assert row["date_time_day_key"] == day_key(TODAY - timedelta(days=1)) - row["date_time_tz_offset"]
        # extending keeps the zone of the existing rows
    migrate(fresh_db_url, date_time_range=(first, end + timedelta(days=2)))
    with engine.connect() as conn:
        zones = conn.execute(sa.text("SELECT DISTINCT date_time_tz FROM date_time")).scalars().all()
        assert zones == ["America/New_York"]
    engine.dispose()


def test_concurrent_migrations_do_not_break(fresh_db_url: str) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        versions = list(pool.map(lambda _: migrate(fresh_db_url, date_time_range=DATE_TIME_RANGE), range(3)))
    assert versions == [head_revision()] * 3
