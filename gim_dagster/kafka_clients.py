"""The librdkafka properties of every Kafka client of the project, built in this one place from the settings.

``kafka.bootstrap_servers``, ``kafka.client`` (``security.protocol``, ``sasl.mechanism``, ``ssl.ca.location``,
…) and the SASL credentials go into every producer, consumer and admin client: the Dagster resource
(``resources/kafka.py``), ``gim simulate traffic``, the metrics process, ``gim settings check --connect`` and
the benches. Each kind of client adds its defaults underneath (the settings' ``client`` wins over them) and a
caller's overrides on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
