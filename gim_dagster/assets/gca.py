"""GCA in Dagster: the ``gca_snapshot`` asset (per tenant), its model-violation check, a change sensor and a
periodic full reconcile. All logic lives in ``gim_dagster.core.gca``; see ``core/gca/run.py`` for the order of
work that makes a crashed run safe to repeat.

No ``from __future__ import annotations`` here: Dagster reads the asset's parameter annotations at definition
time to find its config and resources.
"""

import json
from collections.abc import Iterator

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    schedule,
    sensor,
)
from dagster_aws.s3 import S3Resource

from gim_dagster.core.gca.reader import config_db_errors, read_change_marker
from gim_dagster.core.gca.run import GcaResult, kafka_publisher, run_gca
from gim_dagster.core.naming import TenantNames
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import Settings, resolve
from gim_dagster.tenant_runs import request_tags, tenant_partitions
from gim_dagster.tenant_storage import TenantStorage

CHECK = "model_violations"
MAX_LISTED_VIOLATIONS = 100


class GcaSnapshotConfig(Config):
    full_reconcile: bool = False
    """Read the whole Configuration DB and reconcile every dimension (the schedule sets it)."""


def _metadata(result: GcaResult, bucket: str) -> dict[str, object]:
    totals = {op: sum(c[op] for c in result.counts.values()) for op in ("added", "changed", "deleted")}
    return {
        "snapshot_id": result.snapshot_id,
        "previous_snapshot_id": result.previous_snapshot_id,
        "change_counter": result.change_counter,
        "full_read": result.full,
        **totals,
        "published": result.published,
        "changes_per_type": MetadataValue.json({t: c for t, c in result.counts.items() if any(c.values())}),
        "s3_key": f"s3://{bucket}/{result.snapshot_prefix}/" if result.snapshot_prefix else "(unchanged)",
        "violations": len(result.violations),
        "dimension_rows": MetadataValue.json(result.dimension_rows),
        "audit_key": result.audit_key if result.audit_key is not None else -1,
    }


def _check(result: GcaResult) -> AssetCheckResult:
    listed = [v.as_dict() for v in result.violations[:MAX_LISTED_VIOLATIONS]]
    return AssetCheckResult(
        check_name=CHECK,
        passed=not result.violations,
        severity=AssetCheckSeverity.WARN,
        metadata={"violations": len(result.violations), "first_violations": MetadataValue.json(listed)},
    )


def definitions(settings: Settings) -> Definitions:
    partitions = tenant_partitions(settings)

    @asset(
        name="gca_snapshot",
        partitions_def=partitions,
        group_name="gca",
        kinds={"postgres", "kafka", "s3"},
        check_specs=[
            AssetCheckSpec(
                CHECK, asset="gca_snapshot", description="Configuration objects that violate the model"
            )
        ],
        description=(
            "The tenant's configuration: snapshot in S3, changes on <tenant>.gca.config, Info "
            "Mart dimensions."
        ),
    )
    def gca_snapshot(
        context: AssetExecutionContext,
        config: GcaSnapshotConfig,
        postgres: PostgresResource,
        kafka: KafkaResource,
        s3: S3Resource,
    ) -> MaterializeResult:
        tenant = context.partition_key
        names = TenantNames(tenant)
        bucket = str(resolve(settings.s3.bucket))
        with config_db_errors(tenant):
            configdb = postgres.configdb_engine(tenant)

        def infomart() -> sa.Engine:
            return postgres.migrated_infomart(tenant)

        def publish(records: list[tuple[bytes, bytes]]) -> None:
            kafka.ensure_topics([names.config_topic], config={"cleanup.policy": "compact"})
            kafka_publisher(kafka.producer(), names.config_topic)(records)

        result = run_gca(
            tenant=tenant,
            configdb=configdb,
            infomart=infomart,
            store=TenantStorage.of(settings, s3.get_client()).snapshots(tenant),
            publish=publish,
            job_id=context.run_id,
            full=config.full_reconcile,
        )
        context.log.info(
            f"{tenant}: snapshot {result.snapshot_id}, {result.published} changes published, "
            f"{len(result.violations)} model violations"
        )
        return MaterializeResult(metadata=_metadata(result, bucket), check_results=[_check(result)])

    job = define_asset_job("gca_snapshot_job", selection=[gca_snapshot], partitions_def=partitions)

    @sensor(
        default_status=DefaultSensorStatus.RUNNING,
        name="gca_config_change_sensor",
        job=job,
        minimum_interval_seconds=settings.dagster.sensor_interval_seconds,
        description=(
            "Requests a gca_snapshot run for each tenant whose Configuration DB change counter moved."
        ),
    )
    def gca_config_change_sensor(
        context: SensorEvaluationContext, postgres: PostgresResource
    ) -> Iterator[RunRequest | SkipReason]:
        seen: dict[str, int] = json.loads(context.cursor or "{}")
        requested = False
        for tenant in settings.tenant_names:
            try:
                counter = read_change_marker(postgres.configdb_engine(tenant))
            except sa.exc.SQLAlchemyError as exc:
                context.log.warning(f"{tenant}: cannot read the Configuration DB change marker: {exc}")
                continue
            if counter and counter != seen.get(tenant):
                seen[tenant] = counter
                requested = True
                yield RunRequest(
                    run_key=f"{tenant}:{counter}",
                    partition_key=tenant,
                    tags=request_tags(settings, tenant, "gca"),
                )
        context.update_cursor(json.dumps(seen, sort_keys=True))
        if not requested:
            yield SkipReason("no Configuration DB change")

    @schedule(
        default_status=DefaultScheduleStatus.RUNNING,
        name="gca_reconcile_schedule",
        job=job,
        cron_schedule=settings.dagster.gca_reconcile_cron,
        description="Full read and dimension reconcile of every tenant's configuration.",
    )
    def gca_reconcile_schedule(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        stamp = context.scheduled_execution_time.isoformat()
        for tenant in settings.tenant_names:
            yield RunRequest(
                run_key=f"{tenant}:reconcile:{stamp}",
                partition_key=tenant,
                tags=request_tags(settings, tenant, "gca"),
                run_config={"ops": {"gca_snapshot": {"config": {"full_reconcile": True}}}},
            )

    return Definitions(
        assets=[gca_snapshot],
        jobs=[job],
        sensors=[gca_config_change_sensor],
        schedules=[gca_reconcile_schedule],
    )
