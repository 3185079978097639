"""`gim dev` (the README demo command until `gim demo` exists) serves the code location in the UI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def test_gim_dev_serves_the_ui_on_dagster_postgres_storage(tmp_path: Path, state_dir: Path) -> None:
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
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        LocalStack(state).down()
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert "Exception in ASGI application" not in output, output[-3000:]
