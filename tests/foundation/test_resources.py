"""Resources against the real services: Kafka round trip, PostgreSQL round trip."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from confluent_kafka import TopicPartition

from gim_dagster.resources import KafkaResource, PostgresResource


def test_kafka_produce_and_consume_back(kafka_bootstrap: str, unique: str) -> None:
    kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
    topic = f"t{unique}.roundtrip"
    kafka.ensure_topics([topic])
    kafka.ensure_topics([topic])  # idempotent
    producer = kafka.producer()
    for i in range(10):
        producer.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    assert producer.flush(15) == 0

    consumer = kafka.consumer()
    consumer.assign([TopicPartition(topic, 0, 0)])
    received = []
    while True:
        msg = consumer.poll(10)
        assert msg is not None, "timed out before partition EOF"
        if msg.error():
            assert msg.error().code() == -191  # _PARTITION_EOF
            break
        received.append((msg.key(), msg.value(), msg.offset()))
    consumer.close()
    assert [(k, v) for k, v, _ in received] == [(f"k{i}".encode(), f"v{i}".encode()) for i in range(10)]
    assert [o for _, _, o in received] == list(range(10))


def test_postgres_resource_table_round_trip(pg_server_url: str, tmp_path: Path, unique: str) -> None:
    tenant = f"t-{unique}"
    settings = tmp_path / "gim.yaml"
    settings.write_text(f"postgres:\n  server_url: '{pg_server_url}'\ntenants:\n  - name: {tenant}\n")
    postgres = PostgresResource(settings_file=str(settings))
    engine = postgres.infomart_engine(tenant)
    assert engine.url.database == f"gim_infomart_{tenant}"
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE round_trip (id int PRIMARY KEY, name text)"))
        conn.execute(sa.text("INSERT INTO round_trip VALUES (1, 'Ann'), (2, NULL)"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id, name FROM round_trip ORDER BY id")).all() == [
            (1, "Ann"),
            (2, None),
        ]
    assert postgres.configdb_engine(tenant).url.database == f"gim_config_{tenant}"
    engine.dispose()
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in (f"gim_infomart_{tenant}", f"gim_config_{tenant}"):
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    admin.dispose()
