"""`gim demo`, the README's first command: the whole system end to end on a fresh local stack, twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from gim_dagster.stack import LocalStack

ROOT = Path(__file__).parents[2]
STAGES = ("gca_snapshot", "gsp_microbatch", "infomart_load", "infomart_maintenance", "gim_export")


def _demo(env: dict[str, str]) -> dict:
    argv = [
        sys.executable,
        "-m",
        "gim_dagster.cli",
        "demo",
        "--hours",
        "1",
        "--agents",
        "8",
        "--calls-per-hour",
        "40",
        "--json",
        "--no-metrics",
    ]
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
