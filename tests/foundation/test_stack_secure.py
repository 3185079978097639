"""The secure stack (`gim stack up --secure`) against its real servers: TLS-only PostgreSQL 15 and HTTPS S3.

Every client verifies (``sslmode=verify-full``, boto3 ``verify=`` the stack's CA), and each way of getting it
wrong is refused by the server or the client: a plain connection, a wrong password, a certificate of a CA the
client does not trust, a host name the certificate does not name. The user sees one line naming the
connection and the cause, never a traceback or a secret.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gim_dagster.connections import ConnectionRefused, check_all, postgres_connection, s3_connection
from gim_dagster.resources.s3 import s3_resource
from gim_dagster.settings import Settings, parse_settings
from gim_dagster.stack import PG15_BIN, LocalStack
from gim_dagster.tls import make_ca

pytestmark = pytest.mark.skipif(
    not (PG15_BIN / "postgres").exists(),
    reason=f"the secure stack needs Debian's PostgreSQL 15 in {PG15_BIN} (apt-get install postgresql-15)",
)


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, dict[str, str]]]:
    import shutil
    import tempfile

    state = Path(tempfile.mkdtemp(prefix="gim-test-secure-"))  # outside pytest's tree (see conftest.py)
    stack = LocalStack(state)
    try:
        yield stack, stack.up(secure=True)
    finally:
        stack.down()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def untrusted_ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CA file of another CA: what a client that trusts only it must refuse the stack's servers with."""
    path = tmp_path_factory.mktemp("untrusted") / "ca.crt"
    path.write_bytes(make_ca("not the stack's CA").cert_pem)
    return str(path)


def _settings(env: dict[str, str], **s3: str) -> Settings:
    values = {
        "endpoint_url": env["GIM_S3_ENDPOINT_URL"],
        "bucket": env["GIM_S3_BUCKET"],
        "ca_bundle": env["GIM_S3_CA_BUNDLE"],
        "access_key_id": env["AWS_ACCESS_KEY_ID"],
        "secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        **s3,
    }
    s3_lines = "".join(f"  {key}: '{value}'\n" for key, value in values.items())
    text = (
        f"kafka:\n  bootstrap_servers: '{env['GIM_KAFKA_BOOTSTRAP_SERVERS']}'\n"
        f"s3:\n{s3_lines}postgres:\n  server_url: '{env['GIM_PG_SERVER_URL']}'\n"
        "tenants:\n  - name: acme\n"
    )
    return parse_settings(text, "secure.yaml", environment=False)


def _one_line_refusal(check: object, name: str, secret: str) -> str:
    with pytest.raises(ConnectionRefused) as refused:
        check()  # type: ignore[operator]
    message = str(refused.value)
    assert "\n" not in message and message.startswith(name), message
    assert secret not in message and "Traceback" not in message, message
    return message


def test_every_connection_of_the_secure_stack_verifies_and_connects(
    secure: tuple[LocalStack, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, env = secure
    url = sa.make_url(env["GIM_PG_SERVER_URL"])
    assert url.host == "localhost" and url.query["sslmode"] == "verify-full"
    assert url.query["sslrootcert"] == str(stack.ca_file) and env["GIM_S3_ENDPOINT_URL"].startswith(
        "https://"
    )
    assert check_all(_settings(env)) == [
        (f"tenant acme configdb (postgres@localhost:{url.port}/gim_config_acme)", None),
        (f"tenant acme infomart (postgres@localhost:{url.port}/gim_infomart_acme)", None),
        (f"s3 bucket gim-local ({env['GIM_S3_ENDPOINT_URL']})", None),
        (f"kafka ({env['GIM_KAFKA_BOOTSTRAP_SERVERS']})", None),
    ]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tls = conn.execute(sa.text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).one()
    engine.dispose()
    assert tls.ssl and tls.version in ("TLSv1.2", "TLSv1.3")
    # Dagster's S3 resource (assets, IO manager) verifies with the settings' CA too.
    s3_resource(_settings(env)).get_client().head_bucket(Bucket=env["GIM_S3_BUCKET"])
    # Dagster's run storage: the stack's instance over TLS.
    from dagster import DagsterInstance

    monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
    with DagsterInstance.from_config(str(stack.dagster_home)) as instance:
        assert instance.get_runs_count() == 0


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "plain",
            'no pg_hba.conf entry for host "127.0.0.1", user "postgres", database "postgres", no encryption',
        ),
        ("wrong password", 'password authentication failed for user "postgres"'),
        ("untrusted certificate", "certificate verify failed"),
        ("wrong host name", 'does not match host name "127.0.0.1"'),
    ],
)
def test_postgres_refuses(
    secure: tuple[LocalStack, dict[str, str]], untrusted_ca: str, case: str, expected: str
) -> None:
    stack, env = secure
    url = sa.make_url(env["GIM_PG_SERVER_URL"])
    broken = {
        "plain": url.update_query_dict({"sslmode": "disable"}),
        "wrong password": url.set(password=stack.pg_password()[::-1]),
        "untrusted certificate": url.update_query_dict({"sslrootcert": untrusted_ca}),
        "wrong host name": url.set(host="127.0.0.1"),
    }[case]
    connection = postgres_connection("tenant acme infomart", broken.render_as_string(hide_password=False))
    message = _one_line_refusal(connection.check, "tenant acme infomart (postgres@", stack.pg_password())
    assert expected in message.split(": refused: ", 1)[1], message


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("plain", "Connection was closed"),
        ("untrusted certificate", "certificate verify failed"),
        ("wrong host name", "hostname '127.0.0.1' doesn't match 'localhost'"),
    ],
)
def test_s3_refuses(
    secure: tuple[LocalStack, dict[str, str]], untrusted_ca: str, case: str, expected: str
) -> None:
    _, env = secure
    endpoint = env["GIM_S3_ENDPOINT_URL"]
    broken = {
        "plain": {"endpoint_url": endpoint.replace("https://", "http://")},
        "untrusted certificate": {"ca_bundle": untrusted_ca},
        "wrong host name": {"endpoint_url": endpoint.replace("localhost", "127.0.0.1")},
    }[case]
    connection = s3_connection(_settings(env, **broken))
    message = _one_line_refusal(connection.check, "s3 bucket gim-local (", env["AWS_SECRET_ACCESS_KEY"])
    assert expected in message, message


