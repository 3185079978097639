"""The local stack starts, stops and recovers with real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from gim_dagster.stack import LocalStack, ServiceRecord


def _answers_all(stack: LocalStack) -> bool:
    return all(s.running and s.answers for s in stack.status())


def test_up_down_twice_and_data_survives(state_dir: Path) -> None:
    stack = LocalStack(state_dir)
    for round_ in range(2):
        env = stack.up()
        assert _answers_all(stack)
        assert stack.up() == env, "up is idempotent"
        engine = sa.create_engine(env["GIM_PG_SERVER_URL"])
        with engine.begin() as conn:
            if round_ == 0:
                conn.execute(sa.text("CREATE TABLE kept (v int)"))
                conn.execute(sa.text("INSERT INTO kept VALUES (42)"))
            assert conn.execute(sa.text("SELECT v FROM kept")).scalar_one() == 42
        engine.dispose()
        pids = [s.pid for s in stack.status()]
        assert sorted(stack.down()) == ["kafka", "postgres", "s3"]
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)
        assert not stack.env_file.exists()


def test_up_replaces_a_crashed_service(state_dir: Path) -> None:
    stack = LocalStack(state_dir)
    stack.up()
    try:
        before = {s.name: s.pid for s in stack.status()}
        psutil.Process(before["kafka"]).kill()
        psutil.Process(before["kafka"]).wait(10)
        assert not next(s for s in stack.status() if s.name == "kafka").running
        stack.up()
        after = {s.name: s.pid for s in stack.status()}
        assert after["kafka"] != before["kafka"]
        assert after["postgres"] == before["postgres"] and after["s3"] == before["s3"]
        assert _answers_all(stack)
    finally:
        stack.down()


def test_up_after_a_postgres_crash_waits_for_its_recovery(state_dir: Path) -> None:
    """Found by bench/chaos.py: after PostgreSQL crashed (immediate shutdown), `up` started it again and
    returned once its port answered, while it was still in crash recovery: creating the Dagster database then
    failed with "the database system is not yet accepting connections"."""
    stack = LocalStack(state_dir)
    env = stack.up()
    try:
        engine = sa.create_engine(env["GIM_PG_SERVER_URL"])
        with engine.begin() as conn:  # WAL for the recovery to replay (written at commit: the stack's server
            conn.execute(sa.text("SET LOCAL synchronous_commit = on"))  # commits asynchronously by default)
            conn.execute(sa.text("CREATE TABLE replayed AS SELECT g AS v FROM generate_series(1, 300000) g"))
        engine.dispose()
        server = psutil.Process(next(s.pid for s in stack.status() if s.name == "postgres"))
        server.send_signal(signal.SIGQUIT)  # immediate shutdown: the restart runs crash recovery
        server.wait(30)
        assert stack.up() == env
        engine = sa.create_engine(env["GIM_PG_SERVER_URL"])
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM replayed")).scalar_one() == 300000
        engine.dispose()
    finally:
        stack.down()


def test_down_never_signals_a_process_it_did_not_start(tmp_path: Path) -> None:
    """A recorded pid now used by another process (pid reuse) is left alone."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stack = LocalStack(tmp_path / "state")
        stack.state_dir.mkdir(parents=True)
        fake = ServiceRecord("kafka", stranger.pid, create_time=1.0, port=1)  # wrong start time: not ours
        stack.record_file.write_text(json.dumps({"kafka": fake.__dict__}))
        assert stack.down() == []
        assert stranger.poll() is None
    finally:
        stranger.kill()


def test_cli_stack_up_status_down(state_dir: Path) -> None:
    env = {"GIM_STATE_DIR": str(state_dir), "PATH": str(Path(sys.executable).parent)}
    gim = [sys.executable, "-m", "gim_dagster.cli"]
    for argv, code in (
        (["stack", "up", "--no-metrics"], 0),
        (["stack", "status"], 0),
        (["stack", "down"], 0),
        (["stack", "status"], 1),
    ):
        result = subprocess.run(gim + argv, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == code, (argv, result.stdout, result.stderr)
    assert "postgres" in result.stdout and "no" in result.stdout


def test_metrics_process_starts_and_stops_with_the_stack(state_dir: Path) -> None:
    import urllib.request

    from gim_dagster.stack import MetricsEndpoints, free_port

    settings = Path(__file__).parents[2] / "gim.yaml"
    endpoints = MetricsEndpoints(str(settings), free_port(), free_port())
    stack = LocalStack(state_dir)
    try:
        stack.up(endpoints)
        assert stack.up(endpoints)  # idempotent: the running metrics process is kept
        metrics = next(s for s in stack.status() if s.name == "metrics")
        assert metrics.running and metrics.answers
        for port in (endpoints.gsp_port, endpoints.gim_port):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
                assert b"gim_" in response.read()
    finally:
        assert "metrics" in stack.down()
    assert not psutil.pid_exists(metrics.pid) or psutil.Process(metrics.pid).status() == "zombie"


def test_a_port_taken_between_choice_and_bind_is_replaced(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process binds the chosen port first: the service starts on another one, no wrong record."""
    import socket

    from gim_dagster import stack as stack_module

    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    real_free_port = stack_module.free_port
    calls = iter(range(1000))
    # Every service's first choice is the taken port, its second a free one.
    monkeypatch.setattr(stack_module, "free_port", lambda: port if next(calls) % 2 == 0 else real_free_port())
    stack = LocalStack(state_dir)
    try:
        env = stack.up()
        records = {s.name: s for s in stack.status()}
        assert all(s.running and s.answers for s in records.values())
        assert port not in {int(a.address.rsplit(":", 1)[1]) for a in records.values()}
        engine = sa.create_engine(env["GIM_PG_SERVER_URL"])
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
        engine.dispose()
        for name in ("postgres", "kafka", "s3"):  # each did meet the taken port first
            assert stack_module._PORT_TAKEN.search((stack.log_dir / f"{name}.log").read_text()), name
    finally:
        stack.down()
        taken.close()
