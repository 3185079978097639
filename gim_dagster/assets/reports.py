"""The standard reports in Dagster: the ``infomart_reports`` asset per tenant, downstream of the aggregates,
refreshed daily by ``infomart_reports_schedule``; its materialization links the index page. Logic:
``core.reports``.

No ``from __future__ import annotations`` here: Dagster reads the asset's parameter annotations at definition
time to find its config and resources.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    DefaultScheduleStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    ScheduleEvaluationContext,
    asset,
    define_asset_job,
    schedule,
)

from gim_dagster.resources import PostgresResource
from gim_dagster.settings import Settings, state_dir
from gim_dagster.tenant_runs import request_tags, tenant_partitions

REPORTS = "infomart_reports"


class ReportConfig(Config):
    last_day: str | None = None
    """The local day (YYYY-MM-DD) the reports end on; default: today in the tenant's time zone. They cover the
    tenant's reports.days days up to it."""


def definitions(settings: Settings) -> Definitions:
    partitions = tenant_partitions(settings)

    @asset(
        name=REPORTS,
        partitions_def=partitions,
        group_name="gim",
        kinds={"postgres", "html"},
        deps=[AssetKey("infomart_aggregates")],
        description="The standard reports (queue summary, agent summary, abandon delay, not-ready reasons, "
        "volume) of the tenant's last reports.days local days: static HTML pages from the AG2_* views.",
    )
    def infomart_reports(
        context: AssetExecutionContext, config: ReportConfig, postgres: PostgresResource
    ) -> MaterializeResult:
        # Imported here: matplotlib takes most of a second to import, and every run process of every other
        # asset loads this module.
        from gim_dagster.core.reports import ReportOptions, report_dir, write_reports

        tenant = settings.tenant(context.partition_key)
        if config.last_day:
            last = date.fromisoformat(config.last_day)
        else:
            last = datetime.now(ZoneInfo(tenant.time_zone)).date()
        first = last - timedelta(days=tenant.reports.days - 1)
        base = Path(tenant.reports.local_dir) if tenant.reports.local_dir else state_dir() / "reports"
        options = ReportOptions(
            tenant.name, tenant.aggregates.thresholds(), tenant.reports.service_level_target_percent
        )
        index = write_reports(
            postgres.infomart_engine(tenant.name),
            report_dir(base, tenant.name, first, last),
            first,
            last,
            options,
        )
        context.log.info(f"{tenant.name}: reports of {first} to {last}: {index}")
        return MaterializeResult(
            metadata={
                "index": MetadataValue.path(str(index)),
                "open": MetadataValue.url(index.as_uri()),
                "first_day": first.isoformat(),
                "last_day": last.isoformat(),
            }
        )

    job = define_asset_job("infomart_reports_job", selection=[infomart_reports], partitions_def=partitions)

    @schedule(
        default_status=DefaultScheduleStatus.RUNNING,
        name="infomart_reports_schedule",
        job=job,
        cron_schedule=settings.dagster.reports_cron,
        execution_timezone="UTC",
        description="Daily refresh of every tenant's standard reports.",
    )
    def infomart_reports_schedule(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
        stamp = context.scheduled_execution_time.isoformat()
        for tenant in settings.tenant_names:
            yield RunRequest(
                run_key=f"{tenant}:{stamp}",
                partition_key=tenant,
                tags=request_tags(settings, tenant, "reports"),
            )

    return Definitions(assets=[infomart_reports], jobs=[job], schedules=[infomart_reports_schedule])
