"""Simulator throughput: one simulated day of a 50-agent centre (about 10,000 inbound calls) to a file sink.

Reproduce (from the repository root):

    .venv/bin/python bench/bench_simulator.py [--seed 1] [--out bench/out/day.tsv]

Prints events/s of the simulation alone (clean events, serialised, faults injected, ledger built), of the
file sink alone, and end to end; writes the ledger next to the output file.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from gim_dagster.core.sim import Roster, TrafficParams, simulate
from gim_dagster.core.sim.sinks import write_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out/day.tsv"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    params = TrafficParams(
        tenant="bench",
        start=datetime(2026, 11, 2, tzinfo=UTC),
        hours=24,
        calls_per_hour=417,
        chats_per_hour=40,
        emails_per_hour=20,
        seed=args.seed,
        duplicates=0.01,
        late=0.01,
        malformed=0.001,
    )
    began = time.perf_counter()
    sim = simulate(Roster.synthetic(50, args.seed), params)
    simulated = time.perf_counter()
    count = write_file(sim.records, args.out)
    written = time.perf_counter()
    sim.ledger.write(args.out.with_suffix(".ledger"))
    run = sim.ledger.run
    print(
        f"simulated {run['interactions']} interactions, {run['events']} events, {count} records "
        f"(faults {run['faults']})"
    )
    print(f"simulate:   {simulated - began:6.2f} s  {count / (simulated - began):10,.0f} events/s")
    print(f"file sink:  {written - simulated:6.2f} s  {count / (written - simulated):10,.0f} events/s")
    print(f"end to end: {written - began:6.2f} s  {count / (written - began):10,.0f} events/s")


if __name__ == "__main__":
    main()
