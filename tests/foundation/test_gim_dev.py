"""`gim dev` serves the code location in the UI, and a signal stops everything it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from gim_dagster.stack import LocalStack, free_port

ROOT = Path(__file__).parents[2]
QUERY = b'{"query": "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"}'


def _graphql(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=QUERY, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP])
def test_gim_dev_serves_the_ui_and_a_signal_stops_everything_it_started(
    tmp_path: Path, state_dir: Path, signo: signal.Signals
) -> None:
    """`gim dev` used to exit on SIGTERM and leave `dagster dev`, its webserver, daemon and code servers
    running; SIGHUP is what it gets when its terminal closes."""
    state = state_dir
    port = free_port()
    env = {**os.environ, "GIM_STATE_DIR": str(state), "GIM_SETTINGS": str(ROOT / "gim.yaml")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gim_dagster.cli", "dev", "--port", str(port), "--no-metrics"],
        env=env,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        answer = None
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(1)
            answer = _graphql(port)
        assert answer is not None, "the Dagster UI did not answer"
        assert answer["data"]["repositoriesOrError"]["nodes"], answer
        assert (state / "dagster_home" / "dagster.yaml").exists()
        # `dagster dev` and what it started (the stack's services stay up until `gim stack down`).
        dev = [p for p in psutil.Process(proc.pid).children() if "dagster" in p.cmdline()[1:3]]
        started = [*dev, *(c for p in dev for c in p.children(recursive=True))]
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert "dagster" in names and "webserver" in names and "_daemon" in names, names
        proc.send_signal(signo)  # to `gim dev` alone, as `kill` or a closing terminal would
        assert proc.wait(120) == 128 + signo
        left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not left, [" ".join(p.cmdline()) for p in left]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        LocalStack(state).down()
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert "Exception in ASGI application" not in output, output[-3000:]
