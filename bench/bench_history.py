"""Benchmark: one tenant's daily load, export and maintenance on day 1 and on day N of its history.

Run (starts its own embedded PostgreSQL unless ``--dsn``; creates and drops its own database; about nine
minutes with the defaults on a busy 2-core machine, mostly simulating and fast-forwarding the days between)::

    .venv/bin/python bench/bench_history.py [--days 30] [--measure 1,30] [--agents 40] \
        [--calls-per-hour 300] [--seed 1] [--repeat 3] [--plans FILE] \
        [--dsn postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Every day is the same seeded traffic (``core.sim``, daily staffing and arrival shape, 1 % duplicates, 2 %
late, 0.1 % malformed), each day with its own ids, turned into fact records by the GSP core
(``Processor``, one micro-batch per hour of traffic, a fresh state per day) and loaded the production way:
one ``load_batch`` per micro-batch (cut by ``load_span_minutes``, one audit key per hour of data time), an
``export_stream`` to a local directory after each load (the hourly cron), ``maintain`` every night
(partitions ahead, ANALYZE; retention long enough to purge nothing). So day N has N days of history.

On a measured day each stage is timed ``--repeat`` times and the median is shown:

* **load**: the day's 24 micro-batches; each one first ``repeat - 1`` times in a transaction that is rolled
  back, then for real (committed span by span); the sum over the hours of each hour's median;
* **export**: each hourly ``export_stream`` ``repeat`` times (the stream's HWM row is put back between tries,
  the last one stays); the sum over the hours of each hour's median;
* **maintenance**: ``maintain`` that night, purging the oldest day (retention = the days since it); the
  tries purge the oldest days one after the other. Day 1's tries run before its load, purging
  ``repeat`` days of pre-history (loaded the same way), so day 1's load and export see only day 1.

``--plans FILE`` also records, on the first and last measured day, every statement of one hour's load, one
export and one maintenance run with ``auto_explain`` (``EXPLAIN (ANALYZE, BUFFERS)``, JSON) into FILE, and
prints per statement how many relations it scanned and its buffers on both days: a plan that touches more
partitions on day N than on day 1 scans history.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from bench_load import timed

from gim_dagster.core.export.publish import LocalDestination
from gim_dagster.core.export.stream import export_stream
from gim_dagster.core.facts.records import FactRecord, encode
from gim_dagster.core.gsp import GspState, Processor
from gim_dagster.core.infomart.loader import load_batch
from gim_dagster.core.infomart.maintenance import maintain
from gim_dagster.core.infomart.schema import migrate
from gim_dagster.core.kafka_io import Record
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, TrafficParams, simulate
from gim_dagster.stack import LocalStack

TENANT = "history"
NAMES = TenantNames(TENANT)
FIRST_DAY = date(2026, 1, 5)
HOUR_MS = 3_600_000
JOB = "bench_history"
Hour = list[FactRecord]


@dataclass
class Facts:
    """The facts topic (one partition): the next offset to hand out."""

    offset: int = 0

    def records(self, rows: list[tuple[str, dict[str, Any]]]) -> Hour:
        out = []
        for table, row in rows:
            key, value, _ = encode(table, row)
            out.append(FactRecord(NAMES.facts_topic, 0, self.offset, key, value))
            self.offset += 1
        return out


def day_facts(day: date, args: argparse.Namespace, facts: Facts) -> list[Hour]:
    """One day of the centre's traffic through the GSP core, one micro-batch per hour (then a final flush)."""
    params = TrafficParams(
        tenant=TENANT, start=datetime(day.year, day.month, day.day, tzinfo=UTC), hours=24,
        calls_per_hour=args.calls_per_hour, chats_per_hour=args.calls_per_hour / 6,
        emails_per_hour=args.calls_per_hour / 12, seed=args.seed, duplicates=0.01, late=0.02, malformed=0.001,
    )  # fmt: skip
    sim = simulate(Roster.synthetic(args.agents, seed=args.seed), params)
    topics = {"voice": NAMES.voice_topic, "digital": NAMES.digital_topic, "agent": NAMES.agent_topic}
    offsets = dict.fromkeys(topics.values(), 0)
    hours: list[list[Record]] = [[] for _ in range(25)]
    newest = 0
    for rec in sim.records:  # delivery order; a micro-batch ends when the newest event passes the hour
        with suppress(ValueError, KeyError, TypeError):  # malformed: delivered where it came
            newest = max(newest, json.loads(rec.value)["ts"])
        topic = topics[rec.kind]
        hours[min(24, max(0, (newest - params.start_ms) // HOUR_MS))].append(
            Record(topic, 0, offsets[topic], rec.key, rec.value, newest)
        )
        offsets[topic] += 1
    processor = Processor(GspState(TENANT))
    partitions = [(t, 0) for t in topics.values()]
    out = []
    for number, batch in enumerate(hours):
        now = params.start_ms + (number + 1) * HOUR_MS + (2 * HOUR_MS if number == 24 else 0)
        out.append(facts.records(processor.process(batch, now_ms=now, partitions=partitions).facts))
    return [hour for hour in out if hour]


def ends(hour: Hour) -> dict[tuple[str, int], int]:
    return {(NAMES.facts_topic, 0): hour[-1].offset + 1}


# ---- the three stages ------------------------------------------------------------------------------------


def load(engine: sa.Engine, hour: Hour) -> None:
    load_batch(engine, hour, job_name=JOB, topic_offsets=ends(hour))


def load_rolled_back(engine: sa.Engine, hour: Hour) -> float:
    """The same load in one transaction that is then rolled back: a repeatable try."""
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            return timed(lambda: load_batch(conn, hour, job_name=JOB, topic_offsets=ends(hour)))
        finally:
            tx.rollback()


def export(engine: sa.Engine, out: Path) -> None:
    export_stream(engine, [LocalDestination(out)], max_folders=48)
    shutil.rmtree(out, ignore_errors=True)  # the folders are not the point; keep the disk flat


@contextmanager
def hwm_put_back(engine: sa.Engine) -> Iterator[None]:
    """Put the export stream's HWM row back as it was (so the same export can be tried again)."""
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT * FROM gim_export_hwm")).mappings().all()
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM gim_export_hwm"))
        for row in before:
            cols = ", ".join(row)
            conn.execute(sa.text(f"INSERT INTO gim_export_hwm ({cols}) VALUES (:{', :'.join(row)})"), row)


def nightly(engine: sa.Engine, today: date, retention_days: int = 100_000) -> int:
    """``maintain`` as the cron runs it on ``today``; return the partitions it dropped."""
    return len(maintain(engine, retention_days=retention_days, today=today).dropped)


@dataclass
class Day:
    number: int
    history_days: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    rows: int = 0


@dataclass
class Bench:
    engine: sa.Engine
    args: argparse.Namespace
    work: Path
    facts: Facts = field(default_factory=Facts)
    present: list[date] = field(default_factory=list)
    plans: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def fast_forward(self, day: date, night: bool = True) -> None:
        hours = day_facts(day, self.args, self.facts)
        self.present.append(day)
        for hour in hours:
            load(self.engine, hour)
        export(self.engine, self.work / "out")
        if night:
            nightly(self.engine, day + timedelta(days=1))

    def purge(self, engine: sa.Engine, today: date) -> float:
        """One maintenance run on ``today`` that purges the oldest day present; its seconds."""
        oldest = self.present.pop(0)
        retention = (today - oldest).days - 1  # cutoff = the day after the oldest
        dropped: list[int] = []
        seconds = timed(lambda: dropped.append(nightly(engine, today, retention)))
        assert dropped[0] > 0, f"nothing purged on {today} with retention {retention}"
        return seconds

    def maintenance(self, number: int, today: date) -> float:
        """Median of ``repeat`` purging maintenance runs (then one more with plans recorded if asked)."""
        seconds = statistics.median(self.purge(self.engine, today) for _ in range(self.args.repeat))
        if self.args.plans:
            with self.explaining("maintenance", number) as engine:
                self.purge(engine, today)
        return seconds

    def measured(self, number: int, day: date) -> Day:
        result = Day(number)
        hours = day_facts(day, self.args, self.facts)
        result.rows = sum(map(len, hours))
        if number == 1:  # the night before day 1 purges the pre-history: day 1's load sees only day 1
            result.history_days["maintenance"] = len(self.present)
            result.seconds["maintenance"] = self.maintenance(number, day + timedelta(days=1))
        self.present.append(day)
        result.history_days["load"] = result.history_days["export"] = len(self.present)
        result.seconds["load"] = result.seconds["export"] = 0.0
        busiest = max(hours, key=len)
        for hour in hours:
            if self.args.plans and hour is busiest:
                with self.explaining("load", number) as engine:
                    load_rolled_back(engine, hour)
            tries = [load_rolled_back(self.engine, hour) for _ in range(self.args.repeat - 1)]
            tries.append(timed(lambda h=hour: load(self.engine, h)))
            result.seconds["load"] += statistics.median(tries)
            if self.args.plans and hour is busiest:
                with hwm_put_back(self.engine), self.explaining("export", number) as engine:
                    export(engine, self.work / "plans")
            tries = []
            for _ in range(self.args.repeat - 1):
                with hwm_put_back(self.engine):
                    tries.append(timed(lambda: export(self.engine, self.work / "out")))
            tries.append(timed(lambda: export(self.engine, self.work / "out")))
            result.seconds["export"] += statistics.median(tries)
        if number == 1:
            nightly(self.engine, day + timedelta(days=1))
        else:
            result.history_days["maintenance"] = len(self.present)
            result.seconds["maintenance"] = self.maintenance(number, day + timedelta(days=1))
        return result

    @contextmanager
    def explaining(self, stage: str, number: int) -> Iterator[sa.Engine]:
        plans: list[dict[str, Any]] = []
        engine = explaining_engine(self.engine.url, plans)
        try:
            yield engine
        finally:
            engine.dispose()
        self.plans.setdefault(number, []).extend(p | {"stage": stage} for p in plans)


# ---- plans -------------------------------------------------------------------------------------------------


def explaining_engine(url: sa.URL, sink: list[dict[str, Any]]) -> sa.Engine:
    """An engine whose sessions send every statement's ``EXPLAIN (ANALYZE, BUFFERS)`` into ``sink``."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _explain(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.add_notice_handler(lambda diag: _note(diag.message_primary or "", sink))
        dbapi_conn.autocommit = True
        for sql in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_buffers = on",
            "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_format = json",
            "SET client_min_messages = log",
        ):
            dbapi_conn.execute(sql)
        dbapi_conn.autocommit = False

    return engine


def _note(message: str, sink: list[dict[str, Any]]) -> None:
    head, _, body = message.partition("plan:\n")
    if body:
        sink.append(json.loads(body) | {"duration": head})


def _scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Relation Name" in node:
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child)


def _shape(sql: str) -> str:
    """A statement without its literals and with temp/partition names generalised, for matching days."""
    sql = re.sub(r"_p\d{8}\b", "_pN", " ".join(sql.split()))
    sql = re.sub(r"\b\d+\b", "N", sql)
    return sql[:110]


def summarise(plans: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Per (stage, statement shape): (statements, relations scanned, shared buffers hit + read)."""
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for plan in plans:
        top = plan["Plan"]
        entry = out[(plan["stage"], _shape(plan.get("Query Text", "")))]
        entry[0] += 1
        entry[1] += sum(1 for _ in _scans(top) if _.get("Actual Loops", 1))
        entry[2] += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def print_plans(first: int, last: int, plans: dict[int, list[dict[str, Any]]], path: Path) -> None:
    path.write_text(json.dumps({str(k): v for k, v in plans.items()}, indent=1))
    a, b = summarise(plans[first]), summarise(plans[last])
    print(f"\nplans (auto_explain; JSON in {path}): relations scanned, shared buffers: day {first} -> {last}")
    for key in sorted(set(a) | set(b)):
        (_, sa_, ba), (nb, sb, bb) = a.get(key, (0, 0, 0)), b.get(key, (0, 0, 0))
        flag = "  <-- grows" if sb > sa_ * 1.2 + 1 or bb > ba * 1.2 + 20 else ""
        print(f"{key[0]:12} {nb:>3}x {sa_:>5} -> {sb:<5} {ba:>7} -> {bb:<7} {key[1]}{flag}")


# ---- main ----------------------------------------------------------------------------------------------


def run(server: sa.URL, args: argparse.Namespace) -> int:
    name = f"bench_history_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(server.set(database=name))
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    measure = sorted({int(n) for n in args.measure.split(",")} | {1})
    try:
        purges = args.repeat + (1 if args.plans else 0)  # day 1's maintenance purges these days
        pre = [FIRST_DAY - timedelta(days=purges - i) for i in range(purges)]
        last = FIRST_DAY + timedelta(days=args.days - 1)
        migrate(engine, date_time_range=(pre[0] - timedelta(days=1), last + timedelta(days=372)))
        nightly(engine, pre[0])  # the night before: partitions ahead
        bench = Bench(engine, args, work)
        for day in pre:  # the last night is day 1's measured maintenance
            bench.fast_forward(day, night=day != pre[-1])
        results: list[Day] = []
        for number in range(1, args.days + 1):
            day = FIRST_DAY + timedelta(days=number - 1)
            if number in measure:
                print(f"day {number} ({day}): measuring ...", file=sys.stderr)
                results.append(bench.measured(number, day))
            else:
                bench.fast_forward(day)
        report(results, args)
        if args.plans:
            print_plans(measure[0], measure[-1], bench.plans, Path(args.plans))
        return 0
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(results: list[Day], args: argparse.Namespace) -> None:
    first, rest = results[0], results[1:]
    print(
        f"one day: {first.rows:,} fact records in {args.agents}-agent centre's traffic "
        f"({args.calls_per_hour:g} calls/h on average); median of {args.repeat} tries per stage"
    )
    head = f"{'stage':12}{'day 1 s':>10}" + "".join(f"{f'day {d.number} s':>11}{'ratio':>7}" for d in rest)
    print(head + f"{'target':>8}   days of history (day 1 / ...)")
    for stage in ("load", "export", "maintenance"):
        base = first.seconds[stage]
        cells = "".join(f"{d.seconds[stage]:>11.3f}{d.seconds[stage] / base:>6.2f}x" for d in rest)
        days = " / ".join(str(d.history_days[stage]) for d in results)
        print(f"{stage:12}{base:>10.3f}{cells}{'1.2x':>8}   {days}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dsn", help="server URL (maintenance database); default: an embedded PostgreSQL")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--measure", default="1,30", help="days to measure (day 1 always)")
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--calls-per-hour", type=float, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", help="record auto_explain plans of the first and last measured day here")
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
