"""The metrics process end to end: a real pipeline piece (GSP, Info Mart load, export) materialized
through the local stack's Dagster instance on PostgreSQL, `MetricsService` on free ports, both `/metrics`
endpoints read over HTTP, a tenant whose Info Mart is down, a real Prometheus scraping the two endpoints,
and `gim metrics serve` as a process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from dagster import DagsterInstance, Definitions, materialize
from dagster_aws.s3 import S3Resource
from prometheus_client.parser import text_string_to_metric_families

from gim_dagster.assets import export as export_assets
from gim_dagster.assets import gsp as gsp_assets
from gim_dagster.assets import infomart as infomart_assets
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, TrafficParams, simulate
from gim_dagster.core.sim.sinks import produce
from gim_dagster.metrics import MetricsService
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import Settings, load_settings
from gim_dagster.stack import S3_ACCESS_KEY, S3_BUCKET, S3_SECRET_KEY, free_port
from gim_dagster.tenant_runs import run_tags
from tests.gsp.helpers import write_empty_gca_snapshot

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
Samples = dict[str, list[tuple[dict[str, str], float]]]


@dataclass
class Served:
    good: str
    down: str
    new: str
    settings_file: Path
    ports: tuple[int, int]
    produced: int
    gsp_meta: dict[str, Any]
    load_meta: dict[str, Any]
    export_meta: dict[str, Any]


def _settings(path: Path, stack: dict[str, str], prefix: str, tenants: tuple[str, str, str]) -> Path:
    good, down, new = tenants
    path.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": stack["GIM_KAFKA_BOOTSTRAP_SERVERS"]},
                "s3": {
                    "bucket": S3_BUCKET,
                    "prefix": prefix,
                    "endpoint_url": stack["GIM_S3_ENDPOINT_URL"],
                    "access_key_id": S3_ACCESS_KEY,
                    "secret_access_key": S3_SECRET_KEY,
                },
                "postgres": {"server_url": stack["GIM_PG_SERVER_URL"]},
                "dagster": {"gsp_batch_max_records": 100},
                "metrics": {"gsp_port": free_port(), "gim_port": free_port()},
                "tenants": [
                    {"name": good},
                    {"name": new},  # its Info Mart database does not exist yet: not an error
                    # An Info Mart nobody listens for: every refresh of its GIM gauges fails.
                    {
                        "name": down,
                        "infomart_dsn": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
                    },
                ],
            }
        )
    )
    return path


def _stack_instance(stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> DagsterInstance:
    """The local stack's Dagster instance (dagster-postgres), as `gim stack up` configures it."""
    monkeypatch.setenv("DAGSTER_PG_URL", stack["DAGSTER_PG_URL"])
    return DagsterInstance.from_config(stack["DAGSTER_HOME"])


def _produce_traffic(kafka: KafkaResource, tenant: str) -> int:
    params = TrafficParams(
        tenant=tenant,
        start=datetime(2026, 1, 5, 8, tzinfo=UTC),
        hours=0.5,
        calls_per_hour=60,
        chats_per_hour=10,
        seed=4,
        malformed=0.05,
        shifts="window",
        daily_shape=False,
    )
    sim = simulate(Roster.synthetic(6, seed=1), params)
    names = TenantNames(tenant)
    kafka.ensure_topics(list(names.raw_topics))
    return produce(kafka.producer(), sim.records, names)


