"""`gim demo`: the main job end to end on the local stack, through the real Dagster instance.

For every tenant of the settings file: seed (first run) or mutate (later runs) its Configuration DB, simulate
the next window of traffic with duplicates, late and malformed events, then materialize through Dagster
``gca_snapshot`` → ``gsp_microbatch`` (until the raw topics are drained) → ``infomart_load`` (until the facts
topic is drained) → ``infomart_maintenance`` → ``gim_export``. Afterwards the Info Mart is reconciled against
every ledger the demo wrote for the tenant, and the exports are verified by importing them into a fresh
target database and comparing table by table. Runs land in the stack's Dagster instance, so `gim dev` shows
them.

The demo keeps its own state in ``<state dir>/demo``: where the next window starts and which broker and S3
processes it ran against. Tansu and moto keep data in memory; when either was restarted, the topics,
checkpoints and exports behind the Info Marts are gone, so the demo starts its tenants afresh (and says so).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import sqlalchemy as sa
from dagster import (
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    DagsterInstance,
    Definitions,
    MetadataValue,
    materialize,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from gim_dagster.core.configdb.schema import create_schema
from gim_dagster.core.configdb.seed import SeedSpec, mutate_config, seed_config
from gim_dagster.core.export.importer import import_exports, open_source
from gim_dagster.core.export.target_schema import target_schema_sql
from gim_dagster.core.infomart.aggregates import check_totals
from gim_dagster.core.infomart.checks import facts_outside_validity
from gim_dagster.core.infomart.tables import EXPORTED_TABLES, FACT_TABLES
from gim_dagster.core.kafka_io import distinct_keys, existing_partitions, read_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.reconcile import Reconciliation, reconcile
from gim_dagster.core.reconcile_aggregates import reconcile_aggregates
from gim_dagster.core.reports import ReportOptions, report_dir, write_reports
from gim_dagster.core.sim import TrafficParams, simulate
from gim_dagster.core.sim.configdb_roster import load_roster
from gim_dagster.core.sim.ledger import TABLES, Ledger
from gim_dagster.core.sim.sinks import produce
from gim_dagster.databases import TenantDatabases, ensure_database
from gim_dagster.definitions import build_definitions
from gim_dagster.kafka_clients import KafkaClients
from gim_dagster.settings import Settings, load_settings, resolve, settings_path, state_dir
from gim_dagster.stack import LocalStack, MetricsEndpoints
from gim_dagster.tenant_runs import run_tags
from gim_dagster.tenant_storage import TenantStorage

Say = Callable[[str], None]
PIPELINE: tuple[tuple[str, str, bool, dict[str, Any] | None], ...] = (
    ("gca_snapshot", "gca", False, None),
    # The window just simulated is complete: release what GSP holds back for late events.
    ("gsp_microbatch", "gsp", True, {"idle_flush_seconds": 0}),
    ("infomart_load", "load", True, None),
    ("infomart_aggregates", "aggregates", False, None),
    ("infomart_maintenance", "maintenance", False, None),
    ("gim_export", "export", False, {"max_folders": 100}),
)
"""Asset, stage tag, repeat until drained, run config: the order the demo materializes per tenant."""
MAX_ROUNDS = 200
NEXT_WINDOW_GAP_S = 600
FIRST_WINDOWS = 4
"""The first window starts this many windows (at least a day) back, so later runs have room before now."""
WINDOW_SPILL = timedelta(hours=1)
"""Calls and after-call work go on past a window's end; a window must end this long before now."""
JOURNAL_DDL = "CREATE TABLE IF NOT EXISTS gim_demo_journal (run integer PRIMARY KEY)"


class DemoError(RuntimeError):
    """The demo cannot go on as asked; the message says why in one line."""


@dataclass(frozen=True)
class DemoOptions:
    hours: float = 3.0
    agents: int = 16
    calls_per_hour: float = 90.0
    chats_per_hour: float = 20.0
    emails_per_hour: float = 6.0
    duplicates: float = 0.02
    late: float = 0.02
    malformed: float = 0.005
    seed: int = 1
    # The secure stack (`gim stack up --secure`): TLS to PostgreSQL and S3, every client verifying.
    secure: bool = False


