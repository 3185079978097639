"""``gim simulate traffic`` to a file, with a ledger; bad input exits non-zero with one line."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from gim_dagster.commands.simulate_traffic import traffic
from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.sim import Ledger
from gim_dagster.core.sim.sinks import read_file

app = typer.Typer()
app.command()(traffic)


def test_traffic_to_file_with_ledger(tmp_path: Path) -> None:
    out, ledger = tmp_path / "records.tsv", tmp_path / "ledger"
    args = [
        "--tenant",
        "acme",
        "--start",
        "2026-11-02T09:00:00Z",
        "--hours",
        "1",
        "--calls-per-hour",
        "60",
        "--chats-per-hour",
        "10",
        "--emails-per-hour",
        "5",
        "--seed",
        "4",
        "--agents",
        "6",
        "--malformed",
        "0.02",
        "--out-file",
        str(out),
        "--ledger-dir",
        str(ledger),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "records/s" in result.output
    records = read_file(out)
    run = Ledger.read(ledger).run
    assert len(records) == run["records"]
    bad = sum(
        len(parse_records(k, [r.value for r in records if r.kind == k], "acme")[1])
        for k in ("voice", "digital", "agent")
    )
    assert bad == run["faults"].get("malformed", 0) > 0
    again = tmp_path / "again.tsv"
    assert CliRunner().invoke(app, [*args[:-4], "--out-file", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_bad_input_is_one_line_and_non_zero(tmp_path: Path) -> None:
    base = ["--tenant", "acme", "--start", "2026-11-02", "--out-file", str(tmp_path / "x")]
    for extra in (["--late", "2"], ["--hours", "0"]):
        result = CliRunner().invoke(app, [*base, *extra])
        assert result.exit_code == 2 and "error:" in result.output
    assert (
        CliRunner()
        .invoke(app, ["--tenant", "Bad Name", "--start", "2026-11-02", "--out-file", "x"])
        .exit_code
        == 2
    )
    assert (
        CliRunner().invoke(app, ["--tenant", "acme", "--start", "yesterday", "--out-file", "x"]).exit_code
        == 2
    )
    assert (
        CliRunner()
        .invoke(app, ["--tenant", "acme", "--start", "2026-11-02"], env={"GIM_KAFKA_BOOTSTRAP_SERVERS": ""})
        .exit_code
        == 2
    )
