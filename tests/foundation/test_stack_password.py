"""The local stack's PostgreSQL asks every connection for its password (no trust), kept private."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from gim_dagster.stack import PG_USER, LocalStack, StackError, _postgres_bin_path, _postgres_system_user


def _refusal(url: sa.URL) -> str:
    """The server's answer to a connection attempt with this URL ('' if it was let in)."""
    try:
        psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)).close()
    except psycopg.OperationalError as exc:
        return str(exc)
    return ""


def _without_password(url: sa.URL) -> sa.URL:
    return sa.URL.create(
        url.drivername, username=url.username, host=url.host, port=url.port, database=url.database
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_local_postgres_refuses_no_password_and_a_wrong_one(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(state_dir / "no-such-pgpass"))  # never ~/.pgpass
    stack = LocalStack(state_dir)
    env = stack.up()
    try:
        password = stack.pg_password()
        assert len(password) >= 24
        assert _mode(stack.pg_password_file) == 0o600 and _mode(stack.env_file) == 0o600
        assert "trust" not in (stack.pgdata / "pg_hba.conf").read_text().split("#")[-1]
        url = sa.make_url(env["GIM_PG_SERVER_URL"])
        assert url.password == password and password in env["DAGSTER_PG_URL"]
        assert _refusal(url) == ""
        assert "no password supplied" in _refusal(_without_password(url))
        assert "password authentication failed" in _refusal(url.set(password=password[:-1] + "x"))
    finally:
        stack.down()


def _trusting_pgdata(stack: LocalStack) -> None:
    """What `gim stack up` made before passwords: a data directory that trusts every connection."""
    bin_path, user = _postgres_bin_path(), _postgres_system_user()
    stack._init_pgdata(bin_path, user, stack.pgdata)  # the layout `up` makes, then trusting as before
    stack.pg_password_file.unlink()
    hba = stack.pgdata / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 trust\n")


def test_a_trusting_state_dir_is_migrated_to_a_password(state_dir: Path) -> None:
    stack = LocalStack(state_dir)
    stack.state_dir.mkdir(parents=True, exist_ok=True)
    _trusting_pgdata(stack)
    env = stack.up()
    try:
        url = sa.make_url(env["GIM_PG_SERVER_URL"])
        assert url.password == stack.pg_password()
        assert _refusal(url) == ""
        assert "no password supplied" in _refusal(_without_password(url))
        assert "trust" not in (stack.pgdata / "pg_hba.conf").read_text()
    finally:
        stack.down()


def test_a_data_dir_without_its_password_is_refused_in_one_line(state_dir: Path) -> None:
    stack = LocalStack(state_dir)
    stack.state_dir.mkdir(parents=True, exist_ok=True)
    stack._init_pgdata(_postgres_bin_path(), _postgres_system_user(), stack.pgdata)
    stack.pg_password_file.unlink()
    with pytest.raises(StackError) as refused:
        stack.up()
    message = str(refused.value)
    assert "\n" not in message and "remove" in message and str(stack.pgdata) in message
    assert PG_USER not in message
    assert not subprocess.run(["pgrep", "-f", str(stack.pgdata)], capture_output=True).stdout


def test_a_running_stack_without_a_password_file_says_what_to_do(state_dir: Path) -> None:
    """A stack started by a version without passwords is still up when this one runs `gim stack up`."""
    stack = LocalStack(state_dir)
    stack.up()
    try:
        stack.pg_password_file.unlink()
        with pytest.raises(StackError, match=r"run `gim stack down`, then `gim stack up`") as refused:
            stack.up()
        assert "\n" not in str(refused.value)
    finally:
        stack.down()
