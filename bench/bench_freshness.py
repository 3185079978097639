"""Benchmark: freshness, from an interaction's last raw event reaching Kafka to its final Info Mart rows.

Reproduce (from the repository root; wall time about 1 + minutes + cooldown + 3 minutes; it stops every
process it starts):

    .venv/bin/python bench/bench_freshness.py [--minutes 9] [--agents 50] [--calls-per-hour 600] [--seed 1]

Everything that matters to freshness keeps the product's DEFAULTS (``docs/operations.md``, "Freshness"):
``dagster.sensor_interval_seconds`` (5), ``gsp_batch_max_records``, ``gsp_allowed_lateness_seconds`` (15) and
``gsp_idle_flush_seconds`` (600), the local instance's run queue (``gim_dagster/stack_dagster.yaml``), one
partition per raw topic (``gim.yaml``). ``bench/bench_tenants.py`` reuses this module for many tenants.

1. A fresh state directory and a settings file with one tenant, ``fresh`` (otherwise ``gim.yaml``);
   ``gim stack up --no-metrics``, ``gim simulate config --tenant fresh --agents N``, then
   ``gim dev --no-metrics`` (webserver, daemon, sensors, run queue) on a free loopback port; it waits for the
   GCA sensor's ``gca_snapshot`` run (GSP refuses raw events before the tenant's first snapshot).
2. Live traffic at wall-clock time: the simulator generates the centre's traffic (the Configuration DB's
   roster) for a window starting now, with steady staffing (every agent logged in, constant arrival rates)
   and no injected faults, and this script produces each record when its ``ts`` arrives, so ``ts`` is its
   real time. ``--minutes`` of measured traffic are followed by ``--cooldown-minutes`` of unmeasured traffic,
   so that every measured interaction sees steady state (its raw partition keeps moving past it); then
   production stops.
3. A poller reads the tenant's Info Mart once a second and notes when each interaction's INTERACTION_FACT row
   and all its INTERACTION_RESOURCE_FACT rows (one per agent in the simulator's ledger) are final
   (``active_flag = 0``), and when its IRFs carry all their after-call work.
4. Each delay is attributed from the Dagster instance (``gsp_microbatch`` and ``infomart_load`` runs, tags
   ``gim/tenant-stage``, and their event logs) and the facts topic: the GSP run that produced the
   interaction's last first-final fact record (by the record's timestamp) and the load run that loaded it
   (by the offset ranges in the load's materialization metadata).

Delay = when the poller first saw the final rows - delivery report of the interaction's last raw event. It is
split into consecutive segments (each starts where the previous one ended, so they add up to the delay):

* ``GSP lateness hold-back``: until the first record of the same raw partition with ``ts`` more than the
  allowed lateness past the interaction's last event was delivered; no micro-batch may release it before;
* ``wait for GSP sensor``: until the sensor created the GSP run that released it (also waiting for a GSP run
  already under way: the sensor requests none while one is queued or running);
* ``GSP run start``: queued, dequeued and launched, run worker process, step process;
* ``GSP micro-batch``: step start until the fact record was produced (checkpoint, read, process, produce);
* ``wait for load sensor``: until the load sensor created the run that loaded that record;
* ``load run start``: as for GSP;
* ``load``: step start until the poller saw the rows (migrate check, read, COPY/upsert, commit; <= 1 s poll).

"with ACW" measures from the later of the last interaction event and the agent event that ended its
after-call work (agent topic) to the IRFs carrying the ACW. ``--tail-minutes`` keeps the stack up that much
longer after traffic stops and reports whether the interactions that ended in the last allowed-lateness of
traffic (no later record moves their partition's frontier) ever arrive. ``--json FILE`` writes every figure.
``--set dagster.NAME=N`` (repeatable) measures a profile other than the defaults, e.g. the low-latency one:
``--set dagster.gsp_allowed_lateness_seconds=5``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
TENANT = "fresh"
console = Console(stderr=True)
out = Console() if Console().is_terminal else Console(width=130)


def log(msg: str) -> None:
    console.print(f"[dim]{datetime.now().strftime('%H:%M:%S')}[/dim] {msg}", highlight=False)


# ---- processes -----------------------------------------------------------------------------------------


def write_settings(
    path: Path, tenants: list[str] | None = None, dagster: dict[str, int] | None = None
) -> None:
    """gim.yaml with the tenants (default: ``fresh``) and the ``dagster`` settings given (the low-latency
    profile); every other field (and every default) as in the repository's file."""
    doc = yaml.safe_load((ROOT / "gim.yaml").read_text())
    doc["tenants"] = [{"name": name, "time_zone": "UTC"} for name in tenants or [TENANT]]
    if dagster:
        doc["dagster"] = {**(doc.get("dagster") or {}), **dagster}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def gim(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    argv = [sys.executable, "-m", "gim_dagster.cli", *args]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"gim {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return (result.stdout + result.stderr).strip()


def own_processes(state_dir: Path) -> list[psutil.Process]:
    """Processes started for this bench: their environment names its state directory."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get("GIM_STATE_DIR") == str(state_dir):
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def shutdown(dev: subprocess.Popen[bytes] | None, env: dict[str, str], state: Path) -> None:
    """Stop `gim dev` (its own process group), the stack, and anything left that carries our state dir."""
    if dev is not None and dev.poll() is None:
        log(f"stopping gim dev (SIGINT to process group {dev.pid})")
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(30)
    if (state / "stack.json").exists():
        try:
            log(gim(env, "stack", "down"))
        except Exception as exc:  # report it, then still look for leftovers
            log(f"gim stack down: {exc}")
    leftovers = own_processes(state)
    for proc in leftovers:
        log(f"leftover process {proc.pid} ({' '.join(proc.cmdline()[:4])}): terminating")
        proc.terminate()
    psutil.wait_procs(leftovers, timeout=20)


# ---- the Dagster instance ------------------------------------------------------------------------------


@dataclass
class RunTimes:
    run_id: str
    stage: str
    status: str
    created: float
    launched: float | None = None  # RUN_STARTING: dequeued by the run coordinator and launched
    started: float | None = None  # RUN_START: the run worker process runs
    step_start: float | None = None
    materialized: float | None = None
    ended: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def read_runs(instance: Any, stage: str, tenant: str = TENANT) -> list[RunTimes]:
    from dagster import DagsterEventType, RunsFilter

    wanted = {
        DagsterEventType.RUN_STARTING: "launched",
        DagsterEventType.RUN_START: "started",
        DagsterEventType.STEP_START: "step_start",
        DagsterEventType.ASSET_MATERIALIZATION: "materialized",
    }
    runs = []
    for rec in instance.get_run_records(RunsFilter(tags={"gim/tenant-stage": f"{tenant}:{stage}"})):
        run = rec.dagster_run
        times = RunTimes(run.run_id, stage, run.status.value, rec.create_timestamp.timestamp())
        times.ended = rec.end_time
        for entry in instance.all_logs(run.run_id, of_type=set(wanted)):
            event = entry.dagster_event
            if getattr(times, wanted[event.event_type]) is None:
                setattr(times, wanted[event.event_type], entry.timestamp)
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                meta = event.event_specific_data.materialization.metadata
                times.metadata = {k: getattr(v, "value", v) for k, v in meta.items()}
        runs.append(times)
    runs.sort(key=lambda r: r.created)
    return runs


def wait_for_gca(instance: Any, timeout: float, tenant: str = TENANT) -> RunTimes:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for run in read_runs(instance, "gca", tenant):
            if run.status == "SUCCESS":
                return run
            if run.status == "FAILURE":
                raise RuntimeError(f"gca_snapshot run {run.run_id} failed (see the Dagster UI / logs)")
        time.sleep(2)
    raise RuntimeError(f"no successful gca_snapshot run within {timeout:.0f} s")


def wait_idle(instance: Any, timeout: float, tenant: str = TENANT) -> None:
    """Until no run of the tenant is queued or in progress (so that the event logs read are complete)."""
    from dagster import RunsFilter

    from gim_dagster.tenant_runs import IN_FLIGHT

    deadline = time.time() + timeout
    while time.time() < deadline:
        if not instance.get_run_records(RunsFilter(statuses=IN_FLIGHT, tags={"gim/tenant": tenant}), limit=1):
            return
        time.sleep(2)


# ---- live traffic --------------------------------------------------------------------------------------


@dataclass
class Sent:
    kind: str
    key: str
    ts: int  # event time, ms
    acked: float = 0.0  # wall time of the delivery report, s


def produce_live(
    records: list[Any], kafka: dict[str, Any], topics: dict[str, str], cutoff_ms: int
) -> list[Sent]:
    """Produce each record when its ``ts`` arrives (no faults injected: the records are in ``ts`` order);
    ``kafka``: the settings' client properties (``kafka_clients.settings_config``)."""
    from confluent_kafka import Producer

    from gim_dagster.kafka_clients import producer_config

    producer = Producer(producer_config(kafka, **{"linger.ms": 5}))
    sent: list[Sent] = []
    errors: list[str] = []

    def report(item: Sent) -> Callable[[Any, Any], None]:
        def on_delivery(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            else:
                item.acked = time.time()

        return on_delivery

    next_note = time.time() + 60
    for rec in records:
        ts = json.loads(rec.value)["ts"]
        if ts > cutoff_ms:
            break
        while (wait := ts / 1000 - time.time()) > 0:
            producer.poll(min(wait, 0.05))
        item = Sent(rec.kind, rec.key.decode(), ts)
        producer.produce(topics[rec.kind], value=rec.value, key=rec.key, on_delivery=report(item))
        sent.append(item)
        producer.poll(0)
        if time.time() > next_note:
            next_note += 60
            log(f"produced {len(sent)} records, {len(errors)} delivery errors")
    producer.flush(30)
    if errors:
        raise RuntimeError(f"{len(errors)} deliveries failed: {errors[:3]}")
    return sent


# ---- the Info Mart poller ------------------------------------------------------------------------------


class Poller(threading.Thread):
    """Notes, once a second (``interval``), when each interaction's rows are final in the Info Mart."""

    IF_SQL = sa.text("SELECT media_server_ixn_guid FROM interaction_fact WHERE active_flag = 0")
    IRF_SQL = sa.text(
        "SELECT media_server_ixn_guid, count(*) FILTER (WHERE active_flag = 0), "
        "coalesce(sum(after_call_work_count), 0) FROM interaction_resource_fact GROUP BY 1"
    )

    def __init__(
        self,
        engine: sa.Engine,
        expected_irfs: dict[str, int],
        expected_acw: dict[str, int],
        interval: float = 1.0,
    ):
        super().__init__(daemon=True)
        self.engine, self.expected_irfs, self.expected_acw = engine, expected_irfs, expected_acw
        self.interval = interval
        self.if_final: dict[str, float] = {}
        self.irf_final: dict[str, float] = {}
        self.acw_done: dict[str, float] = {}
        self.stop = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.time()
            try:
                self.poll_once()
            except sa.exc.SQLAlchemyError as exc:
                if len(self.errors) < 5:
                    self.errors.append(str(exc).splitlines()[0])
            self.stop.wait(max(0.0, self.interval - (time.time() - began)))

    def poll_once(self) -> None:
        with self.engine.connect() as conn:
            finals = conn.execute(self.IF_SQL).scalars().all()
            irfs = conn.execute(self.IRF_SQL).all()
        now = time.time()
        for ixn in finals:
            self.if_final.setdefault(ixn, now)
        for ixn, final, acw in irfs:
            if final >= self.expected_irfs.get(ixn, 1 << 30):
                self.irf_final.setdefault(ixn, now)
            if acw >= self.expected_acw.get(ixn, 1 << 30):
                self.acw_done.setdefault(ixn, now)
        for ixn, n in self.expected_irfs.items():  # no agent (abandoned in queue): no IRF to wait for
            if n == 0:
                self.irf_final.setdefault(ixn, now)
                self.acw_done.setdefault(ixn, now)

    def visible(self, ixn: str) -> float | None:
        a, b = self.if_final.get(ixn), self.irf_final.get(ixn)
        return None if a is None or b is None else max(a, b)


# ---- the facts topic -----------------------------------------------------------------------------------


def final_fact_records(kafka: dict[str, Any], facts_topic: str) -> dict[str, tuple[int, int, float]]:
    """Per interaction: (partition, offset, timestamp s) of the last of its first final fact records (its
    INTERACTION_FACT and each IRF with active_flag 0): the record that completed it on the facts topic."""
    from confluent_kafka import Consumer

    from gim_dagster.core.kafka_io import existing_partitions, read_range
    from gim_dagster.kafka_clients import consumer_config

    consumer = Consumer(consumer_config(kafka, **{"group.id": "bench-freshness"}))
    try:
        read = read_range(consumer, dict.fromkeys(existing_partitions(consumer, [facts_topic]), 0), 10**7)
    finally:
        consumer.close()
    first_final: dict[tuple[str, int], tuple[str, int, int, float]] = {}
    for rec in read.records:
        doc = json.loads(rec.value)
        table, row = doc["table"], doc["row"]
        if table not in ("interaction_fact", "interaction_resource_fact") or row.get("active_flag") != 0:
            continue
        fact = (table, row["interaction_id" if table == "interaction_fact" else "interaction_resource_id"])
        if fact not in first_final:
            ixn = row["media_server_ixn_guid"]
            first_final[fact] = (ixn, rec.partition, rec.offset, rec.timestamp_ms / 1000)
    result: dict[str, tuple[int, int, float]] = {}
    for ixn, partition, offset, ts in first_final.values():
        if ixn not in result or offset > result[ixn][1]:
            result[ixn] = (partition, offset, ts)
    return result


# ---- attribution ---------------------------------------------------------------------------------------

SEGMENTS = (
    "GSP lateness hold-back",
    "wait for GSP sensor",
    "GSP run start",
    "GSP micro-batch",
    "wait for load sensor",
    "load run start",
    "load (+ poll <= 1 s)",
)


def releasing_ack(partition_records: list[Sent], ts_last: int, lateness_ms: int) -> float | None:
    """Delivery time of the first record of the partition whose ts moves its frontier past ``ts_last``
    (frontier = newest ts - lateness; pending events below it are applied). None: no such record."""
    for item in partition_records:
        if item.ts - lateness_ms > ts_last:
            return item.acked
    return None


def gsp_run_at(runs: list[RunTimes], t: float) -> RunTimes | None:
    for run in runs:
        if run.step_start is not None and run.step_start - 0.5 <= t <= (run.ended or float("inf")) + 0.5:
            return run
    return None


def load_run_of(runs: list[RunTimes], facts_topic: str, partition: int, offset: int) -> RunTimes | None:
    key = f"{facts_topic}[{partition}]"
    for run in runs:
        start = run.metadata.get("offsets_from", {}).get(key)
        end = run.metadata.get("offsets_to", {}).get(key)
        if start is not None and end is not None and start <= offset < end:
            return run
    return None


def split(t0: float, marks: list[float | None], seen: float) -> list[float]:
    """Consecutive segments from ``t0`` through each mark (clamped to be monotone) to ``seen``."""
    parts, at = [], t0
    for mark in [*marks, seen]:
        nxt = at if mark is None else min(max(at, mark), seen)
        parts.append(nxt - at)
        at = nxt
    return parts


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def fmean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


@dataclass
class Truth:
    """What the ledger says about one interaction that ended before the cut-off."""

    interaction: str
    media: str
    end_ms: int
    measured: bool
    irfs: int = 0
    acw: int = 0
    acw_end: tuple[str, int] | None = None  # (agent, ts) of the event that ended its last ACW


def ledger_truth(sim: Any, measure_end_ms: int, cutoff_ms: int) -> dict[str, Truth]:
    truth = {
        r["interaction_id"]: Truth(
            r["interaction_id"], r["media"], r["end_ms"], r["end_ms"] <= measure_end_ms
        )
        for r in sim.ledger.tables["interactions"].to_pylist()
        if r["end_ms"] is not None and r["end_ms"] <= cutoff_ms
    }
    for h in sim.ledger.tables["handlings"].to_pylist():
        if h["interaction_id"] in truth:
            truth[h["interaction_id"]].irfs += 1
            truth[h["interaction_id"]].acw += h["acw_count"] or 0
    for s in sim.ledger.tables["agent_states"].to_pylist():
        t = truth.get(s["interaction_id"]) if s["state"] == "ACW" else None
        if t is not None and (t.acw_end is None or s["end_ms"] > t.acw_end[1]):
            t.acw_end = (s["agent_id"], s["end_ms"])
    return truth


def analyse(
    truth: dict[str, Truth],
    sent: list[Sent],
    poller: Poller,
    gsp_runs: list[RunTimes],
    load_runs: list[RunTimes],
    facts: dict[str, tuple[int, int, float]],
    facts_topic: str,
    lateness_ms: int,
) -> dict[str, Any]:
    by_kind: dict[str, list[Sent]] = defaultdict(list)  # one partition per raw topic (gim.yaml)
    last: dict[tuple[str, str], Sent] = {}
    agent_at: dict[tuple[str, int], Sent] = {}
    for item in sent:
        by_kind[item.kind].append(item)
        last[(item.kind, item.key)] = item
        if item.kind == "agent":
            agent_at.setdefault((item.key, item.ts), item)
    rows = []
    for t in truth.values():
        final = last.get(("voice" if t.media == "voice" else "digital", t.interaction))
        if final is None or not final.acked:
            continue
        seen = poller.visible(t.interaction)
        release = releasing_ack(by_kind["voice" if t.media == "voice" else "digital"], final.ts, lateness_ms)
        row: dict[str, Any] = {
            "interaction": t.interaction,
            "media": t.media,
            "measured": t.measured,
            "last_event_ts_ms": final.ts,
            "last_event_acked": final.acked,
            "releasable": release,
            "visible": seen,
            "delay_s": None if seen is None else seen - final.acked,
        }
        acw_end = agent_at.get(t.acw_end) if t.acw_end else None
        acw_seen = poller.acw_done.get(t.interaction)
        if seen is not None and acw_seen is not None and (t.acw_end is None or acw_end is not None):
            since = max(final.acked, acw_end.acked if acw_end else 0.0)
            row["with_acw_s"] = max(acw_seen, seen) - since
        if seen is not None:
            fact = facts.get(t.interaction)
            gsp = gsp_run_at(gsp_runs, fact[2]) if fact else None
            load = load_run_of(load_runs, facts_topic, fact[0], fact[1]) if fact else None
            marks = [
                release,
                gsp.created if gsp else None,
                gsp.step_start if gsp else None,
                fact[2] if fact else None,
                load.created if load else None,
                load.step_start if load else None,
            ]
            row["segments_s"] = dict(zip(SEGMENTS, split(final.acked, marks, seen), strict=True))
            row["gsp_run"], row["load_run"] = (gsp.run_id if gsp else None), (load.run_id if load else None)
        rows.append(row)
    return {"rows": rows}


def run_stats(runs: list[RunTimes], since: float, until: float) -> dict[str, float]:
    rs = [r for r in runs if since <= r.created <= until and r.ended]

    def mean(pairs: list[tuple[float | None, float | None]]) -> float:
        return fmean([b - a for a, b in pairs if a is not None and b is not None])

    created = [r.created for r in rs]
    return {
        "runs": len(rs),
        "failed": sum(r.status != "SUCCESS" for r in rs),
        "gap": fmean([b - a for a, b in itertools.pairwise(created)]),
        "queued": mean([(r.created, r.launched) for r in rs]),
        "worker": mean([(r.launched, r.started) for r in rs]),
        "step_launch": mean([(r.started, r.step_start) for r in rs]),
        "step": mean([(r.step_start, r.materialized) for r in rs]),
        "tail": mean([(r.materialized, r.ended) for r in rs]),
        "total": mean([(r.created, r.ended) for r in rs]),
    }


def print_report(
    rows: list[dict[str, Any]],
    stats: dict[str, dict[str, float]],
    gsp_runs: list[RunTimes],
    args: argparse.Namespace,
    lateness_ms: int,
) -> None:
    measured = [r for r in rows if r["measured"]]
    done = [r for r in measured if r["delay_s"] is not None]
    delays = [r["delay_s"] for r in done]
    acw = [r["with_acw_s"] for r in done if r.get("with_acw_s") is not None]
    p95 = pct(delays, 0.95)

    head = Table(
        title=f"Freshness with {settings_label(args)}: {len(done)} interactions ended in "
        f"{args.minutes:g} min of live traffic ({args.agents} agents)"
    )
    for col in ("", "n", "p50 s", "p95 s", "max s", "mean s"):
        head.add_column(col, justify="right" if col else "left")
    for label, values in (
        ("last event acked -> IF + all IRF final (active_flag 0)", delays),
        ("... IRFs with after-call work (from the ACW-ending agent event)", acw),
    ):
        head.add_row(
            label,
            str(len(values)),
            *(
                f"{v:.1f}"
                for v in (
                    pct(values, 0.5),
                    pct(values, 0.95),
                    max(values, default=float("nan")),
                    fmean(values),
                )
            ),
        )
    head.caption = (
        f"target p95 <= 60 s: {'MET' if p95 <= 60 else 'NOT MET'} (p95 {p95:.1f} s); "
        f"{len(measured) - len(done)} measured interactions not final "
        f"{args.wait_minutes:g} min after traffic stopped"
    )
    out.print(head)

    total = fmean(delays)
    seg = Table(title="Where the time goes (consecutive segments per interaction; they add up to the delay)")
    for col in ("segment", "p50 s", "p95 s", "max s", "mean s", "share"):
        seg.add_column(col, justify="left" if col == "segment" else "right")
    for name in SEGMENTS:
        values = [r["segments_s"][name] for r in done]
        seg.add_row(
            name,
            f"{pct(values, 0.5):.1f}",
            f"{pct(values, 0.95):.1f}",
            f"{max(values, default=0):.1f}",
            f"{fmean(values):.1f}",
            f"{fmean(values) / total:.0%}",
        )
    out.print(seg)

    runs = Table(title="Dagster runs while traffic flowed (means, s)")
    cols = {
        "runs": "runs",
        "gap": "every",
        "queued": "created->launched",
        "worker": "->run worker",
        "step_launch": "->step start",
        "step": "step",
        "tail": "->run end",
        "total": "created->end",
    }
    runs.add_column("stage")
    for label in cols.values():
        runs.add_column(label, justify="right")
    for stage, s in stats.items():
        runs.add_row(
            stage + (f" ({s['failed']:.0f} failed)" if s["failed"] else ""),
            f"{s['runs']:.0f}",
            *(f"{s[k]:.1f}" for k in list(cols)[1:]),
        )
    out.print(runs)
    timings: dict[str, list[float]] = defaultdict(list)
    for r in gsp_runs:
        for k, v in (r.metadata.get("timings_s") or {}).items():
            timings[k].append(v)
        timings["records"].append(r.metadata.get("records", 0))
    if gsp_runs:
        parts = ", ".join(f"{k} {fmean(v):.2f} s" for k, v in timings.items() if k != "records")
        parts = parts.replace("read ", "read (incl. checkpoint load) ")
        out.print(
            f"GSP step timings_s (mean over {len(gsp_runs)} runs): {parts}; "
            f"{fmean(timings['records']):.0f} raw records per micro-batch"
        )

    tail = [r for r in rows if not r["measured"]]
    stuck = [r for r in tail if r["releasable"] is None]
    if tail:
        out.print(
            f"Cooldown interactions (not measured): {len(tail)}, "
            f"{sum(r['visible'] is not None for r in tail)} final at exit. Of the {len(stuck)} whose last "
            f"event was within the allowed lateness "
            f"({lateness_ms / 1000:.0f} s) of their partition's last record (only an idle flush can release "
            f"them), {sum(r['visible'] is not None for r in stuck)} were final "
            f"{args.wait_minutes + args.tail_minutes:g} min after traffic stopped."
        )


def add_setting_option(parser: argparse.ArgumentParser) -> None:
    def setting(text: str) -> tuple[str, int]:
        name, _, value = text.partition("=")
        return name.removeprefix("dagster."), int(value)

    parser.add_argument(
        "--set",
        type=setting,
        action="append",
        default=[],
        metavar="dagster.NAME=N",
        help="a dagster setting other than its default (repeatable), "
        "e.g. dagster.gsp_allowed_lateness_seconds=5",
    )


def settings_label(args: argparse.Namespace) -> str:
    return "default settings" if not args.set else ", ".join(f"dagster.{k}={v}" for k, v in args.set)


# ---- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=9, help="measured live traffic (default 9)")
    parser.add_argument("--cooldown-minutes", type=float, default=3, help="unmeasured traffic after it (3)")
    parser.add_argument("--wait-minutes", type=float, default=3, help="then wait at most this for rows (3)")
    parser.add_argument("--tail-minutes", type=float, default=0, help="then watch the held-back tail (0)")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--calls-per-hour", type=float, default=600)
    parser.add_argument("--chats-per-hour", type=float, default=40)
    parser.add_argument("--emails-per-hour", type=float, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, pgdata)")
    add_setting_option(parser)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="gim-freshness-"))
    state, settings_file = tmp / "state", tmp / "gim.yaml"
    write_settings(settings_file, dagster=dict(args.set))
    env = {**os.environ, "GIM_STATE_DIR": str(state), "GIM_SETTINGS": str(settings_file)}
    env.pop("DAGSTER_HOME", None)
    dev: subprocess.Popen[bytes] | None = None
    poller: Poller | None = None
    try:
        log(f"state directory {state}, settings {settings_file}")
        gim(env, "stack", "up", "--no-metrics")
        from dotenv import dotenv_values

        stack_env = {k: v for k, v in dotenv_values(state / "stack.env").items() if v is not None}
        env.update(stack_env)
        os.environ.update({k: env[k] for k in (*stack_env, "GIM_STATE_DIR", "GIM_SETTINGS")})
        log(
            gim(
                env,
                "simulate",
                "config",
                "--tenant",
                TENANT,
                "--agents",
                str(args.agents),
                "--seed",
                str(args.seed),
            )
        )
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

        from confluent_kafka.admin import AdminClient
        from dagster import DagsterInstance

        from gim_dagster.core.naming import TenantNames
        from gim_dagster.core.sim import TrafficParams, simulate
        from gim_dagster.core.sim.configdb_roster import load_roster
        from gim_dagster.kafka_clients import ensure_topics, settings_config
        from gim_dagster.settings import load_settings

        settings = load_settings(settings_file)
        lateness_ms = settings.dagster.gsp_allowed_lateness_seconds * 1000
        tenant, names = settings.tenant(TENANT), TenantNames(TENANT)
        kafka = settings_config(settings.kafka)
        instance = DagsterInstance.get()
        began = time.time()
        gca = wait_for_gca(instance, 300)
        log(
            f"gca_snapshot run (created by the sensor {gca.created - began:.0f} s after gim dev started) "
            f"took {gca.ended - gca.created:.1f} s"
        )

        roster = load_roster(sa.create_engine(tenant.configdb_dsn()))
        params = TrafficParams(
            tenant=TENANT,
            start=datetime.fromtimestamp(int(time.time()) + 3, UTC),
            hours=(args.minutes + args.cooldown_minutes + 2) / 60,  # arrivals go on past the cut-off
            calls_per_hour=args.calls_per_hour,
            chats_per_hour=args.chats_per_hour,
            emails_per_hour=args.emails_per_hour,
            seed=args.seed,
            daily_shape=False,
            shifts="window",
        )
        sim = simulate(roster, params)
        measure_end_ms = params.start_ms + round(args.minutes * 60_000)
        cutoff_ms = measure_end_ms + round(args.cooldown_minutes * 60_000)
        truth = ledger_truth(sim, measure_end_ms, cutoff_ms)
        ensure_topics(
            AdminClient(kafka),
            list(names.raw_topics),
            settings.kafka.topic_partitions,
        )
        poller = Poller(
            sa.create_engine(tenant.infomart_dsn(), pool_size=1),
            {t.interaction: t.irfs for t in truth.values()},
            {t.interaction: t.acw for t in truth.values()},
        )
        poller.start()
        log(
            f"live traffic from {params.start:%H:%M:%S} UTC: {sum(t.measured for t in truth.values())} "
            f"interactions end in the measured {args.minutes:g} min, then {args.cooldown_minutes:g} min more "
            f"({len(roster.agents)} agents, {args.calls_per_hour:g} calls/h, "
            f"{args.chats_per_hour:g} chats/h, {args.emails_per_hour:g} emails/h)"
        )
        topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
        traffic_began = time.time()
        sent = produce_live(sim.records, kafka, topics, cutoff_ms)
        traffic_end = time.time()
        log(f"traffic stopped: {len(sent)} records; waiting up to {args.wait_minutes:g} min for the rows")
        measured = [t.interaction for t in truth.values() if t.measured]
        deadline = traffic_end + args.wait_minutes * 60
        while time.time() < deadline and any(poller.visible(i) is None for i in measured):
            time.sleep(2)
        if args.tail_minutes:
            log(f"watching the tail for {args.tail_minutes:g} min more")
            deadline = traffic_end + (args.wait_minutes + args.tail_minutes) * 60
            while time.time() < deadline and any(poller.visible(i) is None for i in truth):
                time.sleep(5)
        time.sleep(2)
        poller.stop.set()
        poller.join(5)
        wait_idle(instance, 120)

        gsp_runs, load_runs = read_runs(instance, "gsp"), read_runs(instance, "load")
        facts = final_fact_records(kafka, names.facts_topic)
        rows = analyse(truth, sent, poller, gsp_runs, load_runs, facts, names.facts_topic, lateness_ms)[
            "rows"
        ]
        stats = {
            s: run_stats(r, traffic_began - 1, traffic_end)
            for s, r in (("gsp", gsp_runs), ("load", load_runs))
        }
        print_report(rows, stats, gsp_runs, args, lateness_ms)
        if poller.errors:
            log(f"poller errors (first ones): {poller.errors}")
        if args.json:
            report = {
                "args": {k: str(v) for k, v in vars(args).items()},
                "lateness_ms": lateness_ms,
                "traffic": [traffic_began, traffic_end],
                "interactions": rows,
                "run_stats": stats,
                "gsp_runs": [asdict(r) for r in gsp_runs],
                "load_runs": [asdict(r) for r in load_runs],
            }
            args.json.write_text(json.dumps(report, indent=1, default=str))
            log(f"wrote {args.json}")
        return 0
    finally:
        if poller is not None:
            poller.stop.set()
        shutdown(dev, env, state)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
