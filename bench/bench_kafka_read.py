"""What one small read costs: ``read_range`` from a stored offset to the partition's end, as every GSP and
load run, sensor check and offset check does it, with the project's consumer and with librdkafka's default
``fetch.wait.max.ms`` (500 ms).

Reproduce (starts its own local stack in a temporary directory, under a minute):

    .venv/bin/python bench/bench_kafka_read.py [--records 200] [--repeat 20]

A read ends at the partition's end, where the broker holds a fetch up to ``fetch.wait.max.ms`` for data
that is not coming. The figures are the median and the maximum of ``--repeat`` reads of the whole partition
and of its last record only, per consumer configuration.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gim_dagster.core.kafka_io import TP, read_range
from gim_dagster.kafka_clients import KafkaClients
from gim_dagster.stack import LocalStack

TOPIC = "bench.read"
CONFIGURATIONS = {
    "project defaults (fetch.wait.max.ms 10)": {},
    "librdkafka default (fetch.wait.max.ms 500)": {"fetch.wait.max.ms": 500},
}


def timed_reads(clients: KafkaClients, overrides: dict, start: int, repeat: int) -> list[float]:
    consumer = clients.consumer(**overrides)
    tp: TP = (TOPIC, 0)
    seconds = []
    try:
        for _ in range(repeat):
            began = time.perf_counter()
            read_range(consumer, {tp: start}, max_records=1_000_000)
            seconds.append(time.perf_counter() - began)
    finally:
        consumer.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gim-bench-read-") as state:
        stack = LocalStack(Path(state))
        env = stack.up()
        try:
            clients = KafkaClients(env["GIM_KAFKA_BOOTSTRAP_SERVERS"])
            clients.ensure_topics([TOPIC])
            producer = clients.producer()
            for i in range(args.records):
                producer.produce(TOPIC, key=f"k{i}".encode(), value=b"x" * 200)
            producer.flush(30)
            print(f"{args.records} records on one partition, {args.repeat} reads each", flush=True)
            for label, overrides in CONFIGURATIONS.items():
                for what, start in (("whole partition", 0), ("last record", args.records - 1)):
                    seconds = timed_reads(clients, overrides, start, args.repeat)
                    print(
                        f"{label:<44} {what:<16} median {statistics.median(seconds) * 1000:7.1f} ms"
                        f"   max {max(seconds) * 1000:7.1f} ms",
                        flush=True,
                    )
        finally:
            stack.down()


if __name__ == "__main__":
    main()
