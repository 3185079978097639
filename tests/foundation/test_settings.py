"""The settings file: valid files load; wrong ones give one line naming the field and the line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gim_dagster.settings import EnvRef, SettingsError, load_settings, parse_settings


def test_example_settings_file_loads() -> None:
    settings = load_settings(Path(__file__).parents[2] / "gim.yaml")
    assert settings.tenant_names == ["acme", "globex"]
    assert settings.tenant("globex").retention_days == 90
    assert settings.tenant("acme").retention_days == 400
    assert settings.tenant("acme").partition_period == "day"
    assert settings.tenant("globex").partition_period == "week"
    assert isinstance(settings.kafka.bootstrap_servers, EnvRef)


@pytest.mark.parametrize("name", ["ac'me", "a/b", "Acme", "", "a b", "-x", 'q"uote'])
def test_bad_tenant_names_are_refused(name: str) -> None:
    text = f"tenants:\n  - name: acme\n  - name: {name!r}\n"
    with pytest.raises(SettingsError) as err:
        parse_settings(text, "t.yaml")
    assert str(err.value).startswith("t.yaml:3: tenants[1].name:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tenants:\n  - name: acme\n    retention_days: 0\n", "t.yaml:3: tenants[0].retention_days:"),
        ("kafka:\n  topic_partitions: 1\n  bogus: 2\ntenants:\n  - name: a\n", "t.yaml:3: kafka.bogus:"),
        (
            "tenants:\n  - name: a\n    time_zone: Mars/Base\n",
            "t.yaml:3: tenants[0].time_zone: unknown time zone",
        ),
        (
            "tenants:\n  - name: a\n    partition_period: fortnight\n",
            "t.yaml:3: tenants[0].partition_period: Input should be 'day', 'week' or 'month'",
        ),
        ("tenants: []\n", "t.yaml:1: tenants:"),
        ("tenants:\n  - name: a\n  - name: a\n", "tenant 'a' is listed twice"),
        ("tenants: [\n", "not valid YAML"),
        (
            "defaults:\n  export:\n    encoding: klingon\ntenants:\n  - name: a\n",
            "t.yaml:3: defaults.export.encoding:",
        ),
        (
            "tenants:\n  - name: a\n    export:\n      custom_tables: [Notes-2]\n",
            "t.yaml:4: tenants[0].export.custom_tables: custom table 'Notes-2'",
        ),
    ],
)
def test_bad_files_name_field_and_line(text: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings(text, "t.yaml")
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_env_references_resolve_at_use(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings(
        "postgres:\n  server_url: {env: T_PG}\ntenants:\n  - name: t1\n    infomart_dsn: {env: T_IM}\n"
    )
    monkeypatch.setenv("T_PG", "postgresql+psycopg://u:secret@db:5432/postgres")
    monkeypatch.setenv("T_IM", "postgresql+psycopg://u@im:5432/mart")
    tenant = settings.tenant("t1")
    assert tenant.configdb_dsn() == "postgresql+psycopg://u:secret@db:5432/gim_config_t1"
    assert tenant.infomart_dsn() == "postgresql+psycopg://u@im:5432/mart"
    monkeypatch.delenv("T_IM")
    with pytest.raises(SettingsError, match="T_IM is not set"):
        tenant.infomart_dsn()


def test_cli_reports_a_bad_settings_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "gim.yaml"
    bad.write_text("tenants:\n  - name: a/b\n")
    result = subprocess.run(
        [sys.executable, "-m", "gim_dagster.cli", "settings", "check", "--file", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"GIM_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "gim.yaml:2: tenants[0].name" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
