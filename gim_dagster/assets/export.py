"""Job_ExportGIM in Dagster: the ``gim_export`` stream asset (per tenant, on each tenant's ``export.cron``)
and the ``gim_reexport`` asset (tenant x UTC data day, today included) whose backfills re-export a
span. Logic: ``core.export``.

No ``from __future__ import annotations`` here: Dagster reads the asset's parameter annotations at definition
time to find its config and resources.
"""

import hashlib
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    asset,
    define_asset_job,
    schedule,
)
from dagster_aws.s3 import S3Resource

from gim_dagster.core.export.plan import parse_day
from gim_dagster.core.export.publish import Destination, LocalDestination, destination_at
from gim_dagster.core.export.stream import (
    ExportOptions,
    Published,
    export_stream,
    reexport_day,
    restart_into,
)
from gim_dagster.resources import PostgresResource
from gim_dagster.settings import ResolvedTenant, Settings
from gim_dagster.tenant_runs import request_tags, tenant_partitions
from gim_dagster.tenant_storage import TenantStorage

DEFAULT_REEXPORT_START = "2025-01-01"


class ExportConfig(Config):
    restart: str | None = None
    """Restart the stream: 'beginning', 'start' (the settings' export.start_date) or a data date YYYY-MM-DD
    (from the first transaction carrying data of that UTC day or later)."""
    destination: str | None = None
    """Export to this local directory or s3://bucket/prefix instead of the settings' destinations, as a stream
    of its own (the tenant's stream does not move); with restart, it must hold no export folder yet."""
    max_folders: int = 1
    """Exports in this run, each at most one day of data (raise it to catch up after an outage in one run)."""


def _destinations(settings: Settings, tenant: ResolvedTenant, s3: S3Resource) -> list[Destination]:
    """Where the tenant's folders go: ``<bucket>/<prefix>/tenants/<t>/exports`` and/or ``<local_dir>/<t>``."""
    out: list[Destination] = []
    export = tenant.export
    if "s3" in export.destinations:
        out.append(TenantStorage.of(settings, s3.get_client()).exports(tenant.name))
    if "local" in export.destinations and export.local_dir:
        out.append(LocalDestination(Path(export.local_dir) / tenant.name))
    return out


def _options(tenant: ResolvedTenant) -> ExportOptions:
    export = tenant.export
    start = parse_day(export.start_date) if export.start_date else None
    return ExportOptions(
        encoding=export.encoding,
        use_views=export.use_views,
        start_date=start,
        custom_tables=tuple(export.custom_tables),
    )


def _infomart(postgres: PostgresResource, tenant: ResolvedTenant) -> sa.Engine:
    return postgres.migrated_infomart(tenant.name)


def _metadata(folders: Sequence[Published]) -> dict[str, object]:
    rows: dict[str, int] = {}
    for folder in folders:
        for table, count in folder.rows.items():
            rows[table] = rows.get(table, 0) + count
    meta: dict[str, object] = {
        "folders": MetadataValue.json([f.name for f in folders]),
        "locations": MetadataValue.json([loc for f in folders for loc in f.locations]),
        "rows": sum(rows.values()),
        "rows_per_table": MetadataValue.json(rows),
    }
    if folders:
        meta |= {
            "hwm_from": folders[0].hwm_from.audit_key,
            "hwm_to": folders[-1].hwm_to.audit_key,
            "hwm_to_created_ts": folders[-1].hwm_to.created_ts,
            "max_data_ts": folders[-1].max_data_ts,
        }
    return meta


def _schedule_name(tenant: str) -> str:
    """Schedule names allow [A-Za-z0-9_]; a hash keeps 'a-b' and 'a_b' apart."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", tenant)
    suffix = "" if clean == tenant else "_" + hashlib.sha1(tenant.encode()).hexdigest()[:6]
    return f"gim_export_{clean}{suffix}_schedule"


def definitions(settings: Settings) -> Definitions:
    tenants = tenant_partitions(settings)
    starts = [t.export.start_date for t in map(settings.tenant, settings.tenant_names) if t.export.start_date]
    # end_offset=1: today's data day is a partition too (a re-export reaches the most recent export).
    days = DailyPartitionsDefinition(start_date=min(starts, default=DEFAULT_REEXPORT_START), end_offset=1)

    @asset(
        name="gim_export",
        partitions_def=tenants,
        deps=[AssetKey("infomart_load")],
        group_name="export",
        kinds={"postgres", "s3"},
        description="Incremental export of the Info Mart: export_<hwm>_<date>/ folders (zip, sha1, xml).",
    )
    def gim_export(
        context: AssetExecutionContext, config: ExportConfig, postgres: PostgresResource, s3: S3Resource
    ) -> MaterializeResult:
        tenant = settings.tenant(context.partition_key)
        engine, options = _infomart(postgres, tenant), _options(tenant)
        if config.destination is None:
            where = "the settings' destinations"
            folders = export_stream(
                engine, _destinations(settings, tenant, s3), options, config.restart, config.max_folders
            )
        else:
            destination = destination_at(config.destination, s3.get_client())
            where = destination.location
            folders = restart_into(engine, destination, config.restart, options, config.max_folders)
        context.log.info(
            f"{tenant.name}: {len(folders)} export folder(s) to {where}: {', '.join(f.name for f in folders)}"
        )
        return MaterializeResult(metadata={**_metadata(folders), "destination": where})

    @asset(
        name="gim_reexport",
        deps=[AssetKey("gim_export")],
        partitions_def=MultiPartitionsDefinition({"tenant": tenants, "day": days}),
        group_name="export",
        kinds={"postgres", "s3"},
        description="Re-export of one UTC data day (today included) up to the stream's most recent export "
        "(backfill a span in the UI); reexport_<day>_<hwm>/ folders, the stream's HWM does not move.",
    )
    def gim_reexport(
        context: AssetExecutionContext, postgres: PostgresResource, s3: S3Resource
    ) -> MaterializeResult:
        key = context.partition_key
        assert isinstance(key, MultiPartitionKey)
        tenant = settings.tenant(key.keys_by_dimension["tenant"])
        day = date.fromisoformat(key.keys_by_dimension["day"])
        folders = reexport_day(
            _infomart(postgres, tenant), _destinations(settings, tenant, s3), day, _options(tenant)
        )
        names = ", ".join(f.name for f in folders) or "no exported transaction holds data of that day"
        context.log.info(f"{tenant.name} {day}: {names}")
        return MaterializeResult(metadata=_metadata(folders))

    job = define_asset_job("gim_export_job", selection=[gim_export], partitions_def=tenants)
    return Definitions(
        assets=[gim_export, gim_reexport],
        jobs=[job],
        schedules=[_tenant_schedule(job, settings, settings.tenant(name)) for name in settings.tenant_names],
    )


def _tenant_schedule(job: object, settings: Settings, tenant: ResolvedTenant) -> ScheduleDefinition:
    @schedule(
        default_status=DefaultScheduleStatus.RUNNING,
        name=_schedule_name(tenant.name),
        job=job,
        cron_schedule=tenant.export.cron,
        execution_timezone="UTC",
        description=f"Job_ExportGIM for tenant {tenant.name}.",
    )
    def _export_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        stamp = context.scheduled_execution_time.isoformat()
        return RunRequest(
            run_key=f"{tenant.name}:{stamp}",
            partition_key=tenant.name,
            tags=request_tags(settings, tenant.name, "export"),
        )

    return _export_schedule