def _pipeline_piece(settings: Settings, settings_file: Path, stack: dict[str, str]) -> dict[str, Any]:
    file = str(settings_file)
    parts = [m.definitions(settings) for m in (gsp_assets, infomart_assets, export_assets)]
    defs = Definitions.merge(*parts)
    assets = {a.key.to_user_string(): a for a in defs.assets}  # type: ignore[union-attr]
    resources = {
        "kafka": KafkaResource(bootstrap_servers=stack["GIM_KAFKA_BOOTSTRAP_SERVERS"]),
        "s3": S3Resource(
            endpoint_url=stack["GIM_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        ),
        "postgres": PostgresResource(settings_file=file),
    }
    return {"assets": assets, "resources": resources}


@pytest.fixture(scope="module")
def served(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    unique = uuid.uuid4().hex[:8]
    good, down, new = f"mg{unique}", f"md{unique}", f"mn{unique}"
    tmp = tmp_path_factory.mktemp("metrics")
    settings_file = _settings(tmp / "gim.yaml", stack, f"test-{unique}", (good, down, new))
    settings = load_settings(settings_file)
    piece = _pipeline_piece(settings, settings_file, stack)
    assets, resources = piece["assets"], piece["resources"]
    produced = _produce_traffic(resources["kafka"], good)
    s3 = boto3.client(
        "s3",
        endpoint_url=stack["GIM_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )
    write_empty_gca_snapshot(s3, S3_BUCKET, f"test-{unique}", good)
    with pytest.MonkeyPatch.context() as monkeypatch:
        instance = _stack_instance(stack, monkeypatch)
        ok = materialize(
            [assets["gsp_microbatch"], assets["infomart_load"], assets["gim_export"]],
            partition_key=good,
            resources=resources,
            instance=instance,
            tags=run_tags(good, "gsp"),
        )
        assert ok.success

        def meta(node: str) -> dict[str, Any]:
            values = ok.asset_materializations_for_node(node)[0].metadata
            return {key: value.value for key, value in values.items()}

        failed = materialize(
            [assets["infomart_load"]],
            partition_key=down,
            resources=resources,
            instance=instance,
            tags=run_tags(down, "load"),
            raise_on_error=False,
        )
        assert not failed.success
        service = MetricsService(settings, instance, interval_s=0.5)
        ports = service.start("127.0.0.1", settings.metrics.gsp_port, settings.metrics.gim_port)
        try:
            yield Served(
                good,
                down,
                new,
                settings_file,
                ports,
                produced,
                meta("gsp_microbatch"),
                meta("infomart_load"),
                meta("gim_export"),
            )
        finally:
            service.stop()
            instance.dispose()


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def total(samples: Samples, name: str, **labels: str) -> float | None:
    """Sum of the samples of ``name`` whose labels include ``labels`` (None if there is none)."""
    values = [v for lbl, v in samples.get(name, []) if labels.items() <= lbl.items()]
    return sum(values) if values else None


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_gsp_endpoint_shows_lag_counters_and_histogram_per_tenant(served: Served) -> None:
    good = served.good
    gsp = wait_for(  # after a whole refresh: both tenants' live gauges are there
        lambda: (
            (s := scrape(served.ports[0]))
            and total(s, "gim_gsp_raw_lag_seconds", tenant=served.down) == 0
            and s
        )
    )
    meta = served.gsp_meta
    assert meta["records"] == 100  # the bound: the rest waits on the raw topics
    assert total(gsp, "gim_gsp_raw_lag_records", tenant=good) == served.produced - 100
    assert {lbl["topic"] for lbl, _ in gsp["gim_gsp_raw_lag_records"] if lbl["tenant"] == good} == set(
        TenantNames(good).raw_topics
    )
    assert total(gsp, "gim_gsp_raw_lag_seconds", tenant=good) > 0
    assert 0 <= total(gsp, "gim_gsp_checkpoint_age_seconds", tenant=good) < 300
    assert total(gsp, "gim_gsp_records_read_total", tenant=good) == 100
    assert total(gsp, "gim_gsp_events_processed_total", tenant=good) == sum(meta["events_by_type"].values())
    for table, count in meta["facts_by_table"].items():
        assert total(gsp, "gim_gsp_facts_produced_total", tenant=good, table=table) == count
    assert total(gsp, "gim_gsp_dead_lettered_records_total", tenant=good) == meta["dead_lettered"]
    assert total(gsp, "gim_gsp_microbatch_duration_seconds_count", tenant=good) == 1
    assert total(gsp, "gim_gsp_raw_lag_records", tenant=served.down) == 0  # no raw topics yet


def test_gim_endpoint_shows_loads_exports_and_failed_runs(served: Served) -> None:
    good, down = served.good, served.down
    gim = wait_for(lambda: (s := scrape(served.ports[1])) and "gim_infomart_load_lag_records" in s and s)
    for table, count in served.load_meta["rows_inserted"].items():
        assert (
            total(gim, "gim_infomart_rows_loaded_total", tenant=good, table=table, operation="inserted")
            == count
        )
    assert total(gim, "gim_infomart_records_loaded_total", tenant=good) == served.load_meta["records_read"]
    assert total(gim, "gim_infomart_load_lag_records", tenant=good) == 0  # the load drained the facts
    assert total(gim, "gim_infomart_load_lag_seconds", tenant=good) == 0
    assert total(gim, "gim_export_last_success_timestamp_seconds", tenant=good) > time.time() - 600
    if "hwm_to" in served.export_meta:
        assert total(gim, "gim_export_hwm_audit_key", tenant=good) == served.export_meta["hwm_to"]
    assert total(gim, "gim_failed_runs_total", tenant=down, stage="load") == 1
    unlabelled = [
        (name, lbl)
        for name, rows in gim.items()
        for lbl, _ in rows
        if name.startswith("gim_") and "tenant" not in lbl
    ]
    assert unlabelled == []


def test_a_tenant_whose_info_mart_is_down_does_not_stop_the_others(served: Served) -> None:
    gim = wait_for(
        lambda: (
            (s := scrape(served.ports[1]))
            and (total(s, "gim_metrics_refresh_errors_total", tenant=served.down, source="gim") or 0) >= 2
            and s
        )
    )
    assert gim, "no refresh error counted for the tenant whose Info Mart is down"
    assert total(gim, "gim_infomart_load_lag_records", tenant=served.down) is None  # withdrawn, not stale
    assert total(gim, "gim_infomart_load_lag_records", tenant=served.good) == 0  # still refreshed
    assert total(gim, "gim_infomart_load_lag_records", tenant=served.new) == 0
    assert total(gim, "gim_metrics_refresh_errors_total", tenant=served.new) in (None, 0)
    assert total(gim, "gim_metrics_refresh_errors_total", tenant=served.good) in (None, 0)
    gsp = scrape(served.ports[0])
    assert total(gsp, "gim_metrics_refresh_errors_total", tenant=served.down) in (None, 0)


@pytest.mark.skipif(
    shutil.which("prometheus") is None, reason="prometheus is not installed (apt-get install prometheus)"
)
def test_real_prometheus_scrapes_both_endpoints(served: Served, tmp_path: Path) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "gim-alerts.yml")]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["gim-gsp"]["static_configs"][0]["targets"] = [f"127.0.0.1:{served.ports[0]}"]
    jobs["gim"]["static_configs"][0]["targets"] = [f"127.0.0.1:{served.ports[1]}"]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def query(expr: str) -> list[dict[str, Any]]:
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return json.load(response)["data"]["result"]
            except OSError:
                return []

        up = wait_for(
            lambda: {r["metric"]["job"]: r["value"][1] for r in query("up")} == {"gim-gsp": "1", "gim": "1"}
        )
        assert up, f"targets not up: {query('up')}\n{(tmp_path / 'prometheus.log').read_text()[-2000:]}"
        lag = query(f'gim_gsp_raw_lag_records{{tenant="{served.good}"}}')
        assert {r["metric"]["job"] for r in lag} == {"gim-gsp"} and len(lag) == 3
        loaded = query(f'gim_infomart_rows_loaded_total{{tenant="{served.good}"}}')
        assert loaded and {r["metric"]["job"] for r in loaded} == {"gim"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/rules", timeout=5) as response:
            groups = json.load(response)["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert rules and all(rule["health"] != "err" for rule in rules)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def test_gim_metrics_serve_command_runs_until_sigterm(
    served: Served, stack: dict[str, str], tmp_path: Path
) -> None:
    """The typer command as a process on the stack's instance (the lead wires it into `gim`)."""
    gsp_port, gim_port = free_port(), free_port()
    code = "import typer; from gim_dagster.commands.metrics import serve; typer.run(serve)"
    argv = [sys.executable, "-c", code, "--settings", str(served.settings_file)]
    argv += ["--gsp-port", str(gsp_port), "--gim-port", str(gim_port), "--interval", "1"]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DAGSTER_HOME": stack["DAGSTER_HOME"],
        "DAGSTER_PG_URL": stack["DAGSTER_PG_URL"],
    }
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        def serving() -> bool:
            try:
                gsp, gim = scrape(gsp_port), scrape(gim_port)
            except OSError:
                return proc.poll() is not None  # stop waiting if the process died
            lag = total(gsp, "gim_gsp_raw_lag_records", tenant=served.good)
            return lag is not None and total(gim, "gim_failed_runs_total", tenant=served.down) == 1

        assert wait_for(serving) and proc.poll() is None
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert f"http://127.0.0.1:{gsp_port}/metrics" in out.decode()
