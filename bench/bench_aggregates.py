"""Benchmark: re-aggregating a day of a 200-agent centre, against a plain GROUP BY of the same facts.

Run (starts its own embedded PostgreSQL unless ``--dsn``; creates and drops its own database; about four
minutes on a busy 2-core machine, mostly simulating the day)::

    .venv/bin/python bench/bench_aggregates.py [--agents 200] [--calls-per-hour 1500] [--seed 1] \
        [--repeat 3] [--dsn postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

One day of seeded traffic (``core.sim``, the same generator as ``bench_history``) goes through the GSP core
one micro-batch per hour and is loaded the production way (``load_batch``, an audit key per hour); its rows
are spread over the agents and five queues (``known_resources``: the bench has no GCA). Then,
each timed ``--repeat`` times inside a transaction that is rolled back (the median is printed):

* **day from scratch**: ``aggregate`` with the high-water mark at 0, so every interval of the day is
  recomputed: all six aggregates (agent, session states, reasons, queue, abandon and accept buckets) at
  SUBHR, HOUR, DAY and MONTH, time-sliced where RAA slices;
* **plain GROUP BY**: the same facts grouped by their start interval and the same keys, without slicing,
  without the queue stays' join to their handlings and without the rollups: what a naive recomputation
  costs (written into temporary tables, so both sides pay for their writes);
* **last hour, incremental**: the day aggregated up to its 23rd hour and committed, then one ``aggregate``
  run for the last hour's audit key: what the sensor-driven run costs as traffic arrives.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from bench_history import Facts, day_facts, ends
from bench_load import timed

from gim_dagster.core.infomart.aggregates import AggregationResult, aggregate
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.schema import migrate
from gim_dagster.stack import LocalStack

DAY = date(2026, 1, 5)
JOB = "bench_aggregates"

PLAIN_GROUP_BY = {
    "interaction_resource_fact": (
        "tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key",
        "count(*), sum(ring_count), sum(ring_duration), sum(talk_count), sum(talk_duration), "
        "sum(hold_count), sum(hold_duration), sum(after_call_work_count), sum(after_call_work_duration)",
    ),
    "sm_res_session_fact": (
        "tenant_key, media_type_key, resource_key, resource_group_combination_key",
        "sum(end_ts - start_ts)",
    ),
    "sm_res_state_fact": (
        "tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key",
        "count(*), sum(end_ts - start_ts)",
    ),
    "sm_res_state_reason_fact": (
        "tenant_key, media_type_key, resource_key, resource_group_combination_key, resource_state_key, "
        "resource_state_reason_key",
        "count(*), sum(end_ts - start_ts)",
    ),
    "mediation_segment_fact": (
        "tenant_key, media_type_key, resource_key, interaction_type_key, resource_group_combination_key, "
        "technical_descriptor_key",
        "count(*), sum(mediation_duration), max(mediation_duration)",
    ),
}


def plain_group_by(conn: sa.Connection) -> None:
    for n, (table, (keys, sums)) in enumerate(PLAIN_GROUP_BY.items()):
        values = ", ".join(f"{v} AS v{i}" for i, v in enumerate(sums.split(", ")))
        conn.execute(
            sa.text(
                f"CREATE TEMP TABLE plain_{n} ON COMMIT DROP AS SELECT start_date_time_key, {keys}, {values} "
                f"FROM {table} WHERE end_ts IS NOT NULL GROUP BY start_date_time_key, {keys}"
            )
        )


def rolled_back(engine: sa.Engine, fn: Callable[[sa.Connection], object], repeat: int) -> float:
    """Median seconds of ``fn`` in a transaction that is rolled back each time."""
    tries = []
    for _ in range(repeat):
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                tries.append(timed(lambda: fn(conn)))
            finally:
                tx.rollback()
    return statistics.median(tries)


def from_scratch(conn: sa.Connection) -> AggregationResult:
    conn.execute(sa.text("DELETE FROM gim_agg_hwm"))
    return aggregate(conn)


def known_resources(engine: sa.Engine, agents: int) -> None:
    """Give the facts agent and queue keys. The bench runs GSP without GCA's configuration, so it resolves no
    agent or queue (key -1), and the aggregates leave unknown resources out: spread the rows over ``agents``
    agents and five queues instead (the audit keys stay, so nothing counts as changed)."""
    with engine.begin() as conn:
        for table, id_column in (
            ("interaction_resource_fact", "interaction_resource_id"),
            ("sm_res_session_fact", "sm_res_session_fact_key"),
            ("sm_res_state_fact", "sm_res_state_fact_key"),
            ("sm_res_state_reason_fact", "sm_res_state_reason_fact_key"),
        ):
            conn.execute(
                sa.text(
                    f"UPDATE {table} SET resource_key = 1 + abs({id_column} % :n) WHERE resource_key = -1"
                ),
                {"n": agents},
            )
        conn.execute(
            sa.text(
                "UPDATE mediation_segment_fact SET resource_key = 100001 + abs(mediation_segment_id % 5) "
                "WHERE resource_key = -1"
            )
        )


def run(server: sa.URL, args: argparse.Namespace) -> int:
    name = f"bench_aggregates_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(server.set(database=name))
    try:
        migrate(engine, date_time_range=(DAY.replace(day=1), DAY.replace(month=DAY.month + 1)))
        print(f"simulating a day of {args.agents} agents ...", file=sys.stderr)
        hours = day_facts(DAY, args, Facts())
        for hour in hours[:-1]:
            load_batch(engine, hour, job_name=JOB, topic_offsets=ends(hour))
        known_resources(engine, args.agents)
        aggregate(engine)  # up to the last hour, committed
        load_batch(engine, hours[-1], job_name=JOB, topic_offsets=ends(hours[-1]))
        known_resources(engine, args.agents)
        with engine.connect() as conn:
            facts = {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in PLAIN_GROUP_BY
            }
        last_hour = rolled_back(engine, aggregate, args.repeat)
        scratch = rolled_back(engine, from_scratch, args.repeat)
        plain = rolled_back(engine, plain_group_by, args.repeat)
        with engine.begin() as conn:
            result = from_scratch(conn)
        print(
            f"one day, {args.agents} agents: "
            + ", ".join(f"{n:,} {t}" for t, n in facts.items())
            + f"; from scratch {result.intervals:,} intervals, {sum(result.rows.values()):,} aggregate rows; "
            f"median of {args.repeat} tries"
        )
        print(f"{'run':34}{'seconds':>9}")
        print(f"{'day from scratch (6 aggregates)':34}{scratch:>9.3f}")
        print(f"{'plain GROUP BY of the same facts':34}{plain:>9.3f}   ratio {scratch / plain:.1f}x")
        print(f"{'last hour, incremental':34}{last_hour:>9.3f}")
        return 0
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dsn", help="server URL (maintenance database); default: an embedded PostgreSQL")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls-per-hour", type=float, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.dsn:
        return run(sa.make_url(args.dsn), args)
    with tempfile.TemporaryDirectory() as tmp:
        stack = LocalStack(Path(tmp))
        try:
            return run(sa.make_url(stack.up()["GIM_PG_SERVER_URL"]), args)
        finally:
            stack.down()


if __name__ == "__main__":
    sys.exit(main())
