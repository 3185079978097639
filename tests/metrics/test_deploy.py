"""The shipped Prometheus files: `promtool check rules`, `check config` and the alert rules' unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian: apt-get install -y prometheus)",
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60)


def test_alert_rules_pass_promtool_check_rules() -> None:
    result = promtool("check", "rules", "gim-alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_scrape_config_passes_promtool_check_config() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_as_their_unit_tests_expect() -> None:
    result = promtool("test", "rules", "gim-alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
