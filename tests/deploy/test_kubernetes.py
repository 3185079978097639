"""The Kubernetes deployment files parse and validate without a cluster.

- deploy/kubernetes/*.yaml: every object through the `kubernetes` client's models (a key the model does not
  know is dropped on the way in, so a round trip that changes the object is a typo or a wrong type).
- deploy/helm/values.yaml: against the keys of the official Dagster chart. The chart's values.schema.json is
  generated from pydantic models in dagster-io/dagster (helm/dagster/schema/schema/charts/…); CHART below
  records the keys of the sections used here, read from those models (values.py, subschema/daemon.py,
  run_launcher.py, postgresql.py, global_.py, service_account.py, retention.py, migrate.py and
  dagster_user_deployments/subschema/user_deployments.py). Where the schema refers to a Kubernetes
  definition (volumes, resources, security contexts, env sources), the value goes through the client's model.
- The three places that say how runs are queued and launched agree: the values, deploy/dagster.yaml and
  deploy/dagster-k8s.yaml.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)
from kubernetes.client import ApiClient

from gim_dagster.settings import EnvRef, parse_settings
from gim_dagster.tenant_runs import request_tags

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VALUES = DEPLOY / "helm" / "values.yaml"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
SECRET_KEYS = re.compile(
    r"^(KAFKA_USER|KAFKA_PASSWORD|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|[A-Z0-9_]+_DSN)$"
)
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY|DSN", re.IGNORECASE)


class K8s:
    """A value the chart's schema types as a Kubernetes definition: validated by the client's model."""

    def __init__(self, model: str, many: bool = False) -> None:
        self.model, self.many = model, many


ANY = object()  # the chart's schema allows any value here (dict[str, Any], annotations, labels)
PULL_POLICY = ("Always", "IfNotPresent", "Never")
IMAGE = {"repository": str, "tag": str, "pullPolicy": PULL_POLICY}
POD = {
    "env": ANY,
    "envConfigMaps": K8s("V1ConfigMapEnvSource", many=True),
    "envSecrets": K8s("V1SecretEnvSource", many=True),
    "annotations": ANY,
    "labels": ANY,
    "deploymentLabels": ANY,
    "nodeSelector": ANY,
    "affinity": K8s("V1Affinity"),
    "tolerations": K8s("V1Toleration", many=True),
    "podSecurityContext": K8s("V1PodSecurityContext"),
    "securityContext": K8s("V1SecurityContext"),
    "resources": K8s("V1ResourceRequirements"),
    "livenessProbe": ANY,
    "readinessProbe": ANY,
    "startupProbe": ANY,
    "volumeMounts": K8s("V1VolumeMount", many=True),
    "volumes": K8s("V1Volume", many=True),
    "schedulerName": str,
}
TAG_LIMIT = {"key": str, "value": {"applyLimitPerUniqueValue": bool}, "limit": int}
TICK_RETENTION = {"purgeAfterDays": {"skipped": int, "success": int, "failure": int, "started": int}}
CHART: dict[str, Any] = {
    "global": {
        "postgresqlSecretName": str,
        "dagsterHome": str,
        "serviceAccountName": str,
        "celeryConfigSecretName": str,
        "dagsterInstanceConfigMap": str,
    },
    "generatePostgresqlPasswordSecret": bool,
    "serviceAccount": {"create": bool, "name": str, "annotations": ANY},
    "postgresql": {
        "enabled": bool,
        "postgresqlScheme": str,
        "postgresqlHost": str,
        "postgresqlUsername": str,
        "postgresqlPassword": str,
        "postgresqlDatabase": str,
        "postgresqlParams": ANY,
        "service": {"port": int},
        "image": ANY,
    },
    "dagsterWebserver": {"replicaCount": int, "image": IMAGE, "enableReadOnly": bool, **POD},
    "dagster-user-deployments": {
        "enabled": bool,
        "enableSubchart": bool,
        "imagePullSecrets": K8s("V1LocalObjectReference", many=True),
        "deployments": [
            {
                "name": str,
                "image": IMAGE,
                "port": int,
                "dagsterApiGrpcArgs": [str],
                "codeServerArgs": [str],
                "includeConfigInLaunchedRuns": {"enabled": bool},
                "deploymentNamespace": str,
                **POD,
            }
        ],
    },
    "runLauncher": {
        "type": ("CeleryK8sRunLauncher", "K8sRunLauncher", "CustomRunLauncher"),
        "config": {
            "k8sRunLauncher": {
                "image": IMAGE,
                "imagePullPolicy": PULL_POLICY,
                "jobNamespace": str,
                "loadInclusterConfig": bool,
                "kubeconfigFile": str,
                "envConfigMaps": K8s("V1ConfigMapEnvSource", many=True),
                "envSecrets": K8s("V1SecretEnvSource", many=True),
                "envVars": [str],
                "volumeMounts": K8s("V1VolumeMount", many=True),
                "volumes": K8s("V1Volume", many=True),
                "labels": ANY,
                "failPodOnRunFailure": bool,
                "resources": K8s("V1ResourceRequirements"),
                "schedulerName": str,
                "securityContext": K8s("V1SecurityContext"),
                "runK8sConfig": {
                    "containerConfig": ANY,
                    "podSpecConfig": ANY,
                    "podTemplateSpecMetadata": ANY,
                    "jobSpecConfig": ANY,
                    "jobMetadata": ANY,
                },
            }
        },
    },
    "dagsterDaemon": {
        "enabled": bool,
        "image": IMAGE,
        "heartbeatTolerance": int,
        "runCoordinator": {
            "enabled": bool,
            "type": ("QueuedRunCoordinator", "CustomRunCoordinator"),
            "config": {
                "queuedRunCoordinator": {
                    "maxConcurrentRuns": int,
                    "tagConcurrencyLimits": [TAG_LIMIT],
                    "dequeueIntervalSeconds": int,
                    "dequeueNumWorkers": int,
                    "dequeueUseThreads": bool,
                }
            },
        },
        # dict[str, Any] in the schema; these are the keys the chart's instance template reads.
        "runMonitoring": {
            "enabled": bool,
            "startTimeoutSeconds": int,
            "cancelTimeoutSeconds": int,
            "maxRuntimeSeconds": int,
            "maxResumeRunAttempts": int,
            "pollIntervalSeconds": int,
            "freeSlotsAfterRunEndSeconds": int,
        },
        "runRetries": {"enabled": bool, "maxRetries": int, "retryOnAssetOrOpFailure": bool},
        **POD,
    },
    "migrate": {"enabled": bool, "extraContainers": ANY, "initContainers": ANY},
    "retention": {"enabled": bool, "sensor": TICK_RETENTION, "schedule": {"purgeAfterDays": int}},
    "telemetry": {"enabled": bool},
}

API = ApiClient()


def k8s_object(data: Any, model: str) -> Any:
    """``data`` through the client's model; it must come back unchanged (no unknown key, no wrong type)."""
    obj = API.deserialize(types.SimpleNamespace(data=json.dumps(data)), model)
    back = API.sanitize_for_serialization(obj)
    assert back == data, f"{model}: {data!r} reads back as {back!r}"
    return obj


