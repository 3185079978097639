"""deploy/dagster-k8s.yaml loads in Dagster with its K8sRunLauncher, against a kubeconfig the test writes, and
the launcher builds a GSP run's Job as it would on the cluster (nothing is sent to one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import sqlalchemy as sa
import yaml
from dagster import DagsterInstance
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s import K8sRunLauncher
from dagster_k8s.job import construct_dagster_k8s_job
from kubernetes.client import V1Job

from gim_dagster.settings import parse_settings
from gim_dagster.tenant_runs import request_tags

ROOT = Path(__file__).resolve().parents[2]
SERVER = "https://k8s.gim.test.invalid:6443"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: {{server: "{SERVER}", insecure-skip-tls-verify: true}}
users:
  - name: test
    user: {{token: not-a-real-token}}
contexts:
  - name: test
    context: {{cluster: test, user: test, namespace: gim}}
current-context: test
"""


@pytest.fixture()
def instance(tmp_path: Path, fresh_db_url: str) -> Iterator[DagsterInstance]:
    """The file as shipped, but for two things a test cannot have: the cluster's own credentials (a
    kubeconfig instead) and the production database (the storage section names a fresh test database)."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "dagster-k8s.yaml").read_text())
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    launcher = config["run_launcher"]["config"]
    assert launcher["load_incluster_config"] is True, "in the cluster, the pod's service account"
    launcher.update(load_incluster_config=False, kubeconfig_file=str(tmp_path / "kubeconfig"))
    url = sa.make_url(fresh_db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    config["storage"] = {"postgres": {"postgres_url": url}}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    loaded = DagsterInstance.from_config(str(tmp_path))
    try:
        yield loaded
    finally:
        loaded.dispose()


def test_the_k8s_instance_loads_with_its_run_launcher(instance: DagsterInstance) -> None:
    launcher = instance.run_launcher
    assert isinstance(launcher, K8sRunLauncher)
    assert kubernetes.client.Configuration.get_default_copy().host == SERVER
    assert launcher.job_namespace == "gim" and launcher.fail_pod_on_run_failure is True
    assert launcher.env_secrets == ["gim-dagster-secrets"]
    assert launcher.env_config_maps == ["gim-dagster-env"]
    coordinator = instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    limits = {
        limit["key"]: limit["limit"] for limit in coordinator.get_run_queue_config().tag_concurrency_limits
    }
    assert limits == {"gim/tenant-stage": 1, "gim/tenant": 3}
    assert instance.run_monitoring_enabled and instance.run_retries_enabled


def gsp_job(instance: DagsterInstance, gsp_pod: str) -> V1Job:
    """The Job the launcher builds for a GSP run with settings ``dagster.run_pods.gsp: <gsp_pod>``."""
    launcher = instance.run_launcher
    assert isinstance(launcher, K8sRunLauncher)
    settings = parse_settings(f"dagster: {{run_pods: {{gsp: {gsp_pod}}}}}\ntenants: [{{name: acme}}]\n")
    run = DagsterRun(
        job_name="gsp_microbatch_job", run_id="0" * 36, tags=request_tags(settings, "acme", "gsp")
    )
    context = launcher.get_container_context_for_run(run)
    assert context.namespace == "gim"
    return construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image="gim-dagster:0.1.0", run_launcher=launcher),
        args=["dagster", "api", "execute_run"],
        job_name="dagster-run-test",
        user_defined_k8s_config=context.run_k8s_config,
    )


def test_a_gsp_run_gets_its_stage_pod(instance: DagsterInstance) -> None:
    job = gsp_job(
        instance,
        "{requests: {cpu: '2', memory: 3Gi}, limits: {memory: 6Gi}, node_selector: {gim.example/pool: gsp}}",
    )
    pod = job.spec.template.spec
    assert pod.service_account_name == "gim-dagster" and pod.node_selector == {"gim.example/pool": "gsp"}
    assert pod.security_context.run_as_user == 10001 and job.spec.ttl_seconds_after_finished == 86400
    (container,) = pod.containers
    assert container.image == "gim-dagster:0.1.0"
    assert container.resources.requests == {"cpu": "2", "memory": "3Gi"}
    assert container.resources.limits == {"memory": "6Gi"}
    env = {e.name: e for e in container.env}
    assert env["GIM_SETTINGS"].value == "/opt/gim/gim.yaml"
    assert env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref.name == "gim-dagster-postgres"
    mounts = {m.mount_path: m.name for m in container.volume_mounts}
    volumes = {v.name: v.config_map.name for v in pod.volumes if v.config_map}
    assert volumes[mounts["/opt/gim"]] == "gim-settings"
    # The run worker gets the instance by reference in its command (`--instance-ref`), so no instance mount.
    assert env["DAGSTER_HOME"].value == "/opt/dagster/dagster_home"


def test_a_stage_without_limits_does_not_inherit_the_launchers(instance: DagsterInstance) -> None:
    """The launcher's default limit (2Gi) under a stage's larger request would be a pod Kubernetes refuses:
    the stage's resources replace the default as a whole."""
    (container,) = gsp_job(instance, "{requests: {cpu: '2', memory: 6Gi}}").spec.template.spec.containers
    assert container.resources.requests == {"cpu": "2", "memory": "6Gi"}
    assert not container.resources.limits
    assert container.security_context.allow_privilege_escalation is False, (
        "the launcher's other settings stay"
    )
    assert {m.mount_path for m in container.volume_mounts} == {"/opt/gim"}
