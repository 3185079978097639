"""Bounded reads with assign() against the real broker, and the 'something new' hint."""

from __future__ import annotations

from gim_dagster.core.kafka_io import existing_partitions, has_new_records, read_range
from gim_dagster.resources import KafkaResource


def _produce(kafka: KafkaResource, topic: str, values: range, batch: int) -> None:
    producer = kafka.producer(**{"linger.ms": 0})
    for start in range(values.start, values.stop, batch):
        for i in range(start, min(start + batch, values.stop)):
            producer.produce(topic, key=b"k", value=str(i).encode())
        producer.flush(10)


def test_bounded_reads_cover_the_range_exactly_once(kafka_bootstrap: str, unique: str) -> None:
    kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
    topic = f"t{unique}.io"
    kafka.ensure_topics([topic])
    consumer = kafka.consumer()
    tps = existing_partitions(consumer, [topic, f"t{unique}.missing"])
    assert tps == [(topic, 0)]

    empty = read_range(consumer, dict.fromkeys(tps, 0), max_records=100)
    assert empty.records == [] and empty.drained and empty.end == {(topic, 0): 0}
    assert not has_new_records(consumer, empty.end, empty.at_eof)

    _produce(kafka, topic, range(25), batch=10)
    assert has_new_records(consumer, empty.end, empty.at_eof)

    seen: list[int] = []
    position, at_eof = empty.end, empty.at_eof
    reads = 0
    while has_new_records(consumer, position, at_eof):
        result = read_range(consumer, position, max_records=7)
        seen += [int(r.value) for r in result.records]
        position, at_eof = result.end, result.at_eof
        reads += 1
        assert reads < 20
    assert seen == list(range(25))
    assert position == {(topic, 0): 25}
    consumer.close()
