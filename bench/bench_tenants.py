"""Benchmark: many tenants of trickle traffic through `gim dev`: freshness, runs per hour, CPU, idle cost.

Reproduce (from the repository root; wall time about 3 + minutes + cooldown + wait + idle minutes, more for
many tenants; it stops every process it starts):

    .venv/bin/python bench/bench_tenants.py --tenants 10 [--minutes 4] [--idle-minutes 2] [--agents 10]
    .venv/bin/python bench/bench_tenants.py --tenants 20

It is ``bench/bench_freshness.py`` (whose helpers it imports) for ``--tenants`` tenants ``t01`` … at once,
every setting at its DEFAULT, one partition per raw topic:

1. A fresh state directory and settings file; ``gim stack up --no-metrics``; ``gim simulate config`` for each
   tenant (``--agents``); ``gim dev --no-metrics``; it waits for every tenant's first ``gca_snapshot`` run
   (requested by the GCA sensor).
2. Trickle traffic at wall-clock time for every tenant (steady staffing, ``--calls-per-hour`` … each, no
   faults): ``--minutes`` measured, then ``--cooldown-minutes`` unmeasured; a poller per tenant reads its Info
   Mart every ``--poll-seconds`` and notes when each interaction's rows are final.
3. After traffic stops it waits (``--wait-minutes`` at most) for the measured interactions, then (at most
   ``--drain-minutes``) until no run has been under way or created for three sensor intervals, then lets
   the daemon sit ``--idle-minutes`` with nothing arriving: every sensor keeps evaluating
   every tenant, and no run may be launched (GSP's idle flush of the held-back tail is due only
   ``dagster.gsp_idle_flush_seconds``, 600 s, after the last record; the idle window ends before that).

Printed: freshness (last raw event acked -> the interaction's IF and IRFs final) p50 / p95 / max over all
tenants and the worst tenant's p95; runs created per hour by stage while traffic flowed (and their mean
created -> end); CPU seconds per minute of the Dagster processes (daemon, webserver, code server, run
workers) and of the stack's services (PostgreSQL with the pollers' queries, Kafka, S3), during traffic and
idle; the runs created during the idle window (must be 0). CPU is read with psutil from the process trees of
`gim dev` and of the stack (a process's own time plus what its reaped children used: a finished run worker
counts under "runs"). ``--json FILE`` writes every figure.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_freshness as bf  # the sibling bench: processes, traffic, poller, statistics

ROOT = bf.ROOT
log, out, pct, fmean = bf.log, bf.out, bf.pct, bf.fmean


# ---- CPU of process trees ------------------------------------------------------------------------------


def role_of(cmdline: list[str]) -> str:
    line = " ".join(cmdline)
    if any(w in line for w in ("execute_run", "execute_step", "spawn_main", "resource_tracker")):
        return "runs"  # the code server starts each run worker as a multiprocessing child
    if "dagster._daemon" in line or "dagster-daemon" in line:
        return "daemon"
    if "dagster_webserver" in line or "dagster-webserver" in line:
        return "webserver"
    if "code-server" in line or "api grpc" in line:
        return "code server"
    if "postgres" in line:
        return "postgres"
    if "tansu" in line:
        return "kafka"
    if "moto" in line:
        return "s3"
    return "gim/dagster dev"


REAPED_ROLE = {"code server": "runs"}
"""Whose CPU a process's reaped children used: the code server launches the run workers."""
DAGSTER_ROLES = ("daemon", "webserver", "code server", "runs", "gim/dagster dev")
SERVICE_ROLES = ("postgres", "kafka", "s3")


