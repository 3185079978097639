"""GIM in Dagster: ``infomart_load`` (facts from Kafka, exactly once) and ``infomart_maintenance``
(Job_MaintainGIM) with their checks, the load sensor and the nightly maintenance schedule. Logic lives in
``gim_dagster.core.infomart``.

No ``from __future__ import annotations``: Dagster reads parameter annotations to find resources.
"""

import time
from collections.abc import Iterator

import sqlalchemy as sa
from confluent_kafka import Consumer
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    asset,
    define_asset_job,
    in_process_executor,
    schedule,
    sensor,
)

from gim_dagster.core.infomart.checks import offset_gaps, orphan_counts, rows_without_audit_key
from gim_dagster.core.infomart.kafka_load import KafkaLoadResult, load_from_kafka
from gim_dagster.core.infomart.loader import read_offsets
from gim_dagster.core.infomart.maintenance import maintain
from gim_dagster.core.kafka_io import existing_partitions, has_new_records, offsets_out_of_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import Settings
from gim_dagster.tenant_runs import request_tags, stage_busy, tenant_partitions

LOAD = "infomart_load"
JOB_NAME = "GIM_LOAD"


def _integrity_checks(engine: sa.Engine) -> list[AssetCheckResult]:
    with engine.connect() as conn:
        orphans = orphan_counts(conn)
        unaudited = rows_without_audit_key(conn)
    return [
        AssetCheckResult(
            check_name="referential_integrity",
            passed=not orphans,
            metadata={"orphans": MetadataValue.json(orphans)},
        ),
        AssetCheckResult(
            check_name="audit_keys_present",
            passed=not unaudited,
            metadata={"rows": MetadataValue.json(unaudited)},
        ),
    ]


