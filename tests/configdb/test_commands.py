"""`gim configdb init` and `gim simulate config`: real database, one-line errors with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from gim_dagster.commands.configdb import configdb_init
from gim_dagster.commands.simulate_config import simulate_config

app = typer.Typer()
app.command("init")(configdb_init)
app.command("simulate")(simulate_config)


@pytest.fixture()
def settings(tmp_path: Path, pg_server_url: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    tenant = f"c{unique}"
    file = tmp_path / "gim.yaml"
    file.write_text(f"postgres:\n  server_url: '{pg_server_url}'\ntenants:\n  - name: {tenant}\n")
    monkeypatch.setenv("GIM_SETTINGS", str(file))
    yield tenant
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "gim_config_{tenant}" WITH (FORCE)'))
    admin.dispose()


def test_init_seed_and_mutate(settings: str) -> None:
    runner = CliRunner()
    tenant = settings
    init = runner.invoke(app, ["init", "--tenant", tenant])
    assert init.exit_code == 0, init.output
    assert "change counter 0" in init.output
    seeded = runner.invoke(
        app, ["simulate", "--tenant", tenant, "--agents", "5", "--groups", "2", "--skills", "3"]
    )
    assert seeded.exit_code == 0, seeded.output
    assert "6 person" in seeded.output
    mutated = runner.invoke(
        app, ["simulate", "--tenant", tenant, "--mutate", "--changes", "2", "--seed", "4"]
    )
    assert mutated.exit_code == 0, mutated.output
    assert len(mutated.output.strip().splitlines()) == 2


def test_bad_input_is_one_line_and_exit_code_2(settings: str) -> None:
    runner = CliRunner()
    for args, reason in (
        (["init", "--tenant", "nosuch"], "unknown tenant 'nosuch'"),
        (["simulate", "--tenant", settings, "--agents", "0"], "--agents must be at least 1"),
        (["simulate", "--tenant", settings, "--mutate"], "seed it first"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert reason in result.output
        assert len(result.output.strip().splitlines()) == 1
