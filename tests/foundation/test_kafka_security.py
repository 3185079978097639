"""Every Kafka client of the project gets the settings' security properties, and a client refuses a broker
whose certificate it does not trust.

The bundled Tansu broker cannot enforce TLS or SASL (docs/operations.md, "Securing the connections"), so the
SASL_SSL side is proven by configuration: each client is built, for real (librdkafka validates every
property when a client is created), from a ``SASL_SSL`` settings file, and the properties it was given are
checked. The TLS side is proven against a throw-away TLS server whose certificate the client does not trust.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import confluent_kafka
import confluent_kafka.admin
import pytest

from gim_dagster.connections import ConnectionRefused, kafka_connection
from gim_dagster.settings import Settings, parse_settings
from gim_dagster.tls import make_ca, write_server_files

BROKERS = "broker-1.example:9093,broker-2.example:9093"


@pytest.fixture()
def sasl_ssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    """A SASL_SSL settings file (credentials from the environment) and the properties each client must get."""
    ca = tmp_path / "kafka-ca.crt"
    ca.write_bytes(make_ca("the cluster's CA").cert_pem)
    monkeypatch.setenv("T_KAFKA_USER", "gim-pipeline")
    monkeypatch.setenv("T_KAFKA_PASSWORD", "kafka-s3cret")
    settings = tmp_path / "gim.yaml"
    settings.write_text(
        f"kafka:\n  bootstrap_servers: '{BROKERS}'\n"
        "  client:\n    security.protocol: SASL_SSL\n    sasl.mechanism: SCRAM-SHA-512\n"
        f"    ssl.ca.location: '{ca}'\n    ssl.endpoint.identification.algorithm: https\n"
        "  sasl_username: {env: T_KAFKA_USER}\n  sasl_password: {env: T_KAFKA_PASSWORD}\n"
        "s3:\n  bucket: b\n  endpoint_url: null\n"
        "postgres:\n  server_url: 'postgresql+psycopg://u:p@db:5432/postgres'\n"
        "tenants:\n  - name: acme\n"
    )
    monkeypatch.setenv("GIM_SETTINGS", str(settings))
    expected = {
        "bootstrap.servers": BROKERS,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "ssl.ca.location": str(ca),
        "ssl.endpoint.identification.algorithm": "https",
        "sasl.username": "gim-pipeline",
        "sasl.password": "kafka-s3cret",
    }
    return settings, expected


Built = list[tuple[str, dict[str, Any]]]
REAL = {
    "Producer": confluent_kafka.Producer,
    "Consumer": confluent_kafka.Consumer,
    "AdminClient": confluent_kafka.admin.AdminClient,
}


def _record(seen: Built, kind: str, config: dict[str, Any]) -> Any:
    client = REAL[kind](config)  # librdkafka refuses an unknown or invalid property here
    seen.append((kind, dict(config)))
    return client


@pytest.fixture()
def built(monkeypatch: pytest.MonkeyPatch) -> Built:
    """Every real client the project's Kafka factory creates from here on, with its properties."""
    seen: Built = []
    for kind in REAL:
        monkeypatch.setattr(
            f"gim_dagster.kafka_clients.{kind}", lambda config, kind=kind: _record(seen, kind, config)
        )
    return seen


def test_every_kafka_client_is_built_from_the_settings(
    sasl_ssl: tuple[Path, dict[str, str]], built: Built
) -> None:
    settings_file, expected = sasl_ssl
    from dagster import DagsterInstance

    from gim_dagster.commands.simulate_traffic import _kafka_config
    from gim_dagster.kafka_clients import KafkaClients, producer_config
    from gim_dagster.metrics.server import MetricsService
    from gim_dagster.resources import build_resources
    from gim_dagster.settings import load_settings

    settings = load_settings(settings_file)
    clients: dict[str, int] = {}

    def made(where: str, kind: str) -> None:
        clients[where] = len(built)
        assert built[-1][0] == kind, (where, built[-1][0])

    # The Dagster resource of the code location (GCA, GSP, load, sensors): credentials resolved by Dagster.
    resource = build_resources(str(settings_file))["kafka"]
    with resource.process_config_and_initialize_cm() as kafka:  # type: ignore[attr-defined]
        kafka.producer()
        made("resource producer (GCA, GSP)", "Producer")
        kafka.consumer().close()
        made("resource consumer (GSP, load, sensors)", "Consumer")
        kafka.admin()
        made("resource admin (topics)", "AdminClient")
    # Outside Dagster runs (Dagster-free KafkaClients): the demo, `gim gsp restart`.
    outside = KafkaClients.of(settings.kafka)
    outside.producer()
    made("demo producer", "Producer")
    outside.consumer().close()
    made("demo and `gim gsp restart` consumer", "Consumer")
    # The metrics process.
    MetricsService(settings, DagsterInstance.ephemeral())._consumer().close()
    made("metrics lag consumer", "Consumer")
    # `gim simulate traffic` (its --bootstrap-servers replace only the broker list).
    traffic = _kafka_config(BROKERS)
    _record(built, "Producer", producer_config(traffic))
    made("simulate traffic producer", "Producer")
    _record(built, "AdminClient", traffic)
    made("simulate traffic admin", "AdminClient")
    assert len(clients) == len(built) == 8
    for where, index in clients.items():
        config = built[index - 1][1]
        assert {key: config.get(key) for key in expected} == expected, where
    # `gim settings check --connect` (and the benches) use the same properties.
    from gim_dagster.kafka_clients import admin_config

    assert {key: admin_config(settings.kafka).get(key) for key in expected} == expected
    assert kafka_connection(settings).name == f"kafka ({BROKERS})"


@pytest.fixture()
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server socket on a port the kernel picks, its certificate (for localhost) signed by its own CA:
    it completes handshakes and hangs up. Yields the port and that CA's file."""
    files = write_server_files(tmp_path / "broker-tls", ["localhost"], ca_name="the broker's own CA")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    listener = socket.create_server(("127.0.0.1", 0))
    handshakes: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the test is over
            with conn:
                try:
                    with context.wrap_socket(conn, server_side=True):
                        handshakes.append("ok")
                except (ssl.SSLError, OSError) as exc:
                    handshakes.append(type(exc).__name__)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], files.ca
    finally:
        listener.close()
        thread.join(10)


def _settings_for(port: int, ca: Path) -> Settings:
    return parse_settings(
        f"kafka:\n  bootstrap_servers: 'localhost:{port}'\n"
        f"  client:\n    security.protocol: SSL\n    ssl.ca.location: '{ca}'\n"
        "s3:\n  bucket: b\n  endpoint_url: null\npostgres:\n  server_url: ''\ntenants:\n  - name: acme\n",
        environment=False,
    )


def test_a_kafka_client_refuses_a_broker_it_does_not_trust(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, broker_ca = tls_server
    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(make_ca("a CA the broker does not use").cert_pem)
    with pytest.raises(ConnectionRefused) as refused:
        kafka_connection(_settings_for(port, other_ca)).check()
    message = str(refused.value)
    assert message.startswith(f"kafka (localhost:{port}): refused: ") and "\n" not in message
    assert "certificate verify failed" in message, message
    # The same client trusting the broker's CA gets through the handshake (and then meets no Kafka there).
    with pytest.raises(ConnectionRefused) as not_kafka:
        kafka_connection(_settings_for(port, broker_ca)).check()
    assert "certificate verify failed" not in str(not_kafka.value), not_kafka.value
