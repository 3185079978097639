"""`gim demo`, the README's first command: the whole system end to end on a fresh local stack, twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance

from gim_dagster.stack import PG15_BIN, LocalStack

ROOT = Path(__file__).parents[2]
STAGES = ("gca_snapshot", "gsp_microbatch", "infomart_load", "infomart_maintenance", "gim_export")


DEMO = [sys.executable, "-m", "gim_dagster.cli", "demo", "--hours", "1", "--agents", "8"]
DEMO += ["--calls-per-hour", "40", "--json", "--no-metrics"]


def _demo(env: dict[str, str], argv: list[str] = DEMO) -> dict:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.stdout.strip(), result.stderr[-4000:]
    summary = json.loads(result.stdout)
    assert result.returncode == (0 if summary["ok"] else 1), result.stderr[-4000:]
    return summary


def test_demo_reconciles_twice_and_leaves_runs_in_the_instance(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = state_dir
    env = {**os.environ, "GIM_STATE_DIR": str(state), "GIM_SETTINGS": str(ROOT / "gim.yaml")}
    try:
        first = _demo(env)
        problems = {t["tenant"]: (t["differences"], t["export_problems"]) for t in first["tenants"]}
        assert first["ok"], problems
        for tenant in first["tenants"]:
            assert tenant["differences"] == 0 and tenant["export_verified"]
            assert tenant["dead_lettered"] == tenant["malformed_injected"]
            assert tenant["facts"]["interaction_fact"] == tenant["interactions"] > 0
            index = Path(tenant["reports"])  # the standard reports, written after the reconciliation
            assert index.name == "index.html" and index.is_relative_to(state / "demo" / "reports")
            assert len(list(index.parent.glob("*.html"))) == 6, tenant["reports"]

        second = _demo(env)
        assert second["ok"]
        for before, after in zip(first["tenants"], second["tenants"], strict=True):
            assert after["interactions"] > before["interactions"]  # the next window, added to the first
            assert after["facts"]["interaction_fact"] == after["interactions"]
            assert after["export_folders"] >= 1

        for key, value in LocalStack(state).environment().items():
            monkeypatch.setenv(key, value)
        with DagsterInstance.get() as instance:
            for stage in STAGES:
                assert instance.fetch_materializations(AssetKey(stage), limit=1).records, stage
    finally:
        LocalStack(state).down()


def _kill_demo_after(env: dict[str, str], progress: str) -> None:
    """Run `gim demo` and SIGKILL it as soon as it reports ``progress`` (a line it prints when a step is
    done or about to begin), wherever it is then."""
    proc = subprocess.Popen(
        DEMO, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(progress):
            proc.kill()
            break
    proc.wait(600)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-20:])


def test_demo_killed_at_step_boundaries_resumes_to_zero_differences(state_dir: Path) -> None:
    """A kill right after a tenant's GCA snapshot used to mutate the Configuration DB a second time and
    produce the window again (470 interactions missing, 471 extra; thousands of dead letters). Each step is
    journaled before it is taken, so a re-run resumes where the killed one was."""
    env = {**os.environ, "GIM_STATE_DIR": str(state_dir), "GIM_SETTINGS": str(ROOT / "gim.yaml")}
    try:
        for progress in ("acme: simulating", "acme: gca_snapshot", "globex: seeded the Configuration DB"):
            _kill_demo_after(env, progress)
        summary = _demo(env)
        for tenant in summary["tenants"]:
            assert tenant["differences"] == 0, tenant["reconciliation"]
            assert tenant["dead_lettered"] == tenant["malformed_injected"], tenant
            assert tenant["export_verified"], tenant["export_problems"]
        assert summary["ok"]
    finally:
        LocalStack(state_dir).down()


@pytest.mark.skipif(
    not (PG15_BIN / "postgres").exists(),
    reason=f"the secure stack needs Debian's PostgreSQL 15 in {PG15_BIN} (apt-get install postgresql-15)",
)
def test_secure_demo_reconciles_over_tls(state_dir: Path) -> None:
    env = {**os.environ, "GIM_STATE_DIR": str(state_dir), "GIM_SETTINGS": str(ROOT / "gim.yaml")}
    stack = LocalStack(state_dir)
    try:
        summary = _demo(env, [*DEMO, "--secure"])
        assert summary["ok"], [
            (t["tenant"], t["differences"], t["export_problems"]) for t in summary["tenants"]
        ]
        for tenant in summary["tenants"]:
            assert tenant["differences"] == 0 and tenant["export_verified"]
        assert stack.secure
        # The server the demo used takes TLS only: the same URL without TLS is refused.
        url = sa.make_url(stack.environment()["GIM_PG_SERVER_URL"]).update_query_dict({"sslmode": "disable"})
        with pytest.raises(sa.exc.OperationalError, match="no encryption"):
            sa.create_engine(url).connect()
    finally:
        stack.down()