@dataclass
class TenantSummary:
    tenant: str
    window: str
    records_produced: int
    interactions: int
    facts: dict[str, int]
    dead_lettered: int
    malformed_injected: int
    reconciliation: dict[str, Any]
    differences: int
    export_folders: int
    export_verified: bool
    export_problems: list[str] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)
    outside_validity: dict[str, int] = field(default_factory=dict)
    """``fact.column -> facts that started outside their dimension row's validity`` (must be empty)."""
    aggregate_problems: list[str] = field(default_factory=list)
    """Aggregate totals that differ between levels or from the facts (``aggregates.check_totals``)."""
    reports: str = ""
    """The index page of the tenant's standard reports over every window so far."""

    @property
    def ok(self) -> bool:
        return (
            self.differences == 0
            and self.export_verified
            and self.dead_lettered == self.malformed_injected
            and not self.outside_validity
            and not self.aggregate_problems
        )


STEPS = ("configure", "simulate", *(asset for asset, _stage, _repeat, _config in PIPELINE))
"""What the progress display counts per tenant."""


class Demo:
    def __init__(self, options: DemoOptions, say: Say, console: Console | None = None) -> None:
        """``console``: show a progress bar per tenant there (``say`` lines print above it)."""
        self.options = options
        self.stack = LocalStack(state_dir())
        self.home = self.stack.state_dir / "demo"
        self.event_log = self.home / "dagster-events.log"
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=console is None,
        )
        self.say = say if console is None else lambda text: self.progress.console.print(text, highlight=False)
        self.tasks: dict[str, TaskID] = {}

    def run(self, metrics: MetricsEndpoints | None = None) -> list[TenantSummary]:
        settings_file = str(settings_path().resolve())
        saved = self._saved_state()
        for tenant in load_settings(settings_file).tenant_names:  # before anything is started or touched
            self._check_window(tenant, saved.get("tenants", {}).get(tenant))
        env = self.stack.up(metrics, secure=self.options.secure)
        os.environ.update(env)  # the resources' EnvVar settings read the stack that is up now
        settings = load_settings(settings_file)
        state = self._state(settings)
        self.home.mkdir(parents=True, exist_ok=True)
        self.say(f"Dagster's event log of the demo's runs: {self.event_log}")
        defs = build_definitions(settings_file)
        instance = DagsterInstance.get()
        summaries = []
        with self.progress:
            for tenant in settings.tenant_names:
                self.tasks[tenant] = self.progress.add_task(
                    f"{tenant}: waiting", total=len(STEPS), start=False
                )
            for number, tenant in enumerate(settings.tenant_names):
                summaries.append(self._tenant(settings, defs, instance, state, tenant, number))
        return summaries

    def _step(self, tenant: str, step: str, done: bool = False) -> None:
        """Show what the tenant is doing now; ``done`` counts the step."""
        self.progress.start_task(self.tasks[tenant])  # its clock runs from its first step
        self.progress.update(self.tasks[tenant], description=f"{tenant}: {step}", advance=1 if done else 0)

    def _check_window(self, tenant: str, tstate: dict[str, Any] | None) -> None:
        """Refuse, before anything is touched, a window that would reach into the future: GSP dead-letters
        events ahead of their records' timestamps, and exports would carry data times ahead of the clock."""
        now = datetime.now(UTC)
        journal = (tstate or {}).get("journal")
        if journal is not None:
            start, hours = datetime.fromisoformat(journal["start"]), journal["options"]["hours"]
        elif tstate is not None:
            start, hours = datetime.fromisoformat(tstate["next_start"]), self.options.hours
        else:
            start, hours = _first_start(self.options.hours, now), self.options.hours
        end = start + timedelta(hours=hours) + WINDOW_SPILL
        if end > now:
            raise DemoError(
                f"{tenant}: the next window ({start:%Y-%m-%d %H:%M} UTC + {hours:g} h) would end in the"
                " future; use fewer --hours, or `gim stack down` and run the demo afresh"
            )

    # ---- state ---------------------------------------------------------------------------------------
    def _saved_state(self) -> dict[str, Any]:
        """The state of the last demo, if its broker and S3 still run (else the demo starts afresh)."""
        file = self.home / "state.json"
        saved = json.loads(file.read_text()) if file.exists() else {}
        running = {s.name: [s.pid] for s in self.stack.status() if s.name in ("kafka", "s3")}
        return saved if saved.get("services") == running else {}

    def _state(self, settings: Settings) -> dict[str, Any]:
        file = self.home / "state.json"
        services = {s.name: [s.pid] for s in self.stack.status() if s.name in ("kafka", "s3")}
        state = json.loads(file.read_text()) if file.exists() else {}
        if state and state.get("services") != services:
            self.say(
                "the broker or S3 restarted since the last demo (they keep data in memory): starting afresh"
            )
            self._reset(settings)
            state = {}
        state.setdefault("tenants", {})
        state["services"] = services
        return state

    def _save_state(self, state: dict[str, Any]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))

    def _reset(self, settings: Settings) -> None:
        server = str(resolve(settings.postgres.server_url))
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for tenant in settings.tenant_names:
                names = TenantNames(tenant)
                for db in (names.configdb_name, names.infomart_name, f"gim_demo_target_{tenant}"):
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(self.home, ignore_errors=True)

    # ---- one tenant ----------------------------------------------------------------------------------------
    def _tenant(
        self,
        settings: Settings,
        defs: Definitions,
        instance: DagsterInstance,
        state: dict[str, Any],
        tenant: str,
        number: int,
    ) -> TenantSummary:
        names = TenantNames(tenant)
        postgres = TenantDatabases(settings)
        kafka = KafkaClients.of(settings.kafka)
        tstate = state["tenants"].setdefault(
            tenant, {"runs": 0, "next_start": _first_start(self.options.hours).isoformat()}
        )
        journal = tstate.get("journal")
        if journal is None:  # a new window: journaled before any of its steps is taken
            options = dataclasses.asdict(self.options)
            journal = tstate["journal"] = {
                "run": tstate["runs"] + 1,
                "start": tstate["next_start"],
                "options": options,
            }
            self._save_state(state)
        else:
            self.say(f"{tenant}: resuming the window of run {journal['run']}, interrupted before it finished")
        run_no, options = journal["run"], DemoOptions(**journal["options"])
        configdb = postgres.configdb_engine(tenant)
        start = datetime.fromisoformat(journal["start"])
        self._step(tenant, "configure")
        self._configure(configdb, tenant, run_no, options.seed * 100 + number, options.agents, start)
        self._step(tenant, "simulate", done=True)

        params = TrafficParams(
            tenant=tenant,
            start=start,
            hours=options.hours,
            calls_per_hour=options.calls_per_hour,
            chats_per_hour=options.chats_per_hour,
            emails_per_hour=options.emails_per_hour,
            seed=(options.seed * 100 + number) * 1000 + run_no,
            duplicates=options.duplicates,
            late=options.late,
            malformed=options.malformed,
            shifts="window",
            daily_shape=False,
        )
        self.say(f"{tenant}: simulating {options.hours:g} h from {start:%Y-%m-%d %H:%M} UTC")
        roster = load_roster(configdb)
        sim = simulate(roster, params)
        kafka.ensure_topics(list(names.raw_topics))
        if "raw_offsets" not in journal:  # where this window's records begin on each raw topic
            journal["raw_offsets"] = _end_offsets(kafka, names.raw_topics)
            self._save_state(state)
        produced = self._produce(kafka, names, sim.records, journal["raw_offsets"])
        sim.ledger.write(self.home / tenant / f"run-{run_no:03d}")
        self._step(tenant, "simulated", done=True)

        runs = self._pipeline(defs, instance, tenant)
        tstate["runs"] = run_no
        tstate["next_start"] = _after(sim.ledger).isoformat()
        del tstate["journal"]
        self._save_state(state)

        ledger = _all_ledgers(self.home / tenant)
        infomart = postgres.infomart_engine(tenant)
        with infomart.connect() as conn:
            result = reconcile(tenant, ledger, conn)
            queue_names = {q.dn: q.name for q in roster.queues}
            result.categories |= reconcile_aggregates(ledger, conn, queue_names=queue_names)
            outside = facts_outside_validity(conn)
            aggregate_problems = check_totals(conn)
            facts = {
                t.name: conn.execute(sa.text(f"SELECT count(*) FROM {t.name}")).scalar_one()
                for t in FACT_TABLES
            }
        _record_reconciliation(instance, tenant, result)
        reports = self._reports(settings, tenant, infomart, ledger, start)
        folders, verified, problems = verify_exports(settings, tenant, infomart, f"gim_demo_target_{tenant}")
        malformed = sum(1 for f in ledger["faults"].to_pylist() if f["kind"] == "malformed")
        return TenantSummary(
            tenant=tenant,
            window=f"{start:%Y-%m-%d %H:%M} + {self.options.hours:g} h",
            records_produced=produced,
            interactions=ledger["interactions"].num_rows,
            facts=facts,
            dead_lettered=_count_keys(kafka, names.deadletter_topic),
            malformed_injected=malformed,
            reconciliation=result.summary(),
            differences=result.differences,
            export_folders=folders,
            export_verified=verified,
            export_problems=problems,
            runs=runs,
            outside_validity=outside,
            aggregate_problems=aggregate_problems,
            reports=str(reports),
        )

    def _reports(
        self,
        settings: Settings,
        tenant: str,
        infomart: sa.Engine,
        ledger: dict[str, pa.Table],
        start: datetime,
    ) -> Path:
        """Write the tenant's standard reports over the local days of every window so far; say where."""
        resolved = settings.tenant(tenant)
        zone = ZoneInfo(resolved.time_zone)
        begun = ledger["agent_sessions"].column("login_s").to_pylist()
        ended = ledger["interactions"].column("end_s").to_pylist()
        first = datetime.fromtimestamp(min(begun, default=start.timestamp()), zone).date()
        end = max((e for e in ended if e is not None), default=start.timestamp())
        last = datetime.fromtimestamp(end, zone).date()
        options = ReportOptions(
            tenant, resolved.aggregates.thresholds(), resolved.reports.service_level_target_percent
        )
        index = write_reports(
            infomart, report_dir(self.home / "reports", tenant, first, last), first, last, options
        )
        self.say(f"{tenant}: reports of {first} to {last} ({resolved.time_zone}): {index}")
        return index

    def _configure(
        self, configdb: sa.Engine, tenant: str, run_no: int, seed: int, agents: int, at: datetime
    ) -> None:
        """Seed (first run) or change the Configuration DB, once per run, as of ``at`` (the start of the
        run's traffic window: the objects exist, with these versions, from then on, as they would in a real
        centre). The run's number is written to ``gim_demo_journal`` in the same transaction, so a demo
        killed around it never skips or repeats it."""
        create_schema(configdb)
        with configdb.begin() as conn:
            conn.exec_driver_sql(JOURNAL_DDL)
            done = conn.execute(sa.text("SELECT 1 FROM gim_demo_journal WHERE run = :r"), {"r": run_no})
            if done.first() is not None:
                return
            seeded = conn.execute(sa.text("SELECT count(*) FROM cfg_person")).scalar_one()
            if not seeded:
                counts = seed_config(conn, SeedSpec(tenant, agents, 4, 6, seed=seed, at=at))
                self.say(f"{tenant}: seeded the Configuration DB ({counts.get('cfg_person', 0)} persons)")
            else:
                changes = mutate_config(conn, seed=seed * 1000 + run_no, changes=3, at=at)
                self.say(f"{tenant}: configuration changes: {'; '.join(changes)}")
            conn.execute(sa.text("INSERT INTO gim_demo_journal (run) VALUES (:r)"), {"r": run_no})

    def _produce(
        self, kafka: KafkaClients, names: TenantNames, records: list[Any], begin: dict[str, int]
    ) -> int:
        """Produce the window's records, minus those a killed demo already produced: what reached a
        single-partition topic of an idempotent producer is a prefix of what was sent to it."""
        already = {
            topic: count - begin[topic] for topic, count in _end_offsets(kafka, names.raw_topics).items()
        }
        topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
        remaining, skipped = [], dict.fromkeys(topics.values(), 0)
        for record in records:
            topic = topics[record.kind]
            if skipped[topic] < already[topic]:
                skipped[topic] += 1
            else:
                remaining.append(record)
        if sum(already.values()):
            self.say(f"{names.tenant}: {sum(already.values())} records of this window were produced before")
        produce(kafka.producer(), remaining, names)
        return len(records)

    def _pipeline(self, defs: Definitions, instance: DagsterInstance, tenant: str) -> dict[str, int]:
        """Materialize each stage through the instance; repeat the Kafka-driven ones until drained."""
        runs: dict[str, int] = {}
        for asset, stage, repeat, config in PIPELINE:
            assets_def = defs.resolve_assets_def(asset)
            for _ in range(MAX_ROUNDS if repeat else 1):
                self._step(tenant, f"{asset} (run {runs.get(asset, 0) + 1})")
                metadata = _materialize(assets_def, instance, tenant, stage, config, self.event_log)
                runs[asset] = runs.get(asset, 0) + 1
                if not repeat or metadata.get("drained", True):
                    break
            self._step(tenant, asset, done=True)
            self.say(f"{tenant}: {asset} ({runs[asset]} run{'s' if runs[asset] > 1 else ''})")
        return runs