def check_against(value: Any, spec: Any, path: str) -> None:
    if spec is ANY:
        return
    if isinstance(spec, K8s):
        for item in value if spec.many else [value]:
            k8s_object(item, spec.model)
        if spec.many:
            assert isinstance(value, list), f"{path}: a list"
        return
    if isinstance(spec, tuple):
        assert value in spec, f"{path}: {value!r} is not one of {spec}"
        return
    if isinstance(spec, list):
        assert isinstance(value, list), f"{path}: a list"
        for i, item in enumerate(value):
            check_against(item, spec[0], f"{path}[{i}]")
        return
    if isinstance(spec, dict):
        assert isinstance(value, dict), f"{path}: a mapping"
        for key, item in value.items():
            assert key in spec, f"{path}.{key}: not a key of the Dagster chart's values"
            check_against(item, spec[key], f"{path}.{key}")
        return
    assert isinstance(value, spec) and not (spec is int and isinstance(value, bool)), (
        f"{path}: {spec.__name__}"
    )


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture(scope="module")
def k8s_instance() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "dagster-k8s.yaml").read_text())


def manifests() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, doc) for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_values_use_only_the_charts_keys(values: dict[str, Any]) -> None:
    check_against(values, CHART, "values")


def test_values_hold_no_secret(values: dict[str, Any]) -> None:
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if SECRET_NAME.search(str(key)) and not str(key).endswith("SecretName"):
                    assert not isinstance(item, str), f"{path}.{key}: a secret in the values file"
                walk(item, f"{path}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(values, "values")
    assert values["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in values["postgresql"]


def test_values_run_the_image_and_launch_a_pod_per_run(values: dict[str, Any]) -> None:
    (code,) = values["dagster-user-deployments"]["deployments"]
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert f"EXPOSE {code['port']}\n" in dockerfile
    assert code["dagsterApiGrpcArgs"] == ["-m", "gim_dagster.definitions"]
    assert code["image"]["tag"] != "latest" and code["includeConfigInLaunchedRuns"]["enabled"] is True
    assert values["postgresql"]["enabled"] is False, "Dagster's storage is an external PostgreSQL"
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    for key in ("envConfigMaps", "envSecrets", "volumes", "volumeMounts"):
        assert launcher[key] == code[key], f"runs and the code server see the same {key}"
    assert {"name": "GIM_SETTINGS", "value": "/opt/gim/gim.yaml"} in code["env"]
    assert "GIM_SETTINGS=/opt/gim/gim.yaml" in launcher["envVars"]
    assert {"name": "gim-settings", "configMap": {"name": "gim-settings"}} in launcher["volumes"]
    assert {m["mountPath"] for m in launcher["volumeMounts"]} == {"/opt/gim"}


def test_a_gsp_run_gets_its_pod_from_the_launcher_and_its_tag(values: dict[str, Any]) -> None:
    """The chart's launcher config and a GSP run's `dagster-k8s/config` tag, merged as the K8sRunLauncher
    merges them (launcher first, run tags over it), into the run's Job."""
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    extra = launcher["runK8sConfig"]
    settings = parse_settings("tenants: [{name: acme}]\n", environment=False)
    context = K8sContainerContext(
        image_pull_policy=launcher["imagePullPolicy"],
        env_config_maps=[source["name"] for source in launcher["envConfigMaps"]],
        env_secrets=[source["name"] for source in launcher["envSecrets"]],
        env_vars=launcher["envVars"],
        volumes=launcher["volumes"],
        volume_mounts=launcher["volumeMounts"],
        labels=launcher["labels"],
        resources=launcher["resources"],
        security_context=launcher["securityContext"],
        run_k8s_config=UserDefinedDagsterK8sConfig(
            pod_spec_config=extra["podSpecConfig"], job_spec_config=extra["jobSpecConfig"]
        ),
    ).merge(
        K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(request_tags(settings, "acme", "gsp")))
    )
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(job_image="gim-dagster:test", dagster_home="/opt/dagster/dagster_home"),
        args=["dagster", "api", "execute_run"],
        job_name="dagster-run-test",
        user_defined_k8s_config=context.run_k8s_config,
    )
    assert job.spec.ttl_seconds_after_finished == 86400 and job.spec.backoff_limit == 0
    pod = job.spec.template.spec
    assert pod.security_context.run_as_non_root and pod.security_context.run_as_user == 10001
    assert [v.config_map.name for v in pod.volumes] == ["gim-settings"]
    (container,) = pod.containers
    assert container.security_context.allow_privilege_escalation is False
    gsp = settings.dagster.run_pods.gsp
    assert container.resources.requests == gsp.requests.quantities()
    assert container.resources.limits == gsp.limits.quantities()
    assert {"gim-dagster-env", "gim-dagster-secrets"} == {
        (source.config_map_ref or source.secret_ref).name for source in container.env_from
    }
    assert {(e.name, e.value) for e in container.env} >= {("GIM_SETTINGS", "/opt/gim/gim.yaml")}
    assert [(m.name, m.mount_path) for m in container.volume_mounts] == [("gim-settings", "/opt/gim")]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_one_run_queue_and_launcher_in_all_three_places(
    values: dict[str, Any], k8s_instance: dict[str, Any]
) -> None:
    single = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert {k: v for k, v in k8s_instance.items() if k != "run_launcher"} == single
    assert "run_launcher" not in single

    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator = single["run_coordinator"]["config"]
    assert queued["maxConcurrentRuns"] == coordinator["max_concurrent_runs"]
    assert queued["dequeueIntervalSeconds"] == coordinator["dequeue_interval_seconds"] == 1
    assert queued["tagConcurrencyLimits"] == [
        {"key": lim["key"], "value": lim["value"], "limit": lim["limit"]}
        for lim in coordinator["tag_concurrency_limits"]
    ]
    for section, helm in (("run_monitoring", daemon["runMonitoring"]), ("run_retries", daemon["runRetries"])):
        assert helm == {camel(k): v for k, v in single[section].items()}, section
    assert (
        values["retention"]["schedule"]["purgeAfterDays"]
        == single["retention"]["schedule"]["purge_after_days"]
    )
    sensor_days = values["retention"]["sensor"]["purgeAfterDays"]
    assert {k: sensor_days[k] for k in single["retention"]["sensor"]["purge_after_days"]} == single[
        "retention"
    ]["sensor"]["purge_after_days"]

    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    config = k8s_instance["run_launcher"]["config"]
    assert config["env_config_maps"] == [s["name"] for s in launcher["envConfigMaps"]]
    assert config["env_secrets"] == [s["name"] for s in launcher["envSecrets"]]
    assert config["env_vars"] == launcher["envVars"]
    assert (config["volumes"], config["volume_mounts"]) == (launcher["volumes"], launcher["volumeMounts"])
    assert (config["resources"], config["security_context"]) == (
        launcher["resources"],
        launcher["securityContext"],
    )
    assert config["postgres_password_secret"] == values["global"]["postgresqlSecretName"]
    assert config["service_account_name"] == values["global"]["serviceAccountName"]


