"""Benchmark: Info Mart upsert vs raw COPY vs pandas ``to_sql``, for INTERACTION_RESOURCE_FACT rows.

Run (creates and drops its own database on the server of the DSN)::

    .venv/bin/python bench/bench_load.py \
        [postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--rows 1000000] [--to-sql-rows 50000]

The same rows (decoded, in memory) go three ways, each into an empty table, each timed up to its commit:

* **raw COPY** (the ceiling): the rows COPY'd (written exactly as the loader writes them,
  ``loader.copy_rows``) into an empty plain table with the same columns, primary key and index as
  INTERACTION_RESOURCE_FACT.
* **upsert** (ours): ``loader.upsert_table`` into the partitioned fact table, plus the audit row -- what
  ``load_batch`` does per table: the lookup of existing keys, COPY of the new rows into the table, staging
  and UPDATE of the existing ones (none here: the table is empty).
* **to_sql** (the naive peer): ``DataFrame.to_sql`` with defaults on ``--to-sql-rows`` rows (extrapolated
  as rows/s; it is too slow for the full count).

It also reports, for information, the JSON decode of the Kafka records (``records.decode_batch``) and a
full ``load_batch`` (decode + load) of the same records into a fresh table.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from gim_dagster.core.facts.records import FactRecord, TableRows, decode_batch, encode
from gim_dagster.core.infomart.audit import AuditStats, begin_audit, finish_audit
from gim_dagster.core.infomart.loader import copy_rows, load_batch, upsert_table
from gim_dagster.core.infomart.partitions import day_key, days_between, ensure_partitions
from gim_dagster.core.infomart.schema import migrate

DEFAULT_DSN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IRF = "interaction_resource_fact"
DAYS = 7


def irf_row(i: int, first_day_key: int) -> dict[str, Any]:
    """A realistic IRF row: one per ~0.6 s over ``DAYS`` days, typical counts and durations."""
    start = first_day_key + (i * 37) % (DAYS * 86_400)
    talk = 30 + i % 600
    return {
        "interaction_resource_id": i,
        "start_date_time_key": start - start % 900,
        "end_date_time_key": (start + talk + 40) - (start + talk + 40) % 900,
        "tenant_key": 1,
        "start_ts": start,
        "end_ts": start + talk + 40,
        "interaction_id": 5_000_000 + i // 2,
        "media_type_key": 1 + i % 3,
        "interaction_type_key": 1,
        "resource_key": 1 + i % 500,
        "place_key": 1 + i % 500,
        "technical_descriptor_key": 1 + i % 5,
        "resource_group_combination_key": 1 + i % 20,
        "mediation_segment_id": 9_000_000 + i,
        "media_server_ixn_guid": f"0{i:015X}",
        "ring_count": 1,
        "ring_duration": 3 + i % 9,
        "talk_count": 1,
        "talk_duration": talk,
        "hold_count": i % 2,
        "hold_duration": (i % 2) * 17,
        "after_call_work_count": 1,
        "after_call_work_duration": 20 + i % 40,
        "customer_talk_duration": talk,
        "customer_hold_duration": (i % 2) * 17,
        "irf_anchor": 1 if i % 2 == 0 else 0,
        "active_flag": 0,
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def raw_copy(engine: sa.Engine, rows: TableRows) -> None:
    with engine.begin() as conn:
        copy_rows(conn, "bench_copy", rows.columns, rows.rows.values())


def upsert(engine: sa.Engine, rows: TableRows) -> None:
    with engine.begin() as conn:
        audit_key = begin_audit(conn, job_id=f"bench-{uuid.uuid4().hex[:8]}", job_name="bench")
        counts, span = upsert_table(conn, rows, audit_key)
        finish_audit(conn, audit_key, AuditStats(counts.inserted + counts.updated, *span))
    assert counts.inserted == len(rows), counts


def to_sql(engine: sa.Engine, dicts: list[dict[str, Any]]) -> None:
    pd.DataFrame(dicts).to_sql("bench_to_sql", engine, if_exists="append", index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dsn", nargs="?", default=DEFAULT_DSN)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--to-sql-rows", type=int, default=50_000)
    args = parser.parse_args(argv)

    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.dsn, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(args.dsn).set(database=name)
    engine = sa.create_engine(url)
    try:
        today = datetime.now(UTC).date()
        first = today - timedelta(days=DAYS)
        migrate(engine, date_time_range=(first, today + timedelta(days=2)))
        with engine.begin() as conn:
            ensure_partitions(conn, days_between(first, today + timedelta(days=1)), [IRF])
            conn.execute(sa.text(f"CREATE TABLE bench_copy (LIKE {IRF} INCLUDING ALL)"))
            conn.execute(sa.text(f"CREATE TABLE bench_to_sql (LIKE {IRF} INCLUDING ALL)"))
            for peer in ("bench_copy", "bench_to_sql"):  # the peers set the audit keys by default
                conn.execute(
                    sa.text(
                        f"ALTER TABLE {peer} ALTER create_audit_key SET DEFAULT 0, "
                        "ALTER update_audit_key SET DEFAULT 0"
                    )
                )

        print(f"building {args.rows:,} IRF-shaped records ...", file=sys.stderr)
        dicts = [irf_row(i, day_key(first)) for i in range(args.rows)]
        recs = [FactRecord("bench.gsp.facts", 0, i, *encode(IRF, d)[:2]) for i, d in enumerate(dicts)]
        decode_s = timed(lambda: decode_batch(recs))
        rows = decode_batch(recs).tables[IRF]

        copy_s = timed(lambda: raw_copy(engine, rows))
        upsert_s = timed(lambda: upsert(engine, rows))
        small = dicts[: args.to_sql_rows]
        to_sql_s = timed(lambda: to_sql(engine, small))
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {IRF}"))
        full_s = timed(
            lambda: load_batch(
                engine, recs, job_name="bench", topic_offsets={("bench.gsp.facts", 0): len(recs)}
            )
        )

        n = len(rows)
        copy_rps, upsert_rps, to_sql_rps = n / copy_s, n / upsert_s, len(small) / to_sql_s
        print(f"rows: {n:,} (to_sql: {len(small):,}, extrapolated as rows/s)")
        print(f"raw COPY into empty table : {copy_rps:>10,.0f} rows/s  ({copy_s:.2f} s)")
        print(f"upsert (ours)             : {upsert_rps:>10,.0f} rows/s  ({upsert_s:.2f} s)")
        print(f"pandas to_sql             : {to_sql_rps:>10,.0f} rows/s  ({to_sql_s:.2f} s)")
        print(f"upsert / raw COPY         : {upsert_rps / copy_rps:.0%}   (target >= 60 %)")
        print(f"upsert / to_sql           : {upsert_rps / to_sql_rps:.1f}x  (target >= 5x)")
        print(f"info: JSON decode alone   : {n / decode_s:>10,.0f} records/s")
        print(f"info: load_batch (decode + load, from Kafka records): {n / full_s:,.0f} records/s")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