def verify_exports(
    settings: Settings, tenant: str, infomart: sa.Engine, target_db: str
) -> tuple[int, bool, list[str]]:
    """Import every export folder of the tenant into ``target_db`` (dropped and created afresh) as a
    receiving side would, and compare it with the Info Mart table by table: (folders, verified, problems)."""
    exports = TenantStorage.of(settings).exports(tenant)
    server = str(resolve(settings.postgres.server_url))
    target_url = sa.make_url(server).set(database=target_db)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target_url.database}" WITH (FORCE)'))
    admin.dispose()
    target = sa.create_engine(ensure_database(target_url.render_as_string(hide_password=False)))
    try:
        with target.begin() as conn:
            conn.exec_driver_sql(target_schema_sql("postgresql"))
        with tempfile.TemporaryDirectory(prefix="gim-demo-import-") as scratch:
            source = open_source(exports.location, Path(scratch), exports.client)
            imported = import_exports(source, target, settings.tenant(tenant).export.encoding)
        problems = imported.day_rule + _compare_tables(infomart, target)
    finally:
        target.dispose()
    return len(imported.applied), not problems, problems


def _materialize(
    assets_def: AssetsDefinition,
    instance: DagsterInstance,
    tenant: str,
    stage: str,
    config: dict | None,
    event_log: Path,
) -> dict[str, Any]:
    """One run of the asset for the tenant; its event log goes to ``event_log``, only warnings and errors to
    the terminal (the UI shows every run in full)."""
    name = assets_def.key.to_user_string()
    run_config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if config:
        run_config["ops"] = {name: {"config": config}}
    try:
        result = materialize(
            [assets_def],
            instance=instance,
            partition_key=tenant,
            tags=run_tags(tenant, stage),
            run_config=run_config,
            raise_on_error=False,
        )
    finally:
        _append_event_log(instance, event_log)
    if not result.success:
        raise DemoError(f"{tenant}: the {name} run {result.run_id} failed; its events are in {event_log}")
    events = result.asset_materializations_for_node(name)
    return {k: v.value for k, v in events[0].metadata.items()} if events else {}


