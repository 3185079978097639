"""Issue #21 item 8: options and environment values are checked before anything is touched.

A wrong option value, or a settings value from the environment that is not what its field needs, ends the
command with one line on stderr and exit status 2, before a database, the local stack, Kafka, S3 or a file is
touched. The commands run as a user runs them (the `gim` entry point in-process, or a `gim` subprocess);
tripwires on the local stack, SQLAlchemy engines, S3 clients and the traffic sink make any side effect fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
import sqlalchemy

from gim_dagster import cli
from gim_dagster.commands import simulate_traffic
from gim_dagster.settings import SettingsError, load_settings, parse_settings
from gim_dagster.stack import LocalStack

SETTINGS = "tenants:\n  - name: acme\n    infomart_dsn: {env: ACME_INFOMART_DSN}\n"
STACK_ENV = (
    "GIM_PG_SERVER_URL",
    "GIM_KAFKA_BOOTSTRAP_SERVERS",
    "GIM_S3_ENDPOINT_URL",
    "GIM_S3_BUCKET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ACME_INFOMART_DSN",
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    "GIM_S3_CA_BUNDLE",
)
START = "2026-01-05T08:00:00Z"


class Workspace:
    """An empty state directory (absent), a one-tenant settings file, no stack variables, tripwires set."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys
        self.state = root / "state"
        self.settings = root / "gim.yaml"
        self.touched: list[str] = []

    def tripwire(self, what: str) -> Callable[..., None]:
        def touch(*_args: object, **_kwargs: object) -> None:
            self.touched.append(what)
            raise RuntimeError(f"test tripwire: {what} was touched")

        return touch

    def gim(self, *args: str) -> tuple[int, str, str]:
        """Run `gim ARGS` through the console script's entry point: (exit status, stdout, stderr)."""
        self.capsys.readouterr()
        sys.argv = ["gim", *args]
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err

    def run(self, *args: str) -> str:
        """Run `gim ARGS`; expect exit 2 with one `error:` line, no traceback and nothing touched."""
        code, out, err = self.gim(*args)
        assert self.touched == [], f"touched {self.touched} before failing: {out}{err}"
        assert code == 2, out + err
        assert not self.state.exists() or not any(self.state.iterdir())
        return one_error_line(err)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture()
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Workspace:
    space = Workspace(tmp_path, capsys)
    space.settings.write_text(SETTINGS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    for name in STACK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIM_STATE_DIR", str(space.state))
    monkeypatch.setenv("GIM_SETTINGS", str(space.settings))
    monkeypatch.setattr(LocalStack, "up", space.tripwire("the local stack"))
    monkeypatch.setattr(sqlalchemy, "create_engine", space.tripwire("a database engine"))
    monkeypatch.setattr(boto3, "client", space.tripwire("an S3 client"))
    monkeypatch.setattr(simulate_traffic, "run_traffic", space.tripwire("the traffic sink"))
    return space


# ---- options -------------------------------------------------------------------------------------------

TRAFFIC = (
    "simulate",
    "traffic",
    "--tenant",
    "acme",
    "--start",
    START,
    "--agents",
    "3",
    "--out-file",
    "o.jsonl",
)
CONFIG = ("simulate", "config", "--tenant", "acme")

OPTION_CASES = [
    (("demo", "--hours", "-1"), "--hours"),
    (("demo", "--hours", "0"), "--hours"),
    (("demo", "--hours", "nan"), "--hours"),
    (("demo", "--hours", "745"), "--hours"),
    (("demo", "--agents", "0"), "--agents"),
    (("demo", "--calls-per-hour", "-5"), "--calls-per-hour"),
    (("demo", "--calls-per-hour", "inf"), "--calls-per-hour"),
    ((*CONFIG, "--agents", "0"), "--agents"),
    ((*CONFIG, "--groups", "0"), "--groups"),
    ((*CONFIG, "--skills", "-1"), "--skills"),
    ((*CONFIG, "--mutate", "--changes", "0"), "--changes"),
    ((*TRAFFIC, "--hours", "0"), "--hours"),
    ((*TRAFFIC, "--hours", "-1"), "--hours"),
    ((*TRAFFIC, "--calls-per-hour", "-1"), "--calls-per-hour"),
    ((*TRAFFIC, "--chats-per-hour", "nan"), "--chats-per-hour"),
    ((*TRAFFIC, "--emails-per-hour", "-1"), "--emails-per-hour"),
    ((*TRAFFIC, "--duplicates", "1.5"), "--duplicates"),
    ((*TRAFFIC, "--late", "-0.1"), "--late"),
    ((*TRAFFIC, "--malformed", "2"), "--malformed"),
    ((*TRAFFIC, "--late-window", "0"), "--late-window"),
    ((*TRAFFIC, "--agents", "0"), "--agents"),
    ((*TRAFFIC, "--rate", "0"), "--rate"),
    ((*TRAFFIC, "--rate", "nan"), "--rate"),
    (
        ("simulate", "traffic", "--tenant", "acme", "--start", START, "--out-file", "o", "--hours", "0"),
        "--hours",
    ),
    (("metrics", "serve", "--gsp-port", "0"), "--gsp-port"),
    (("metrics", "serve", "--gim-port", "70000"), "--gim-port"),
    (("metrics", "serve", "--interval", "0"), "--interval"),
    (("metrics", "serve", "--interval", "nan"), "--interval"),
    (("dev", "--port", "0"), "--port"),
    (("dev", "--port", "65536"), "--port"),
    (("import", "--source", "exports", "--target", "sqlite://", "--encoding", "klingon"), "--encoding"),
]


@pytest.mark.parametrize(("args", "option"), OPTION_CASES, ids=[" ".join(a) for a, _ in OPTION_CASES])
def test_a_wrong_option_fails_in_one_line_before_anything_is_touched(
    ws: Workspace, args: tuple[str, ...], option: str
) -> None:
    line = ws.run(*args)
    assert option in line, line
    assert not (ws.root / "o.jsonl").exists()


def test_good_options_still_get_through_the_checks(ws: Workspace) -> None:
    """The checks stop nothing valid: the traffic command reaches its sink (the tripwire) with these."""
    with pytest.raises(RuntimeError, match="the traffic sink"):
        ws.gim(*TRAFFIC, "--hours", "0.5", "--duplicates", "1", "--late", "0", "--late-window", "3600")


def test_demo_with_negative_hours_touches_nothing(state_dir: Path, tmp_path: Path) -> None:
    """The issue's own example, as a user types it: `gim demo --hours -1` in a fresh state directory."""
    state = state_dir / "gim"
    settings = tmp_path / "gim.yaml"
    settings.write_text(SETTINGS)
    env = {"PATH": os.environ.get("PATH", ""), "GIM_STATE_DIR": str(state), "GIM_SETTINGS": str(settings)}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gim_dagster.cli", "demo", "--hours", "-1"],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
    finally:
        LocalStack(state).down()  # only if the regression is back and it started one
    assert result.returncode == 2, result.stderr[-3000:]
    assert "--hours" in one_error_line(result.stderr)
    assert not state.exists(), sorted(p.name for p in state.iterdir())


# ---- values from the environment -----------------------------------------------------------------------

ENV_CASES = [
    ("GIM_PG_SERVER_URL", "not a url"),
    ("GIM_PG_SERVER_URL", "mysql://u@db:3306/x"),
    ("ACME_INFOMART_DSN", "not a url"),
    ("ACME_INFOMART_DSN", ""),
    ("GIM_KAFKA_BOOTSTRAP_SERVERS", "not a url"),
    ("GIM_KAFKA_BOOTSTRAP_SERVERS", "broker:99999"),
    ("GIM_KAFKA_BOOTSTRAP_SERVERS", ""),
    ("GIM_S3_ENDPOINT_URL", "not a url"),
    ("GIM_S3_ENDPOINT_URL", "ftp://127.0.0.1:9000"),
    ("GIM_S3_BUCKET", ""),
]


@pytest.mark.parametrize(("name", "value"), ENV_CASES, ids=[f"{n}={v!r}" for n, v in ENV_CASES])
def test_settings_check_validates_values_from_the_environment(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    line = ws.run("settings", "check")
    assert f"environment variable {name}" in line, line
    assert str(ws.settings) in line, line


def test_settings_check_passes_good_values_from_the_environment(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIM_PG_SERVER_URL", "postgresql+psycopg://gim:secret@127.0.0.1:5432/postgres")
    monkeypatch.setenv("ACME_INFOMART_DSN", "postgresql+psycopg://gim@db.example:5432/mart")
    monkeypatch.setenv("GIM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092, SSL://kafka-2.example:9093,kafka-3")
    monkeypatch.setenv("GIM_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("GIM_S3_BUCKET", "gim-local")
    code, out, err = ws.gim("settings", "check")
    assert code == 0, out + err
    assert out.startswith("acme: time zone UTC"), out + err


def test_settings_check_does_not_print_a_secret_from_the_environment(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_INFOMART_DSN", "mysql://gim:hunter2@db:3306/mart")
    line = ws.run("settings", "check")
    assert "ACME_INFOMART_DSN" in line and "hunter2" not in line, line


def test_settings_check_of_an_env_dsn_that_is_not_a_url_as_a_user_runs_it(tmp_path: Path) -> None:
    settings = tmp_path / "gim.yaml"
    settings.write_text(SETTINGS)
    result = subprocess.run(
        [sys.executable, "-m", "gim_dagster.cli", "settings", "check", "--file", str(settings)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"GIM_STATE_DIR": str(tmp_path / "state"), "ACME_INFOMART_DSN": "not a url"},
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert "tenants[0].infomart_dsn" in line and "environment variable ACME_INFOMART_DSN" in line, line


SETTINGS_COMMANDS = [
    ("demo",),
    ("demo", "--no-metrics"),
    ("dev", "--no-metrics"),
    ("stack", "up"),
    ("configdb", "init", "--tenant", "acme"),
    (*CONFIG,),
    ("simulate", "traffic", "--tenant", "acme", "--start", START, "--out-file", "o.jsonl"),
    ("infomart", "migrate"),
    ("infomart", "maintain"),
    ("metrics", "serve"),
]


@pytest.mark.parametrize("args", SETTINGS_COMMANDS, ids=" ".join)
def test_commands_that_load_settings_check_the_environment_first(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(ws.root / "dagster"))
    monkeypatch.setenv("GIM_PG_SERVER_URL", "not a url")
    line = ws.run(*args)
    # The file leaves postgres.server_url at its default, {env: GIM_PG_SERVER_URL}; the line says so.
    assert "gim.yaml: postgres.server_url (default): environment variable GIM_PG_SERVER_URL" in line, line


def test_option_values_from_the_environment_are_checked_like_the_settings(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIM_KAFKA_BOOTSTRAP_SERVERS", "not a url")
    line = ws.run("simulate", "traffic", "--tenant", "acme", "--start", START, "--agents", "3")
    assert "environment variable GIM_KAFKA_BOOTSTRAP_SERVERS" in line, line
    monkeypatch.setenv("GIM_S3_ENDPOINT_URL", "not a url")
    line = ws.run("import", "--source", "s3://bucket/prefix", "--target", "sqlite://")
    assert "environment variable GIM_S3_ENDPOINT_URL" in line, line


def test_option_values_given_on_the_command_line_are_checked_too(ws: Workspace) -> None:
    args = ("simulate", "traffic", "--tenant", "acme", "--start", START, "--agents", "3")
    assert "--bootstrap-servers" in ws.run(*args, "--bootstrap-servers", "not a url")
    line = ws.run("import", "--source", "s3://b/p", "--target", "sqlite://", "--endpoint-url", "s3 here")
    assert "--endpoint-url" in line


# ---- literal values in the file get the same checks ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgres:\n  server_url: not a url\ntenants:\n  - name: a\n",
            "t.yaml:2: postgres.server_url: not a",
        ),
        (
            "tenants:\n  - name: a\n    configdb_dsn: 'mysql://u@h/x'\n",
            "t.yaml:3: tenants[0].configdb_dsn: not a PostgreSQL URL",
        ),
        (
            "kafka:\n  bootstrap_servers: not a url\ntenants:\n  - name: a\n",
            "t.yaml:2: kafka.bootstrap_servers:",
        ),
        ("kafka:\n  bootstrap_servers: 'b:0'\ntenants:\n  - name: a\n", "t.yaml:2: kafka.bootstrap_servers:"),
        ("s3:\n  endpoint_url: localhost:9000\ntenants:\n  - name: a\n", "t.yaml:2: s3.endpoint_url:"),
        ("s3:\n  bucket: ''\ntenants:\n  - name: a\n", "t.yaml:2: s3.bucket:"),
    ],
)
def test_literal_values_get_the_same_checks(text: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings(text, "t.yaml")
    assert expected in str(err.value)
    assert "\n" not in str(err.value) and "(and " not in str(err.value)


def test_good_literal_values_load(tmp_path: Path) -> None:
    file = tmp_path / "gim.yaml"
    file.write_text(
        "kafka:\n  bootstrap_servers: 'b1:9092,b2:9092'\n"
        "s3:\n  bucket: gim-local\n  endpoint_url: 'https://s3.example:9000'\n"
        "postgres:\n  server_url: 'postgresql+psycopg://u:p@db:5432/postgres'\n"
        "tenants:\n  - name: a\n    configdb_dsn: 'postgresql://u@cfg/config'\n"
    )
    assert load_settings(file).tenant("a").configdb_dsn() == "postgresql://u@cfg/config"


def test_an_env_dsn_is_checked_when_used_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values are read when used: one that changed after loading still gives a one-line SettingsError."""
    settings = parse_settings("postgres:\n  server_url: {env: T_PG}\n" + SETTINGS)
    monkeypatch.setenv("T_PG", "not a url")
    monkeypatch.setenv("ACME_INFOMART_DSN", "not a url")
    tenant = settings.tenant("acme")
    with pytest.raises(SettingsError, match="environment variable T_PG"):
        tenant.configdb_dsn()
    with pytest.raises(SettingsError, match="environment variable ACME_INFOMART_DSN"):
        tenant.infomart_dsn()