def _contiguity_check(context: AssetExecutionContext, result: KafkaLoadResult) -> AssetCheckResult:
    """This load must start where the previous materialization of the partition ended."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(LOAD), asset_partitions=[context.partition_key]), limit=1
    ).records
    loads = []
    if records:
        previous = records[0].asset_materialization.metadata
        if "offsets_to" in previous:
            loads.append(({}, previous["offsets_to"].value))
    loads.append((result.metadata()["offsets_from"], result.metadata()["offsets_to"]))
    gaps = offset_gaps(loads) if len(loads) > 1 else []
    return AssetCheckResult(
        check_name="offsets_contiguous", passed=not gaps, metadata={"gaps": MetadataValue.json(gaps)}
    )


def _lag_check(result: KafkaLoadResult, seconds: float) -> AssetCheckResult:
    return AssetCheckResult(
        check_name="load_freshness",
        passed=result.drained,
        severity=AssetCheckSeverity.WARN,
        metadata={"drained": result.drained, "run_seconds": round(seconds, 2)},
        description="Fails (warning) when the run stopped at its record bound with facts still waiting.",
    )


def definitions(settings: Settings) -> Definitions:
    partitions = tenant_partitions(settings)
    checks = {
        "referential_integrity": "Every fact key points at a dimension, DATE_TIME and CTL_AUDIT_LOG row.",
        "audit_keys_present": "No exported row without CREATE_AUDIT_KEY and UPDATE_AUDIT_KEY.",
        "offsets_contiguous": "Each load starts at the offsets where the previous one ended.",
        "load_freshness": "The load reached the end of <tenant>.gsp.facts.",
    }

    @asset(
        name=LOAD,
        partitions_def=partitions,
        group_name="gim",
        kinds={"postgres", "kafka"},
        deps=[AssetKey("gsp_microbatch"), AssetKey("gca_snapshot")],
        check_specs=[AssetCheckSpec(name, asset=LOAD, description=text) for name, text in checks.items()],
        description="Facts from <tenant>.gsp.facts into the Info Mart: COPY, set-based upsert, offsets "
        "committed in the same transaction.",
    )
    def infomart_load(
        context: AssetExecutionContext, postgres: PostgresResource, kafka: KafkaResource
    ) -> MaterializeResult:
        tenant = context.partition_key
        began = time.monotonic()
        engine = postgres.migrated_infomart(tenant)
        consumer = kafka.consumer()
        try:
            result = load_from_kafka(
                engine,
                consumer,
                TenantNames(tenant).facts_topic,
                job_name=JOB_NAME,
                job_id=context.run_id,
                partition_period=settings.tenant(tenant).partition_period,
                span_seconds=settings.tenant(tenant).load_span_minutes * 60,
            )
        finally:
            consumer.close()
        elapsed = time.monotonic() - began
        metadata = {
            key: MetadataValue.json(v) if isinstance(v, dict | list) else v
            for key, v in result.metadata().items()
        }
        context.log.info(
            f"{tenant}: {result.records} records, inserted {dict(result.inserted)}, "
            f"updated {dict(result.updated)}"
        )
        check_results = [
            *_integrity_checks(engine),
            _contiguity_check(context, result),
            _lag_check(result, elapsed),
        ]
        return MaterializeResult(metadata=metadata, check_results=check_results)

    @asset(
        name="infomart_maintenance",
        partitions_def=partitions,
        group_name="gim",
        kinds={"postgres"},
        deps=[AssetKey(LOAD)],
        description="Job_MaintainGIM: purge facts older than the tenant's retention (whole partitions), "
        "create partitions ahead, extend DATE_TIME, ANALYZE; each run recorded in CTL_ETL_HISTORY.",
    )
    def infomart_maintenance(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
        tenant = settings.tenant(context.partition_key)
        engine = postgres.migrated_infomart(tenant.name)
        result = maintain(
            engine,
            retention_days=tenant.retention_days,
            partition_period=tenant.partition_period,
            job_id=context.run_id,
        )
        summary = result.summary()
        context.log.info(
            f"{tenant.name}: purged {result.purged_rows} rows older than {tenant.retention_days} days"
        )
        return MaterializeResult(
            metadata={
                "retention_days": tenant.retention_days,
                "purged_rows": result.purged_rows,
                "details": MetadataValue.json(summary),
            }
        )

    # One step: the in-process executor saves the step's own process (about 3 s of every run's start).
    load_job = define_asset_job(
        "infomart_load_job",
        selection=[infomart_load],
        partitions_def=partitions,
        executor_def=in_process_executor,
    )
    maintenance_job = define_asset_job(
        "infomart_maintenance_job", selection=[infomart_maintenance], partitions_def=partitions
    )

    @sensor(
        default_status=DefaultSensorStatus.RUNNING,
        name="infomart_load_sensor",
        job=load_job,
        minimum_interval_seconds=settings.dagster.sensor_interval_seconds,
        description="Requests an infomart_load run for a tenant when <tenant>.gsp.facts has records past the "
        "Info Mart's stored offsets (or the last run stopped at its bound), or once when a stored offset is "
        "out of the partition's range (that run fails naming it); one run per tenant at a time.",
    )
    def infomart_load_sensor(
        context: SensorEvaluationContext, postgres: PostgresResource, kafka: KafkaResource
    ) -> Iterator[RunRequest]:
        consumer = kafka.consumer()
        try:
            for tenant in settings.tenant_names:
                request = _load_request(context, tenant, postgres, consumer)
                if request is not None:
                    yield request
        finally:
            consumer.close()

    def _load_request(
        context: SensorEvaluationContext, tenant: str, postgres: PostgresResource, consumer: Consumer
    ) -> RunRequest | None:
        if stage_busy(context.instance, tenant, "load"):
            return None
        topic = TenantNames(tenant).facts_topic
        try:
            stored = read_offsets(postgres.infomart_engine(tenant), topic)
        except sa.exc.SQLAlchemyError:
            stored = {}  # no schema yet: the first load migrates it
        positions = {tp: stored.get(tp, 0) for tp in existing_partitions(consumer, [topic])}
        latest = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(LOAD), asset_partitions=[tenant]), limit=1
        ).records
        # Trust the watermark hint unless the last load stopped at its bound with records left behind.
        last_drained = latest[0].asset_materialization.metadata.get("drained") if latest else None
        drained = last_drained is None or bool(last_drained.value)
        run_key = f"{tenant}:" + ",".join(f"{p}={o}" for (_, p), o in sorted(positions.items()))
        if not has_new_records(consumer, positions, dict.fromkeys(positions, drained)):
            # Nothing past the stored offsets, or a stored offset past the partition's end (the topic was
            # recreated): then one run, which fails naming both offsets, instead of a silent skip forever.
            problems = offsets_out_of_range(consumer, stored)
            if not problems:
                return None
            context.log.error("; ".join(p.describe() for p in problems))
            run_key += ":offset-out-of-range"
        return RunRequest(run_key=run_key, partition_key=tenant, tags=request_tags(settings, tenant, "load"))

    @schedule(
        default_status=DefaultScheduleStatus.RUNNING,
        name="infomart_maintenance_schedule",
        job=maintenance_job,
        cron_schedule=settings.dagster.maintenance_cron,
        description="Nightly Job_MaintainGIM for every tenant.",
    )
    def infomart_maintenance_schedule(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        stamp = context.scheduled_execution_time.isoformat()
        for tenant in settings.tenant_names:
            yield RunRequest(
                run_key=f"{tenant}:{stamp}",
                partition_key=tenant,
                tags=request_tags(settings, tenant, "maintenance"),
            )

    return Definitions(
        assets=[infomart_load, infomart_maintenance],
        jobs=[load_job, maintenance_job],
        sensors=[infomart_load_sensor],
        schedules=[infomart_maintenance_schedule],
    )