def _append_event_log(instance: DagsterInstance, event_log: Path) -> None:
    """Append the newest run's event log to ``event_log``, one line per event, as Dagster's console would."""
    runs = instance.get_runs(limit=1)
    if not runs:
        return
    run_id = runs[0].run_id
    lines = []
    for entry in instance.all_logs(run_id):
        when = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
        kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
        level = logging.getLevelName(entry.level)
        lines.append(f"{when} - {level} - {run_id} - {entry.step_key or '-'} - {kind} - {entry.message}\n")
    with event_log.open("a", encoding="utf-8") as out:
        out.writelines(lines)


def _record_reconciliation(instance: DagsterInstance, tenant: str, result: Reconciliation) -> None:
    """Show the reconciliation in the UI, as an observation of the tenant's Info Mart load partition."""
    observation = AssetObservation(
        asset_key=AssetKey("infomart_load"),
        partition=tenant,
        description="gim demo: Info Mart reconciled against the simulator's ground-truth ledger",
        metadata={
            "reconciliation_differences": result.differences,
            "reconciliation": MetadataValue.json(result.summary()),
        },
    )
    instance.report_runless_asset_event(observation)


def _compare_tables(infomart: sa.Engine, target: sa.Engine) -> list[str]:
    """Exported tables must hold the same rows in the target as in the Info Mart (by content hash)."""
    problems = []
    for table in EXPORTED_TABLES:
        columns = ", ".join(c.name for c in table.columns)
        sql = f"SELECT count(*), coalesce(sum(hashtext(row({columns})::text)::bigint), 0) FROM {table.name}"
        with infomart.connect() as a, target.connect() as b:
            mart, copy = a.execute(sa.text(sql)).one(), b.execute(sa.text(sql)).one()
        if tuple(mart) != tuple(copy):
            problems.append(
                f"{table.name}: Info Mart {mart[0]} rows, imported {copy[0]} rows (or contents differ)"
            )
    return problems


