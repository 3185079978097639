"""Lag against the real broker: Tansu's watermark is only a hint, the end offset is read."""

from __future__ import annotations

import time

from confluent_kafka import TopicPartition

from gim_dagster.metrics.kafka_lag import end_offsets, lag_consumer_config, partition_lags
from gim_dagster.resources import KafkaResource


def test_lag_counts_every_record_of_the_last_batch(kafka_bootstrap: str, unique: str) -> None:
    kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
    topic = f"lag{unique}.voice.events"
    kafka.ensure_topics([topic])
    producer = kafka.producer(**{"linger.ms": 200})
    before_ms = int(time.time() * 1000)
    for i in range(10):  # one record batch
        producer.produce(topic, key=b"k", value=str(i).encode())
    assert producer.flush(15) == 0
    consumer = kafka.consumer(**lag_consumer_config())
    try:
        tp = (topic, 0)
        _low, hint = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        assert hint <= 10  # on Tansu: 1 (base offset of the last batch + 1)
        assert end_offsets(consumer, {tp: 0}) == {tp: 10}
        lags = partition_lags(consumer, {tp: 4})
        assert lags[tp].records == 6
        assert lags[tp].oldest_unread_ms is not None and lags[tp].oldest_unread_ms >= before_ms - 1000
        caught_up = partition_lags(consumer, {tp: 10})[tp]
        assert (caught_up.records, caught_up.oldest_unread_ms) == (0, None)
    finally:
        consumer.close()
