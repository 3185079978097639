"""The RAA aggregates in Dagster: the ``infomart_aggregates`` asset per tenant, downstream of the
load, and the sensor that requests it once new audit keys are committed. Logic: ``core.infomart.aggregates``.

No ``from __future__ import annotations`` here: Dagster reads the asset's parameter annotations at definition
time to find its resources.
"""

from collections.abc import Iterator

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    asset,
    define_asset_job,
    in_process_executor,
    sensor,
)

from gim_dagster.core.infomart.aggregates import aggregate, pending_audit_key
from gim_dagster.resources import PostgresResource
from gim_dagster.settings import Settings
from gim_dagster.tenant_runs import request_tags, stage_busy, tenant_partitions

AGGREGATES = "infomart_aggregates"


def definitions(settings: Settings) -> Definitions:
    partitions = tenant_partitions(settings)

    @asset(
        name=AGGREGATES,
        partitions_def=partitions,
        group_name="gim",
        kinds={"postgres"},
        deps=[AssetKey("infomart_load")],
        description="RAA aggregates (AGT_I_AGENT_*, AGT_I_SESS_STATE_*, AGT_I_STATE_RSN_*, AGT_QUEUE_*, "
        "AGT_QUEUE_ABN_*, AGT_QUEUE_ACC_AGENT_*; read through the AG2_* views): the intervals touched by the "
        "audit keys committed since the last run.",
    )
    def infomart_aggregates(context: AssetExecutionContext, postgres: PostgresResource) -> MaterializeResult:
        tenant = context.partition_key
        thresholds = settings.tenant(tenant).aggregates.thresholds()
        result = aggregate(postgres.migrated_infomart(tenant), thresholds=thresholds)
        context.log.info(
            f"{tenant}: audit keys ({result.hwm_from}, {result.hwm_to}], {result.intervals} intervals"
        )
        return MaterializeResult(
            metadata={
                "hwm_from": result.hwm_from,
                "hwm_to": result.hwm_to,
                "intervals": result.intervals,
                "rows": MetadataValue.json(result.rows),
            }
        )

    job = define_asset_job(
        "infomart_aggregates_job",
        selection=[infomart_aggregates],
        partitions_def=partitions,
        executor_def=in_process_executor,
    )

    @sensor(
        default_status=DefaultSensorStatus.RUNNING,
        name="infomart_aggregates_sensor",
        job=job,
        minimum_interval_seconds=settings.dagster.sensor_interval_seconds,
        description="Requests an infomart_aggregates run for a tenant whose Info Mart committed audit keys "
        "after the aggregates' high-water mark; one run per tenant at a time.",
    )
    def infomart_aggregates_sensor(
        context: SensorEvaluationContext, postgres: PostgresResource
    ) -> Iterator[RunRequest]:
        for tenant in settings.tenant_names:
            if stage_busy(context.instance, tenant, "aggregates"):
                continue
            try:
                pending = pending_audit_key(postgres.infomart_engine(tenant))
            except sa.exc.SQLAlchemyError:
                continue  # no Info Mart or no schema yet: the load creates it
            if pending is not None:
                yield RunRequest(
                    run_key=f"{tenant}:{pending}",
                    partition_key=tenant,
                    tags=request_tags(settings, tenant, "aggregates"),
                )

    return Definitions(assets=[infomart_aggregates], jobs=[job], sensors=[infomart_aggregates_sensor])