def _count_keys(kafka: KafkaClients, topic: str) -> int:
    consumer = kafka.consumer()
    try:
        return distinct_keys(consumer, topic)
    finally:
        consumer.close()


def _all_ledgers(directory: Path) -> dict[str, pa.Table]:
    ledgers = [Ledger.read(run) for run in sorted(directory.glob("run-*"))]
    return {name: pa.concat_tables([lg.tables[name] for lg in ledgers]) for name in TABLES}


def _after(ledger: Ledger) -> datetime:
    """Where the next window starts: past the last event of this one (agents finish work after the window
    closes) by more than GSP's allowed lateness, so its events are never taken for late ones."""
    ends = [
        max(ledger.tables[name].column(column).to_pylist() or [0])
        for name, column in (
            ("interactions", "end_s"),
            ("agent_sessions", "logout_s"),
            ("agent_states", "end_s"),
        )
    ]
    minute = (max(ends) + NEXT_WINDOW_GAP_S) // 60 * 60 + 60
    return datetime.fromtimestamp(minute, UTC)


def _first_start(hours: float, now: datetime | None = None) -> datetime:
    """Where the first window starts: so that it, and a few more after it (each run adds the next), end
    in the past, an hour before now at the latest; on a full hour."""
    now = now or datetime.now(UTC)
    lead = timedelta(hours=max(24.0, FIRST_WINDOWS * hours)) + WINDOW_SPILL
    return (now - lead).replace(minute=0, second=0, microsecond=0)


def _end_offsets(kafka: KafkaClients, topics: Iterable[str]) -> dict[str, int]:
    """How many records each (single-partition) topic holds, read to its end (the broker's watermark is not
    trusted, conventions.md)."""
    consumer = kafka.consumer()
    try:
        partitions = existing_partitions(consumer, topics)
        if any(p != 0 for _t, p in partitions):
            raise DemoError("the demo's raw topics must have one partition each")
        read = read_range(consumer, dict.fromkeys(partitions, 0), max_records=100_000_000)
        ends = {t: read.end[(t, p)] for t, p in partitions}
    finally:
        consumer.close()
    return {topic: ends.get(topic, 0) for topic in topics}