@pytest.mark.parametrize(("name", "doc"), manifests(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_every_manifest_is_a_valid_object(name: str, doc: dict[str, Any]) -> None:
    k8s_object(doc, {"Deployment": "V1Deployment"}.get(doc["kind"], f"V1{doc['kind']}"))
    assert doc["metadata"]["namespace"] == "gim", name


def test_metrics_deployment_and_service() -> None:
    docs = {doc["kind"]: doc for name, doc in manifests() if name == "metrics.yaml"}
    deployment, service = docs["Deployment"], docs["Service"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"gsp-metrics": 9249, "gim-metrics": 8249}
    assert container["command"][:3] == ["gim", "metrics", "serve"] and "0.0.0.0" in container["command"]
    assert {p["port"]: p["targetPort"] for p in service["spec"]["ports"]} == {
        9249: "gsp-metrics",
        8249: "gim-metrics",
    }
    selector = service["spec"]["selector"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    notes = service["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/path"] == "/metrics"
    assert {notes["prometheus.io/port-gsp"], notes["prometheus.io/port-gim"]} == {"9249", "8249"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v["configMap"]["name"] for v in pod["spec"]["volumes"]}
    assert volumes[mounts["/opt/dagster/dagster_home/dagster.yaml"]] == "gim-dagster-instance"
    assert volumes[mounts["/opt/gim"]] == "gim-settings"


def test_the_settings_configmap_is_a_valid_settings_file_fed_by_the_env_and_the_secret() -> None:
    docs = {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == "ConfigMap"}
    settings = parse_settings(docs["gim-settings"]["data"]["gim.yaml"], "gim-settings", environment=False)
    env = docs["gim-dagster-env"]["data"]
    assert not [name for name in env if SECRET_NAME.search(name)], "secrets belong in gim-dagster-secrets"
    referenced: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, EnvRef):
            referenced.add(node.env)
        elif hasattr(node, "model_fields"):
            for field in type(node).model_fields:
                walk(getattr(node, field))
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(settings)
    assert referenced, "the example reads its secrets from the environment"
    for name in sorted(referenced):
        assert name in env or SECRET_KEYS.match(name), f"{name} is in neither gim-dagster-env nor the Secret"
    assert settings.dagster.run_pods.gsp != settings.dagster.run_pods.load