class CpuMeter(threading.Thread):
    """Samples, once a second, the CPU seconds used so far by each role in the trees under ``roots``."""

    def __init__(self, roots: list[psutil.Process]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.per_pid: dict[tuple[int, float], tuple[str, float, float]] = {}  # -> (role, own, reaped)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def sample(self) -> None:
        for root in self.roots:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc in procs:
                try:
                    with proc.oneshot():
                        t = proc.cpu_times()
                        key = (proc.pid, proc.create_time())
                        role = self.per_pid[key][0] if key in self.per_pid else role_of(proc.cmdline())
                except psutil.Error:
                    continue
                with self.lock:
                    self.per_pid[key] = (role, t.user + t.system, t.children_user + t.children_system)

    def totals(self) -> dict[str, float]:
        """CPU seconds per role so far (processes that ended count with their last sample)."""
        self.sample()
        result: Counter[str] = Counter()
        with self.lock:
            for role, own, reaped in self.per_pid.values():
                result[role] += own
                result[REAPED_ROLE.get(role, role)] += reaped
        return dict(result)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.sample()


def per_minute(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    return {
        r: (after.get(r, 0.0) - before.get(r, 0.0)) * 60 / seconds for r in (*DAGSTER_ROLES, *SERVICE_ROLES)
    }


# ---- runs ------------------------------------------------------------------------------------------------


def runs_between(instance: Any, since: float, until: float) -> list[Any]:
    """Run records of every tenant created in [since, until] (wall time, s)."""
    from dagster import RunsFilter

    records = instance.get_run_records(RunsFilter(created_after=datetime.fromtimestamp(since, UTC)))
    return [r for r in records if r.create_timestamp.timestamp() <= until]


def busy(instance: Any) -> bool:
    from dagster import RunsFilter

    from gim_dagster.tenant_runs import IN_FLIGHT

    return bool(instance.get_run_records(RunsFilter(statuses=IN_FLIGHT), limit=1))


@dataclass
class Trickle:
    kind: str  # "<tenant>|voice" etc.: one raw partition each (bench_freshness.produce_live groups by it)
    key: bytes
    value: bytes
    ts: int


def unexplained_idle_runs(runs: list[Any]) -> list[Any]:
    """The idle window's runs that nothing explains. Explained: a GSP run the sensor requested as an idle
    flush (tag ``gim/gsp-trigger``: a raw partition silent for ``dagster.gsp_idle_flush_seconds`` still
    held back events, which only such a run applies; a trickle tenant's quiet digital partition gets there
    while traffic still flows elsewhere) and that tenant's load and aggregates runs after it."""
    flushed = {
        r.dagster_run.tags.get("gim/tenant")
        for r in runs
        if r.dagster_run.tags.get("gim/stage") == "gsp"
        and r.dagster_run.tags.get("gim/gsp-trigger") == "idle-flush"
    }
    return [
        r
        for r in runs
        if r.dagster_run.tags.get("gim/tenant") not in flushed
        or (
            r.dagster_run.tags.get("gim/stage") == "gsp"
            and r.dagster_run.tags.get("gim/gsp-trigger") != "idle-flush"
        )
    ]


# ---- main ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=4, help="measured live traffic (default 4)")
    parser.add_argument("--cooldown-minutes", type=float, default=1, help="unmeasured traffic after it (1)")
    parser.add_argument("--wait-minutes", type=float, default=3, help="then wait at most this for rows (3)")
    parser.add_argument(
        "--drain-minutes", type=float, default=4, help="then wait at most this for the runs to end (4)"
    )
    parser.add_argument("--idle-minutes", type=float, default=2, help="then nothing arrives this long (2)")
    parser.add_argument("--agents", type=int, default=10, help="per tenant (10)")
    parser.add_argument("--calls-per-hour", type=float, default=60, help="per tenant (60)")
    parser.add_argument("--chats-per-hour", type=float, default=10, help="per tenant (10)")
    parser.add_argument("--emails-per-hour", type=float, default=5, help="per tenant (5)")
    parser.add_argument("--poll-seconds", type=float, default=2, help="Info Mart poll per tenant (2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, pgdata)")
    bf.add_setting_option(parser)
    args = parser.parse_args(argv)
    tenants = [f"t{i:02d}" for i in range(1, args.tenants + 1)]

    tmp = Path(tempfile.mkdtemp(prefix="gim-tenants-"))
    state, settings_file = tmp / "state", tmp / "gim.yaml"
    bf.write_settings(settings_file, tenants, dict(args.set))
    env = {**os.environ, "GIM_STATE_DIR": str(state), "GIM_SETTINGS": str(settings_file)}
    env.pop("DAGSTER_HOME", None)
    dev: subprocess.Popen[bytes] | None = None
    pollers: dict[str, bf.Poller] = {}
    meter: CpuMeter | None = None
    try:
        log(f"{len(tenants)} tenants; state directory {state}, settings {settings_file}")
        bf.gim(env, "stack", "up", "--no-metrics")
        from dotenv import dotenv_values

        stack_env = {k: v for k, v in dotenv_values(state / "stack.env").items() if v is not None}
        env.update(stack_env)
        os.environ.update({k: env[k] for k in (*stack_env, "GIM_STATE_DIR", "GIM_SETTINGS")})
        with ThreadPoolExecutor(2) as pool:
            list(
                pool.map(
                    lambda t: bf.gim(
                        env,
                        "simulate",
                        "config",
                        "--tenant",
                        t,
                        "--agents",
                        str(args.agents),
                        "--seed",
                        str(args.seed),
                    ),
                    tenants,
                )
            )
        log(f"seeded {len(tenants)} Configuration DBs ({args.agents} agents each)")
        from gim_dagster.stack import free_port

        port = free_port()
        with (tmp / "gim-dev.log").open("wb") as dev_log:
            dev = subprocess.Popen(
                [sys.executable, "-m", "gim_dagster.cli", "dev", "--port", str(port), "--no-metrics"],
                env=env,
                cwd=ROOT,
                stdout=dev_log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        log(f"gim dev (pid {dev.pid}) at http://127.0.0.1:{port}, log {tmp / 'gim-dev.log'}")
        services = [
            p for p in bf.own_processes(state) if role_of(p.cmdline()) in SERVICE_ROLES and p.ppid() != 0
        ]
        service_pids = {p.pid for p in services}
        roots = [psutil.Process(dev.pid)]
        roots += [p for p in services if p.ppid() not in service_pids]  # the postmaster, not its backends
        meter = CpuMeter(roots)
        meter.start()

        from confluent_kafka.admin import AdminClient
        from dagster import DagsterInstance

        from gim_dagster.core.naming import TenantNames
        from gim_dagster.core.sim import TrafficParams, simulate
        from gim_dagster.core.sim.configdb_roster import load_roster
        from gim_dagster.kafka_clients import ensure_topics, settings_config
        from gim_dagster.settings import load_settings

        settings = load_settings(settings_file)
        kafka = settings_config(settings.kafka)
        instance = DagsterInstance.get()
        began = time.time()
        for t in tenants:
            bf.wait_for_gca(instance, 600, t)
        log(f"every tenant's first gca_snapshot run done {time.time() - began:.0f} s after gim dev started")
        while busy(instance):
            time.sleep(2)

        start = datetime.fromtimestamp(int(time.time()) + 5, UTC)
        hours = (args.minutes + args.cooldown_minutes + 2) / 60
        start_ms = int(start.timestamp() * 1000)
        measure_end_ms = start_ms + round(args.minutes * 60_000)
        cutoff_ms = measure_end_ms + round(args.cooldown_minutes * 60_000)
        streams, truths, topics = [], {}, {}
        admin = AdminClient(kafka)
        for n, t in enumerate(tenants):
            tenant, names = settings.tenant(t), TenantNames(t)
            params = TrafficParams(
                tenant=t,
                start=start,
                hours=hours,
                calls_per_hour=args.calls_per_hour,
                chats_per_hour=args.chats_per_hour,
                emails_per_hour=args.emails_per_hour,
                seed=args.seed * 1000 + n,
                daily_shape=False,
                shifts="window",
            )
            sim = simulate(load_roster(sa.create_engine(tenant.configdb_dsn())), params)
            truths[t] = bf.ledger_truth(sim, measure_end_ms, cutoff_ms)
            kinds = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
            topics.update({f"{t}|{k}": topic for k, topic in kinds.items()})
            streams.append(
                [Trickle(f"{t}|{r.kind}", r.key, r.value, json.loads(r.value)["ts"]) for r in sim.records]
            )
            ensure_topics(admin, list(names.raw_topics), settings.kafka.topic_partitions)
            truth = truths[t]
            pollers[t] = bf.Poller(
                sa.create_engine(tenant.infomart_dsn(), pool_size=1),
                {x.interaction: x.irfs for x in truth.values()},
                {x.interaction: x.acw for x in truth.values()},
                interval=args.poll_seconds,
            )
            pollers[t].start()
        records = list(heapq.merge(*streams, key=lambda r: r.ts))
        measured_total = sum(x.measured for truth in truths.values() for x in truth.values())
        log(
            f"live traffic from {start:%H:%M:%S} UTC for {len(tenants)} tenants: {measured_total} "
            f"interactions end in the measured {args.minutes:g} min, then {args.cooldown_minutes:g} min more"
        )
        traffic_began = time.time()
        cpu0 = meter.totals()
        sent = bf.produce_live(records, kafka, topics, cutoff_ms)
        traffic_end = time.time()
        cpu1 = meter.totals()
        log(f"traffic stopped: {len(sent)} records; waiting up to {args.wait_minutes:g} min for the rows")

        def missing() -> int:
            return sum(
                pollers[t].visible(x.interaction) is None
                for t, truth in truths.items()
                for x in truth.values()
                if x.measured
            )

        deadline = traffic_end + args.wait_minutes * 60
        while time.time() < deadline and (missing() or busy(instance)):
            time.sleep(2)
        for p in pollers.values():
            p.stop.set()
        # The backlog must be worked off before the idle window: quiet = no run busy or created for three
        # sensor intervals (the last sensor ticks see the last GSP and load runs' results).
        quiet_s = 3 * max(settings.dagster.sensor_interval_seconds, 5)
        drain_deadline = time.time() + args.drain_minutes * 60
        while time.time() < drain_deadline:
            if not busy(instance) and not runs_between(instance, time.time() - quiet_s, time.time()):
                break
            time.sleep(2)
        backlog = busy(instance)
        if backlog:
            log(f"WARNING: runs still under way {args.drain_minutes:g} min after the rows: not idle")
        idle_began = time.time()
        idle_cpu0 = meter.totals()
        log(f"idle: nothing arrives for {args.idle_minutes:g} min")
        time.sleep(args.idle_minutes * 60)
        idle_end = time.time()
        idle_cpu1 = meter.totals()
        flush_due = traffic_end + settings.dagster.gsp_idle_flush_seconds
        idle_runs = runs_between(instance, idle_began, idle_end)

        # ---- figures ----
        last: dict[tuple[str, str], bf.Sent] = {}
        for item in sent:
            last[(item.kind, item.key)] = item
        delays: dict[str, list[float]] = defaultdict(list)
        not_final = 0
        for t, truth in truths.items():
            for x in truth.values():
                if not x.measured:
                    continue
                final = last.get((f"{t}|{'voice' if x.media == 'voice' else 'digital'}", x.interaction))
                seen = pollers[t].visible(x.interaction)
                if final is None or not final.acked:
                    continue
                if seen is None:
                    not_final += 1
                else:
                    delays[t].append(seen - final.acked)
        every = [d for ds in delays.values() for d in ds]
        traffic_runs = runs_between(instance, traffic_began, traffic_end)
        hours_flowed = (traffic_end - traffic_began) / 3600
        by_stage: dict[str, list[Any]] = defaultdict(list)
        for r in traffic_runs:
            by_stage[r.dagster_run.tags.get("gim/stage", "?")].append(r)
        busy_cpu = per_minute(cpu0, cpu1, traffic_end - traffic_began)
        idle_cpu = per_minute(idle_cpu0, idle_cpu1, idle_end - idle_began)

        head = Table(
            title=f"{len(tenants)} tenants of trickle traffic ({args.agents} agents, {args.calls_per_hour:g} "
            f"calls/h, {args.chats_per_hour:g} chats/h, {args.emails_per_hour:g} emails/h each), "
            f"{args.minutes:g} min measured, {bf.settings_label(args)}"
        )
        for col in ("", "n", "p50 s", "p95 s", "max s", "worst tenant p95 s"):
            head.add_column(col, justify="right" if col else "left")
        worst = max((pct(ds, 0.95) for ds in delays.values() if ds), default=float("nan"))
        head.add_row(
            "last event acked -> IF + all IRF final",
            str(len(every)),
            *(
                f"{v:.1f}"
                for v in (pct(every, 0.5), pct(every, 0.95), max(every, default=float("nan")), worst)
            ),
        )
        head.caption = f"{not_final} measured interactions not final {args.wait_minutes:g} min after traffic"
        out.print(head)

        runs = Table(title="Runs created while traffic flowed")
        for col in ("stage", "runs", "per hour", "per tenant-hour", "failed", "mean created->end s"):
            runs.add_column(col, justify="left" if col == "stage" else "right")
        for stage, rs in sorted(by_stage.items()):
            ended = [r for r in rs if r.end_time]
            runs.add_row(
                stage,
                str(len(rs)),
                f"{len(rs) / hours_flowed:.0f}",
                f"{len(rs) / hours_flowed / len(tenants):.0f}",
                str(sum(r.dagster_run.status.value == "FAILURE" for r in rs)),
                f"{fmean([r.end_time - r.create_timestamp.timestamp() for r in ended]):.1f}",
            )
        out.print(runs)

        cpu = Table(title="CPU seconds per minute (2 cores = 120 at most)")
        cpu.add_column("window")
        for role in (*DAGSTER_ROLES, "Dagster total", *SERVICE_ROLES):
            cpu.add_column(role, justify="right")
        for label, figures in (("traffic", busy_cpu), ("idle", idle_cpu)):
            cpu.add_row(
                label,
                *(f"{figures[r]:.1f}" for r in DAGSTER_ROLES),
                f"{sum(figures[r] for r in DAGSTER_ROLES):.1f}",
                *(f"{figures[r]:.1f}" for r in SERVICE_ROLES),
            )
        out.print(cpu)
        unexplained = unexplained_idle_runs(idle_runs)
        verdict = "OK" if not unexplained else "NOT OK"
        out.print(
            f"Runs created during the {(idle_end - idle_began) / 60:.1f} min idle window: {len(idle_runs)}, "
            f"{len(idle_runs) - len(unexplained)} of them idle flushes of the traffic's held-back tail and "
            f"the loads and aggregates after them, {len(unexplained)} unexplained "
            f"({verdict}: sensors must launch nothing while nothing arrives"
            + ("; WARNING: the window began with runs under way" if backlog else "")
            + ("" if idle_end < flush_due else "; WARNING: the window reached the idle-flush time")
            + ")"
        )
        poll_errors = {t: p.errors for t, p in pollers.items() if p.errors}
        if poll_errors:
            log(f"poller errors (first ones; before the first load the tables do not exist): {poll_errors}")
        if args.json:
            report = {
                "args": {k: str(v) for k, v in vars(args).items()},
                "delays_s": delays,
                "not_final": not_final,
                "runs_per_hour": {s: len(rs) / hours_flowed for s, rs in by_stage.items()},
                "cpu_per_minute": {"traffic": busy_cpu, "idle": idle_cpu},
                "idle_runs": [
                    {
                        "run_id": r.dagster_run.run_id,
                        "job": r.dagster_run.job_name,
                        "tags": r.dagster_run.tags,
                    }
                    for r in idle_runs
                ],
                "idle_runs_unexplained": len(unexplained),
                "idle_began_with_backlog": backlog,
                "windows": {"traffic": [traffic_began, traffic_end], "idle": [idle_began, idle_end]},
            }
            args.json.write_text(json.dumps(report, indent=1, default=str))
            log(f"wrote {args.json}")
        return 0 if not unexplained else 1
    finally:
        for p in pollers.values():
            p.stop.set()
        if meter is not None:
            meter.stop.set()
        bf.shutdown(dev, env, state)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
