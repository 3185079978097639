"""`gim report`: the pages of a range of local days, where it says; one-line errors with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gim_dagster.cli import app
from tests.reports.conftest import TENANT, Mart, write_settings


@pytest.fixture()
def settings(mart: Mart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(
        "GIM_SETTINGS", str(write_settings(tmp_path / "gim.yaml", mart.url, tmp_path / "unused"))
    )
    monkeypatch.setenv("GIM_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def test_report_writes_the_pages_and_prints_the_index(mart: Mart, settings: Path) -> None:
    day = mart.first.isoformat()
    result = CliRunner().invoke(app, ["report", "--tenant", TENANT, "--from", day, "--to", day])
    assert result.exit_code == 0, result.output
    index = settings / "state" / "reports" / TENANT / f"{day}_{day}" / "index.html"
    assert str(index) in result.output and index.exists()

    out = settings / "elsewhere"
    result = CliRunner().invoke(app, ["report", "-t", TENANT, "--from", day, "--to", day, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists() and (out / "volume.html").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--tenant", TENANT, "--from", "2026-02-30", "--to", "2026-03-01"],
            "--from: expected a date YYYY-MM-DD",
        ),
        (
            ["--tenant", TENANT, "--from", "2026-03-01", "--to", "tomorrow"],
            "--to: expected a date YYYY-MM-DD",
        ),
        (
            ["--tenant", TENANT, "--from", "2026-03-02", "--to", "2026-03-01"],
            "--to 2026-03-01 is before --from",
        ),
        (["--tenant", "nobody", "--from", "2026-03-01", "--to", "2026-03-01"], "unknown tenant 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(settings: Path, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["report", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output


def test_an_info_mart_without_aggregates_is_one_line(
    fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIM_SETTINGS", str(write_settings(tmp_path / "gim.yaml", fresh_db_url, tmp_path)))
    monkeypatch.setenv("GIM_STATE_DIR", str(tmp_path / "state"))
    result = CliRunner().invoke(app, ["report", "-t", TENANT, "--from", "2026-01-05", "--to", "2026-01-05"])
    assert result.exit_code == 2, result.output
    assert "the Info Mart has no aggregate views" in result.output and "gim infomart migrate" in result.output
