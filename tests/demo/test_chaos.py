"""The CI-sized fault campaign (issue 19): `bench/chaos.py` with a fixed seed, two simulated hours of two
tenants, SIGKILLed stage runs, broker outages and hostile records; nothing may be lost or doubled.
The long campaign (a simulated day, 50+ faults) runs by hand: README, Benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_fault_campaign_loses_and_doubles_nothing() -> None:
    args = ["--seed", "3", "--hours", "2", "--calls-per-hour", "15", "--agents", "6", "--export-every", "2"]
    args += [
        "--kill-rate",
        "0.5",
        "--kill-window",
        "1.0",
        "--outage-rate",
        "0.2",
        "--hostile-rate",
        "1",
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.stdout, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert done.returncode == 0 and report["ok"], report
    assert (report["lost"], report["doubled"], report["different"]) == (0, 0, 0)
    assert report["hostile_produced"] >= 2 and report["hostile_dead_lettered"] == report["hostile_produced"]
    assert report["faults"].get("sigkill", 0) >= 1 and report["killed"] == report["faults"]["sigkill"]
    assert report["unexplained_dead_letters"] == 0 and report["exports_verified"]
