"""Session fixtures: the local stack's real services (PostgreSQL, Kafka/Tansu, S3/moto) on free ports.

The services are started once per test session with the same code as `gim stack up`, in a temporary
state directory, and stopped at the end; their PostgreSQL asks for the password the stack generated, which
the fixtures get through the stack's connection URLs. `--system-pg` additionally runs every test that uses
`pg_server_url` against the system PostgreSQL at 127.0.0.1:5432 (a second major version;
`GIM_TEST_SYSTEM_PG_URL` replaces that URL, e.g. with a password).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from gim_dagster.stack import LocalStack

# The system PostgreSQL of `--system-pg`; its credentials (and TLS) from the environment where it wants them.
SYSTEM_PG_URL = os.environ.get(
    "GIM_TEST_SYSTEM_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--system-pg",
        action="store_true",
        help="also run the database tests against the system PostgreSQL at 127.0.0.1:5432",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pg_backend" in metafunc.fixturenames:
        backends = ["embedded"] + (["system"] if metafunc.config.getoption("--system-pg") else [])
        metafunc.parametrize("pg_backend", backends, scope="session", indirect=True)


@contextmanager
def _private_state_dir() -> Iterator[Path]:
    """A state directory for a local stack, outside pytest's tmp tree.

    PostgreSQL runs as an unprivileged user that must traverse to its data directory; a pytest session that
    starts meanwhile resets ``/tmp/pytest-of-<user>`` to mode 0700 (and rotates old session dirs away), which
    made the server PANIC on its own pg_control.
    """
    state = Path(tempfile.mkdtemp(prefix="gim-test-state-"))
    try:
        yield state
    finally:
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture()
def state_dir() -> Iterator[Path]:
    """A fresh state directory for a test's own local stack (`gim stack`, `gim dev`, `gim demo`)."""
    with _private_state_dir() as state:
        yield state


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    """The running local stack's connection environment (GIM_PG_SERVER_URL, GIM_KAFKA_…)."""
    with _private_state_dir() as state:
        local = LocalStack(state)
        env = local.up()
        try:
            yield env
        finally:
            local.down()


@pytest.fixture(scope="session")
def pg_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def pg_server_url(pg_backend: str, request: pytest.FixtureRequest) -> str:
    """SQLAlchemy URL of a PostgreSQL server's maintenance database (``postgres``)."""
    if pg_backend == "system":
        return SYSTEM_PG_URL
    return request.getfixturevalue("stack")["GIM_PG_SERVER_URL"]


@pytest.fixture(scope="session")
def kafka_bootstrap(stack: dict[str, str]) -> str:
    return stack["GIM_KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def s3_endpoint(stack: dict[str, str]) -> str:
    return stack["GIM_S3_ENDPOINT_URL"]


@pytest.fixture()
def fresh_db_url(pg_server_url: str) -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def unique() -> str:
    """A short unique suffix for topic, tenant and prefix names."""
    return uuid.uuid4().hex[:8]
