"""Kafka through confluent-kafka: the Dagster resource over ``KafkaClients`` (kafka_clients.py)."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from dagster import ConfigurableResource

from gim_dagster.kafka_clients import KafkaClients


class KafkaResource(ConfigurableResource):
    """Client factories. ``client_config`` carries librdkafka properties (security, SASL, timeouts)."""

    bootstrap_servers: str
    client_config: dict[str, str] = {}
    sasl_username: str | None = None
    sasl_password: str | None = None
    topic_partitions: int = 1
    replication_factor: int = 1

    def clients(self) -> KafkaClients:
        return KafkaClients(
            self.bootstrap_servers,
            self.client_config,
            self.sasl_username,
            self.sasl_password,
            self.topic_partitions,
            self.replication_factor,
        )

    def producer(self, **overrides: Any) -> Producer:
        return self.clients().producer(**overrides)

    def consumer(self, **overrides: Any) -> Consumer:
        return self.clients().consumer(**overrides)

    def admin(self) -> AdminClient:
        return self.clients().admin()

    def ensure_topics(self, topics: list[str], config: dict[str, str] | None = None) -> None:
        self.clients().ensure_topics(topics, config)
