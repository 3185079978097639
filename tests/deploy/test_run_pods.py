"""Run tags that place work: every run a sensor or schedule requests carries its stage's `dagster-k8s/config`
(settings `dagster.run_pods`), which the K8sRunLauncher turns into the run pod's resources."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from dagster import RunRequest, build_schedule_context
from dagster_k8s.job import (
    USER_DEFINED_K8S_CONFIG_KEY,
    DagsterK8sJobConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)

from gim_dagster.definitions import build_definitions
from gim_dagster.settings import RunPods, Settings, SettingsError, Stage, parse_settings
from gim_dagster.tenant_runs import K8S_CONFIG_TAG, request_tags, run_tags

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "gim_dagster" / "assets"
STAGES: tuple[Stage, ...] = get_args(Stage)


def settings_with(run_pods: str = "") -> Settings:
    dagster = f"dagster:\n  run_pods:\n{run_pods}" if run_pods else ""
    return parse_settings(f"{dagster}tenants:\n  - name: acme\n", "t.yaml")


def pod_container(tags: dict[str, str]) -> dict:
    """The run pod's container as dagster-k8s builds the Job from the run's tags."""
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(job_image="gim-dagster:test", dagster_home="/opt/dagster/dagster_home"),
        args=["dagster", "api", "execute_run"],
        job_name="dagster-run-test",
        user_defined_k8s_config=get_user_defined_k8s_config(tags),
    ).to_dict()
    return job["spec"]["template"]["spec"]


def test_the_tag_key_is_dagster_k8s_own() -> None:
    assert K8S_CONFIG_TAG == USER_DEFINED_K8S_CONFIG_KEY


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_gets_its_default_pod(stage: Stage) -> None:
    settings = settings_with()
    tags = request_tags(settings, "acme", stage)
    assert {k: v for k, v in tags.items() if k != K8S_CONFIG_TAG} == run_tags("acme", stage)
    spec = pod_container(tags)
    resources = spec["containers"][0]["resources"]
    default = getattr(RunPods(), stage)
    assert resources["requests"] == default.requests.quantities()
    assert resources["limits"] == default.limits.quantities()
    assert resources["requests"]["cpu"] and resources["limits"]["memory"]


def test_gsp_and_load_are_sized_apart_by_default() -> None:
    pods = RunPods()
    assert pods.gsp.requests != pods.load.requests and pods.gsp.limits != pods.load.limits


def test_the_settings_file_places_a_stage() -> None:
    settings = settings_with(
        "    gsp:\n"
        "      requests: {cpu: '2', memory: 6Gi}\n"
        "      limits: {cpu: '4', memory: 8Gi}\n"
        "      node_selector: {gim.example/pool: gsp}\n"
    )
    spec = pod_container(request_tags(settings, "acme", "gsp"))
    assert spec["containers"][0]["resources"] == {
        "requests": {"cpu": "2", "memory": "6Gi"},
        "limits": {"cpu": "4", "memory": "8Gi"},
        "claims": None,
    }
    assert spec["node_selector"] == {"gim.example/pool": "gsp"}
    load = json.loads(request_tags(settings, "acme", "load")[K8S_CONFIG_TAG])
    assert load == RunPods().load.k8s_config(), "the other stages keep their defaults"


def test_numbers_are_quantities() -> None:
    settings = settings_with("    gsp: {requests: {cpu: 2, memory: 1073741824}, limits: {cpu: 2.5}}\n")
    pod = settings.dagster.run_pods.gsp
    assert pod.requests.quantities() == {"cpu": "2", "memory": "1073741824"}
    assert pod.limits.quantities() == {"cpu": "2.5"}


@pytest.mark.parametrize(
    ("run_pods", "expected"),
    [
        (
            "    gsp: {requests: {cpu: lots}}\n",
            "t.yaml:3: dagster.run_pods.gsp.requests.cpu: 'lots' is not a CPU",
        ),
        (
            "    load: {limits: {memory: 2GB}}\n",
            "t.yaml:3: dagster.run_pods.load.limits.memory: '2GB' is not",
        ),
        (
            "    load: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}\n",
            "limits.memory 1Gi is below requests",
        ),
        ("    export: {requests: {cpu: 500m}, limits: {cpu: '0.25'}}\n", "limits.cpu 0.25 is below requests"),
        ("    gsp: {cpus: 1}\n", "t.yaml:3: dagster.run_pods.gsp.cpus:"),
        ("    transform: {}\n", "t.yaml:3: dagster.run_pods.transform:"),
    ],
)
def test_wrong_pods_are_refused_with_their_line(run_pods: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected.replace(".", r"\.")):
        settings_with(run_pods)


def _tags_from_request_tags(tags: ast.expr, assigned: set[str]) -> bool:
    if isinstance(tags, ast.Call):
        return isinstance(tags.func, ast.Name) and tags.func.id == "request_tags"
    if isinstance(tags, ast.Name):
        return tags.id in assigned
    if isinstance(tags, ast.Dict):  # {**tags, EXTRA: …}
        return any(
            key is None and _tags_from_request_tags(value, assigned)
            for key, value in zip(tags.keys, tags.values, strict=True)
        )
    return False


def test_every_run_request_of_the_assets_carries_request_tags() -> None:
    """Static, over gim_dagster/assets/*.py: the sensors need live services to run, this needs none."""
    requests = 0
    stages: set[str] = set()
    for path in sorted(ASSETS.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        assigned = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and _tags_from_request_tags(node.value, set())
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name == "request_tags":
                stage = node.args[2]
                assert isinstance(stage, ast.Constant), f"{path.name}:{node.lineno}: a literal stage"
                stages.add(stage.value)
            if name == "RunRequest":
                requests += 1
                tags = {kw.arg: kw.value for kw in node.keywords}.get("tags")
                assert tags is not None and _tags_from_request_tags(tags, assigned), (
                    f"{path.name}:{node.lineno}: RunRequest without request_tags(…)"
                )
    assert requests >= 7  # gca (sensor, schedule), gsp, load, maintenance, aggregates, export
    assert stages == set(STAGES)


def test_the_schedules_requests_carry_their_stage_pod() -> None:
    defs = build_definitions(str(ROOT / "gim.yaml"))
    settings = parse_settings((ROOT / "gim.yaml").read_text(), environment=False)
    seen: set[str] = set()
    for schedule in defs.schedules or []:
        context = build_schedule_context(
            scheduled_execution_time=datetime(2026, 1, 5, 2, 30, tzinfo=UTC),
            repository_def=defs.get_repository_def(),
        )
        result = schedule.evaluate_tick(context)
        assert result.run_requests, schedule.name
        for request in result.run_requests:
            assert isinstance(request, RunRequest)
            stage = request.tags["gim/stage"]
            expected = settings.dagster.run_pods.for_stage(stage).k8s_config()  # type: ignore[arg-type]
            assert json.loads(request.tags[K8S_CONFIG_TAG]) == expected, schedule.name
            seen.add(stage)
    assert seen == {"gca", "maintenance", "export", "reports"}