def test_the_user_sees_one_line_per_refused_connection(
    secure: tuple[LocalStack, dict[str, str]], untrusted_ca: str, tmp_path: Path
) -> None:
    """`gim settings check --connect` with a wrong password and an untrusted S3 CA: exit 1, one line each."""
    stack, env = secure
    url = sa.make_url(env["GIM_PG_SERVER_URL"]).set(password="not-the-password")
    settings = tmp_path / "gim.yaml"
    settings.write_text(
        f"kafka:\n  bootstrap_servers: '{env['GIM_KAFKA_BOOTSTRAP_SERVERS']}'\n"
        f"s3:\n  endpoint_url: '{env['GIM_S3_ENDPOINT_URL']}'\n  bucket: gim-local\n"
        f"  ca_bundle: '{untrusted_ca}'\n  access_key_id: '{env['AWS_ACCESS_KEY_ID']}'\n"
        f"  secret_access_key: '{env['AWS_SECRET_ACCESS_KEY']}'\n"
        f"postgres:\n  server_url: '{url.render_as_string(hide_password=False)}'\n"
        "tenants:\n  - name: acme\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "gim_dagster.cli", "settings", "check", "--connect", "--file", str(settings)],
        env={"PATH": str(Path(sys.executable).parent), "GIM_STATE_DIR": str(tmp_path / "no-stack")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    refused = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(refused) == 3, result.stderr  # configdb, infomart, S3; Kafka connects
    assert all(line.startswith("refused: ") for line in refused), result.stderr
    assert (
        "tenant acme configdb (postgres@localhost" in refused[0]
        and "password authentication failed" in refused[0]
    )
    assert "s3 bucket gim-local" in refused[2] and "certificate verify failed" in refused[2]
    assert f"connected: kafka ({env['GIM_KAFKA_BOOTSTRAP_SERVERS']})" in result.stdout
    for secret in ("not-the-password", stack.pg_password(), env["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_running_stack_is_not_switched_between_profiles(secure: tuple[LocalStack, dict[str, str]]) -> None:
    from gim_dagster.stack import StackError

    stack, _ = secure
    with pytest.raises(
        StackError, match=r"^the local stack is up with --secure; run `gim stack down` first$"
    ):
        LocalStack(stack.state_dir).up()
    assert stack.secure


def test_any_command_meeting_a_refused_connection_says_so_in_one_line(
    secure: tuple[LocalStack, dict[str, str]], untrusted_ca: str, tmp_path: Path
) -> None:
    """Not only the check: `gim infomart migrate` against a server whose certificate it does not trust."""
    stack, env = secure
    url = sa.make_url(env["GIM_PG_SERVER_URL"]).update_query_dict({"sslrootcert": untrusted_ca})
    settings = tmp_path / "gim.yaml"
    settings.write_text(
        f"postgres:\n  server_url: '{url.render_as_string(hide_password=False)}'\ntenants:\n  - name: acme\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "gim_dagster.cli", "infomart", "migrate", "--tenant", "acme"],
        env={
            "PATH": str(Path(sys.executable).parent),
            "GIM_STATE_DIR": str(tmp_path / "no-stack"),
            "GIM_SETTINGS": str(settings),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot connect: ") and "certificate verify failed" in lines[0]
    assert f"port {url.port} failed" in lines[0], lines[0]  # libpq names the server
    assert stack.pg_password() not in result.stderr + result.stdout
