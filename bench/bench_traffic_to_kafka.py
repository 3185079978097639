"""Benchmark: `gim simulate traffic` for one simulated day of a 50-agent centre into the local broker.

Reproduce (starts a throw-away local stack, runs the real command with its progress bar, prints the rate):

    .venv/bin/python bench/bench_traffic_to_kafka.py [--hours 24] [--calls-per-hour 417]

The command prints the records/s it reached producing to Kafka; this script adds the wall time of the whole
command (simulation + produce) and the records/s over it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gim_dagster.stack import LocalStack


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--calls-per-hour", type=float, default=417)
    parser.add_argument("--agents", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = LocalStack(Path(tmp) / "state")
        env = {**os.environ, **stack.up()}
        try:
            argv = [
                sys.executable,
                "-m",
                "gim_dagster.cli",
                "simulate",
                "traffic",
                "--tenant",
                "bench",
                "--start",
                "2026-11-02T00:00:00Z",
                "--hours",
                str(args.hours),
                "--calls-per-hour",
                str(args.calls_per_hour),
                "--chats-per-hour",
                "60",
                "--emails-per-hour",
                "20",
                "--agents",
                str(args.agents),
                "--seed",
                "1",
                "--duplicates",
                "0.01",
                "--late",
                "0.01",
                "--malformed",
                "0.001",
                "--ledger-dir",
                str(Path(tmp) / "ledger"),
            ]
            began = time.perf_counter()
            result = subprocess.run(argv, env=env, check=True, stderr=subprocess.PIPE, text=True)
            elapsed = time.perf_counter() - began
        finally:
            stack.down()
    summary = [line for line in result.stderr.splitlines() if "records/s" in line]
    print(summary[-1] if summary else result.stderr[-2000:])
    records = int(summary[-1].split(": ", 1)[1].split(" records")[0]) if summary else 0
    print(f"whole command: {elapsed:.1f} s wall, {records / elapsed:,.0f} records/s including simulation")


if __name__ == "__main__":
    main()
