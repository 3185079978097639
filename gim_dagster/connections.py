"""Every connection the settings describe, tried once: ``gim settings check --connect``.

Each connection (a tenant's Configuration Database and Info Mart, the S3 bucket, the Kafka cluster) is tried
with exactly the client settings the pipeline uses, and a failure becomes one line naming the connection and
the cause, e.g. ``tenant acme configdb (postgres@localhost:5432/gim_config_acme): refused: server
certificate for "localhost" does not match host name "127.0.0.1"``. No traceback, and no secret: the
messages of libpq, botocore and librdkafka carry none, and the secrets the settings hold are masked anyway.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from gim_dagster.settings import Settings, SettingsError, resolve

CONNECT_TIMEOUT_S = 10


class ConnectionRefused(RuntimeError):
    """A connection failed; the message is one line naming the connection and the cause."""


@dataclass(frozen=True)
class Connection:
    """One connection of the settings and how to try it."""

    name: str
    attempt: Callable[[], None]
    secrets: tuple[str, ...] = ()

    def check(self) -> None:
        """Try the connection; raise ``ConnectionRefused`` with one line if it fails."""
        try:
            self.attempt()
        except ConnectionRefused as exc:
            raise ConnectionRefused(f"{self.name}: {mask(str(exc), self.secrets)}") from None
        except Exception as exc:
            raise ConnectionRefused(f"{self.name}: refused: {mask(cause(exc), self.secrets)}") from None


def cause(exc: BaseException) -> str:
    """The innermost message of a client exception, on one line."""
    inner: BaseException = exc
    while True:
        nested = getattr(inner, "orig", None) or inner.__cause__
        if not isinstance(nested, BaseException):
            break
        inner = nested
    text = str(inner) or type(inner).__name__
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    return "; ".join(line for line in lines if line)


def mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def postgres_connection(name: str, url: str, *, may_create: bool = False) -> Connection:
    """A PostgreSQL database; ``may_create``: a missing database is fine if its server answers (created on
    first use)."""
    parsed = sa.make_url(url)
    where = f"{parsed.username}@{parsed.host}:{parsed.port or 5432}/{parsed.database}"

    def attempt() -> None:
        try:
            _select_one(parsed)
        except sa.exc.OperationalError as exc:
            if not (may_create and f'database "{parsed.database}" does not exist' in str(exc)):
                raise
            _select_one(parsed.set(database="postgres"))

    return Connection(f"{name} ({where})", attempt, (parsed.password or "",))


def _select_one(url: sa.URL) -> None:
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()


def s3_connection(settings: Settings) -> Connection:
    s3 = settings.s3
    bucket = str(resolve(s3.bucket))
    endpoint = resolve(s3.endpoint_url) or "AWS"

    def attempt() -> None:
        from botocore.config import Config

        config = Config(connect_timeout=CONNECT_TIMEOUT_S, retries={"total_max_attempts": 1})
        s3.client(config).head_bucket(Bucket=bucket)

    return Connection(f"s3 bucket {bucket} ({endpoint})", attempt, (resolve(s3.secret_access_key) or "",))


def kafka_connection(settings: Settings) -> Connection:
    from gim_dagster.kafka_clients import admin_config

    config = admin_config(settings.kafka)

    def attempt() -> None:
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient

        errors: list[str] = []
        down: list[bool] = []

        def on_error(err: KafkaError) -> None:
            # librdkafka says why here (e.g. "SSL handshake failed: … certificate verify failed"), then that
            # every broker is down: the answer, without waiting out the timeout.
            if err.code() == KafkaError._ALL_BROKERS_DOWN:
                down.append(True)
            else:
                errors.append(err.str())

        admin = AdminClient({**config, "error_cb": on_error})
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            try:
                admin.list_topics(timeout=0.5)
                return
            except KafkaException as exc:
                admin.poll(0)  # serve the error callbacks of the attempt
                if down or time.monotonic() > deadline:
                    raise ConnectionRefused(f"refused: {errors[0] if errors else cause(exc)}") from None

    return Connection(
        f"kafka ({config['bootstrap.servers']})", attempt, (str(config.get("sasl.password", "")),)
    )


def connections(settings: Settings) -> list[Connection]:
    """Every connection the settings name, in the order the pipeline uses them."""
    result = []
    for name in settings.tenant_names:
        tenant = settings.tenant(name)
        may_create = settings.postgres.create_databases
        result.append(
            postgres_connection(f"tenant {name} configdb", tenant.configdb_dsn(), may_create=may_create)
        )
        result.append(
            postgres_connection(f"tenant {name} infomart", tenant.infomart_dsn(), may_create=may_create)
        )
    result.append(s3_connection(settings))
    result.append(kafka_connection(settings))
    return result


def check_all(settings: Settings) -> list[tuple[str, str | None]]:
    """(connection, None if it works else the one-line reason) for every connection of the settings."""
    outcome: list[tuple[str, str | None]] = []
    try:
        every = connections(settings)
    except SettingsError as exc:
        return [("settings", str(exc))]
    for connection in every:
        try:
            connection.check()
            outcome.append((connection.name, None))
        except ConnectionRefused as exc:
            outcome.append((connection.name, str(exc)))
    return outcome


def connection_failure(exc: BaseException) -> str | None:
    """One line for a failed connection of a PostgreSQL or S3 client met anywhere (None: not one). libpq's
    message names the server and port, botocore's the endpoint URL."""
    import psycopg
    from botocore.exceptions import HTTPClientError

    # psycopg raises OperationalError itself (no SQLSTATE subclass such as a deadlock) when it cannot connect.
    refused = isinstance(exc, sa.exc.OperationalError) and type(exc.orig) is psycopg.OperationalError
    if refused or isinstance(exc, HTTPClientError):
        return f"cannot connect: {cause(exc)}"
    return None
