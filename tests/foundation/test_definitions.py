"""The code location loads (`dagster definitions validate`, `dg check defs`) on the shipped settings file, and
defines exactly what docs/operations.md lists."""

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


def test_dg_check_defs(tmp_path: Path) -> None:
    """`dg check defs` reads the project from pyproject.toml's ``[tool.dg]``; run from the repository root."""
    dg = Path(sys.executable).with_name("dg")
    env = {**os.environ, "GIM_SETTINGS": str(ROOT / "gim.yaml"), "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(dg), "check", "defs"], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


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


# What docs/operations.md ("Sensors and schedules") lists: the code location must define exactly these.
ASSETS = {
    "gca_snapshot",
    "gsp_microbatch",
    "infomart_load",
    "infomart_aggregates",
    "infomart_maintenance",
    "gim_export",
    "gim_reexport",
    "infomart_reports",
}
JOBS = {f"{asset}_job" for asset in ASSETS - {"gim_reexport"}}
SENSORS = {
    "gca_config_change_sensor",
    "gsp_raw_events_sensor",
    "infomart_load_sensor",
    "infomart_aggregates_sensor",
}
SCHEDULES = {
    "gca_reconcile_schedule",
    "infomart_maintenance_schedule",
    "gim_export_<tenant>_schedule",
    "infomart_reports_schedule",
}


def test_the_code_location_defines_what_operations_md_lists() -> None:
    from gim_dagster.definitions import build_definitions
    from gim_dagster.settings import load_settings

    settings_file = str(ROOT / "gim.yaml")
    repo = build_definitions(settings_file).get_repository_def()
    tenants = load_settings(settings_file).tenant_names
    per_tenant = {f"gim_export_{tenant}_schedule" for tenant in tenants}
    assert {key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()} == ASSETS
    assert {job.name for job in repo.get_all_jobs()} - {"__ASSET_JOB"} == JOBS
    assert {s.name for s in repo.sensor_defs} == SENSORS
    assert {s.name for s in repo.schedule_defs} == SCHEDULES - {"gim_export_<tenant>_schedule"} | per_tenant
    operations = (ROOT / "docs" / "operations.md").read_text()
    missing = [name for name in ASSETS | JOBS | SENSORS | SCHEDULES if f"`{name}`" not in operations]
    assert not missing, f"docs/operations.md does not list {sorted(missing)}"


def test_importing_the_definitions_module_reads_no_settings_file(tmp_path: Path) -> None:
    """``defs`` is built when Dagster loads the code location (``@dg.definitions``), not on import."""
    env = {**os.environ, "GIM_SETTINGS": str(tmp_path / "absent.yaml")}
    code = "import gim_dagster.definitions as d; print(type(d.defs).__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
