"""GSP core cost in CPU instructions per event: a figure that the host's load does not move.

Reproduce (needs Debian's ``valgrind``; about four minutes):

    .venv/bin/python bench/bench_gsp_instructions.py --hours 2

Wall-clock rates on a shared host swing by a third from one minute to the next; instruction counts do not
(callgrind counts the same total for the same code and input, whatever else runs). The script simulates the
same traffic as ``bench_gsp.py``, then runs a child Python under ``valgrind --tool=callgrind`` twice: once
loading the records and applying them with ``Processor.process`` (one batch, from an empty state), once
only loading them. The difference divided by the number of records is printed, for the whole core and for
``parse_records`` alone. Divide a host's instructions per second by it to project events/s.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_gsp import TENANT, simulated_records

from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.gsp import GspState, Processor
from gim_dagster.core.gsp.processor import CHUNK_RECORDS, topic_kinds
from gim_dagster.core.kafka_io import Record

_COLLECTED = re.compile(r"Collected : (\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hours", type=float, default=2)
    parser.add_argument("--calls-per-hour", type=float, default=1500)
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_gsp_instructions: valgrind is not installed (Debian package valgrind)")
    records = simulated_records(args.hours, args.calls_per_hour, args.agents)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.pickle"
        path.write_bytes(pickle.dumps([fields(r) for r in records]))
        base = instructions("load", path)
        core = instructions("process", path) - base
        parse = instructions("parse", path) - base
    n = len(records)
    print(f"records: {n:,}")
    print(f"core:  {core / n:>8,.0f} instructions/event ({core / 1e6:,.0f} M)")
    print(f"parse: {parse / n:>8,.0f} instructions/event ({parse / 1e6:,.0f} M)")


def fields(rec: Record) -> tuple[str, int, int, bytes | None, bytes | None, int]:
    return (rec.topic, rec.partition, rec.offset, rec.key, rec.value, rec.timestamp_ms)


def instructions(mode: str, path: Path) -> int:
    """Instructions callgrind counts for one child run (a fixed hash seed keeps dict layouts the same)."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--child", mode, str(path),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        sys.exit(f"bench_gsp_instructions: no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found[1])


def child(mode: str, file: str) -> None:
    """What runs under valgrind: load the records, then ``mode``'s work on them."""
    records = [Record(*r) for r in pickle.loads(Path(file).read_bytes())]
    if mode == "process":
        Processor(GspState(TENANT)).process(records)
    elif mode == "parse":
        for topic, kind in topic_kinds(TENANT).items():
            values = [r.value for r in records if r.topic == topic]
            for i in range(0, len(values), CHUNK_RECORDS):
                parse_records(kind, values[i : i + CHUNK_RECORDS], TENANT)


if __name__ == "__main__":
    main()
