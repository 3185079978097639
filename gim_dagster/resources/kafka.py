"""Kafka through confluent-kafka: producer, consumer and admin factories with shared client settings."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from dagster import ConfigurableResource

from gim_dagster.kafka_clients import common_config, consumer_config, producer_config
from gim_dagster.settings import KafkaSettings, resolve


class KafkaResource(ConfigurableResource):
    """Client factories. ``client_config`` carries librdkafka properties (security, SASL, timeouts)."""

    bootstrap_servers: str
    client_config: dict[str, str] = {}
    sasl_username: str | None = None
    sasl_password: str | None = None
    topic_partitions: int = 1
    replication_factor: int = 1

    @classmethod
    def from_settings(cls, kafka: KafkaSettings) -> KafkaResource:
        """The resource with the settings' values resolved now (for code outside Dagster runs)."""
        return cls(
            bootstrap_servers=str(resolve(kafka.bootstrap_servers)),
            client_config=kafka.client,
            sasl_username=resolve(kafka.sasl_username),
            sasl_password=resolve(kafka.sasl_password),
            topic_partitions=kafka.topic_partitions,
            replication_factor=kafka.replication_factor,
        )

    def _base(self) -> dict[str, Any]:
        return common_config(
            self.bootstrap_servers, self.client_config, self.sasl_username, self.sasl_password
        )

    def producer(self, **overrides: Any) -> Producer:
        """An idempotent producer (no duplicates from retries), batching by default."""
        return Producer(producer_config(self._base(), **overrides))

    def consumer(self, **overrides: Any) -> Consumer:
        """A consumer for ``assign()``-style reads: no auto commit, partition EOF reported."""
        return Consumer(consumer_config(self._base(), **overrides))

    def admin(self) -> AdminClient:
        return AdminClient(self._base())

    def ensure_topics(self, topics: list[str], config: dict[str, str] | None = None) -> None:
        """Create the topics that do not exist yet (idempotent)."""
        ensure_topics(self.admin(), topics, self.topic_partitions, self.replication_factor, config)


def ensure_topics(
    admin: AdminClient,
    topics: list[str],
    partitions: int = 1,
    replication_factor: int = 1,
    config: dict[str, str] | None = None,
) -> None:
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [t for t in topics if t not in existing]
    if not missing:
        return
    futures = admin.create_topics(
        [
            NewTopic(t, num_partitions=partitions, replication_factor=replication_factor, config=config or {})
            for t in missing
        ]
    )
    for future in futures.values():
        try:
            future.result(15)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
