"""The librdkafka properties of every Kafka client of the project, built in this one place from the settings.

``kafka.bootstrap_servers``, ``kafka.client`` (``security.protocol``, ``sasl.mechanism``, ``ssl.ca.location``,
…) and the SASL credentials go into every producer, consumer and admin client: ``KafkaClients`` (under the
Dagster resource ``resources/kafka.py``, and for the CLI, the demo and the metrics process), ``gim simulate
traffic``, ``gim settings check --connect`` and the benches. Each kind of client adds its defaults underneath
(the settings' ``client`` wins over them) and a caller's overrides on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from gim_dagster.settings import KafkaSettings, resolve

# An idempotent producer (no duplicates from retries), batching.
PRODUCER_DEFAULTS: dict[str, Any] = {"enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4"}
# A consumer for assign()-style reads: no auto commit, partition EOF reported, committed records only.
# Every read ends at a partition's end, where a fetch waits `fetch.wait.max.ms` for data that is not coming
# (librdkafka's default 500 ms, paid once or twice per read: most of a small run's time).
CONSUMER_DEFAULTS: dict[str, Any] = {
    "group.id": "gim-dagster",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
    "fetch.wait.max.ms": 10,
    "auto.offset.reset": "earliest",
    "isolation.level": "read_committed",
}


def common_config(
    bootstrap_servers: str,
    client: Mapping[str, str],
    sasl_username: str | None = None,
    sasl_password: str | None = None,
) -> dict[str, Any]:
    """What every client of one cluster shares: the brokers, the security properties, the SASL login."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, **client}
    if sasl_username is not None:
        config["sasl.username"] = sasl_username
    if sasl_password is not None:
        config["sasl.password"] = sasl_password
    return config


def settings_config(kafka: KafkaSettings, bootstrap_servers: str | None = None) -> dict[str, Any]:
    """``common_config`` of the settings, their ``{env: …}`` values read now; ``bootstrap_servers`` replaces
    the settings' broker list (``gim simulate traffic --bootstrap-servers``)."""
    return common_config(
        bootstrap_servers or str(resolve(kafka.bootstrap_servers)),
        kafka.client,
        resolve(kafka.sasl_username),
        resolve(kafka.sasl_password),
    )


def producer_config(common: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    return {**PRODUCER_DEFAULTS, **common, **overrides}


def consumer_config(common: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    return {**CONSUMER_DEFAULTS, **common, **overrides}


def admin_config(kafka: KafkaSettings) -> dict[str, Any]:
    return settings_config(kafka)


@dataclass(frozen=True)
class KafkaClients:
    """Producers, consumers and admin clients of one cluster, with the shared properties. Dagster-free: for
    the CLI, the demo and the metrics process (``KafkaClients.of(settings.kafka)``); under the resource."""

    bootstrap_servers: str
    client: Mapping[str, str] = field(default_factory=dict)
    sasl_username: str | None = None
    sasl_password: str | None = None
    topic_partitions: int = 1
    replication_factor: int = 1

    @classmethod
    def of(cls, kafka: KafkaSettings) -> KafkaClients:
        """The settings' clients, their ``{env: …}`` values read now."""
        return cls(
            bootstrap_servers=str(resolve(kafka.bootstrap_servers)),
            client=kafka.client,
            sasl_username=resolve(kafka.sasl_username),
            sasl_password=resolve(kafka.sasl_password),
            topic_partitions=kafka.topic_partitions,
            replication_factor=kafka.replication_factor,
        )

    def common(self) -> dict[str, Any]:
        return common_config(self.bootstrap_servers, self.client, self.sasl_username, self.sasl_password)

    def producer(self, **overrides: Any) -> Producer:
        """An idempotent producer (no duplicates from retries), batching by default."""
        return Producer(producer_config(self.common(), **overrides))

    def consumer(self, **overrides: Any) -> Consumer:
        """A consumer for ``assign()``-style reads: no auto commit, partition EOF reported."""
        return Consumer(consumer_config(self.common(), **overrides))

    def admin(self) -> AdminClient:
        return AdminClient(self.common())

    def ensure_topics(self, topics: list[str], config: dict[str, str] | None = None) -> None:
        """Create the topics that do not exist yet (idempotent), with the settings' partitions, replicas."""
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
