"""The code location loads: `dagster definitions validate` passes on the shipped settings file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    env = {**os.environ, "GIM_SETTINGS": str(ROOT / "gim.yaml"), "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "gim_dagster.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_instance_files_match_dagsters_schema() -> None:
    from dagster._core.instance.config import dagster_instance_config

    for folder, name in (
        (ROOT / "deploy", "dagster.yaml"),
        (ROOT / "deploy", "dagster-k8s.yaml"),
        (ROOT / "gim_dagster", "stack_dagster.yaml"),
    ):
        config, _ = dagster_instance_config(str(folder), name)
        assert "postgres" in config["storage"], name
        assert config["run_coordinator"]["config"]["tag_concurrency_limits"], name
