"""Where simulated records go: a file (one record per line) or Kafka (a confluent_kafka ``Producer``).

File format: one line per record, ``<kind>\\t<key>\\t<value>``, in delivery order. Values are JSON with ASCII
escapes, so they contain no tab or newline; ``grep -P '^voice\\t' FILE | cut -f2- | kcat -P -K '\\t' -t T``
produces the voice records with kcat.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim.delivery import Record

Progress = Callable[[int], None]  # called with the number of records written since the last call


class KafkaProducer(Protocol):
    """The part of ``confluent_kafka.Producer`` the sink uses."""

    def produce(
        self, topic: str, value: bytes, key: bytes, on_delivery: Callable[[object, object], None]
    ) -> None: ...
    def poll(self, timeout: float) -> int: ...
    def flush(self, timeout: float) -> int: ...


def paced(records: Iterable[Record], rate: float | None, progress: Progress | None) -> Iterator[Record]:
    """Yield records at most ``rate`` per second (``None``: as fast as possible), reporting progress."""
    start = time.perf_counter()
    pending = 0
    for n, record in enumerate(records, 1):
        if rate:
            ahead = n / rate - (time.perf_counter() - start)
            if ahead > 0.005:
                time.sleep(ahead)
        yield record
        pending += 1
        if progress is not None and pending == 1000:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)


def write_file(records: Iterable[Record], path: str | Path) -> int:
    """Write records to ``path`` (see the module docstring for the format); returns how many."""
    count = 0
    with open(path, "wb") as out:
        for kind, key, value in records:
            out.write(b"%s\t%s\t%s\n" % (kind.encode(), key, value))
            count += 1
    return count


def read_file(path: str | Path) -> list[Record]:
    with open(path, "rb") as src:
        return [
            Record(kind.decode(), key, value)
            for kind, key, value in (line.rstrip(b"\n").split(b"\t", 2) for line in src)
        ]


def produce(
    producer: KafkaProducer, records: Iterable[Record], names: TenantNames, flush_timeout: float = 60.0
) -> int:
    """Produce records to the tenant's raw topics, polling for delivery reports as it goes; returns how many.

    Raises ``RuntimeError`` if a delivery failed or records are still unsent after ``flush_timeout`` seconds.
    """
    topics = {"voice": names.voice_topic, "digital": names.digital_topic, "agent": names.agent_topic}
    errors: list[str] = []

    def on_delivery(err: object, _msg: object) -> None:
        if err is not None:
            errors.append(str(err))

    count = 0
    for kind, key, value in records:
        while True:
            try:
                producer.produce(topics[kind], value=value, key=key, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        count += 1
        if count % 1000 == 0:
            producer.poll(0)
    unsent = producer.flush(flush_timeout)
    if errors or unsent:
        raise RuntimeError(f"{len(errors)} deliveries failed ({errors[:1]}), {unsent} records unsent")
    return count
