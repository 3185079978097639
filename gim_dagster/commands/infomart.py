"""`gim infomart …`: schema migrations and maintenance of tenants' Info Marts from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from gim_dagster.commands.output import console, fail
from gim_dagster.databases import TenantDatabases
from gim_dagster.settings import load_settings

app = typer.Typer(help="The tenants' Info Mart databases.", no_args_is_help=True)

TenantOption = Annotated[
    list[str] | None, typer.Option("--tenant", "-t", help="Tenant (repeatable; default: every tenant).")
]


def _tenants(selected: list[str] | None) -> list[str]:
    settings = load_settings()
    for name in selected or []:
        settings.tenant(name)  # raises SettingsError naming the known tenants; `gim` prints it in one line
    return selected or settings.tenant_names


def _postgres() -> TenantDatabases:
    return TenantDatabases(load_settings())


@app.command()
def migrate(tenant: TenantOption = None) -> None:
    """Create or upgrade each tenant's Info Mart schema to the newest version (idempotent)."""
    from gim_dagster.core.infomart.schema import schema_version

    for name in _tenants(tenant):
        engine = _postgres().migrated_infomart(name)
        with engine.connect() as conn:
            console.print(f"{name}: Info Mart schema {schema_version(conn)}")


@app.command()
def maintain(tenant: TenantOption = None) -> None:
    """Run Job_MaintainGIM now: purge by retention, create partitions ahead, extend DATE_TIME, ANALYZE."""
    from gim_dagster.core.infomart.maintenance import maintain as maintain_infomart

    settings = load_settings()
    for name in _tenants(tenant):
        resolved = settings.tenant(name)
        engine = _postgres().infomart_engine(name)
        result = maintain_infomart(
            engine, retention_days=resolved.retention_days, partition_period=resolved.partition_period
        )
        console.print(f"{name}: {result.summary()}")


@app.command("reset-offset")
def reset_offset(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="The tenant whose Info Mart offset moves.")],
    to: Annotated[str, typer.Option("--to", help="earliest, latest or an offset of the partition.")],
    partition: Annotated[int, typer.Option("--partition", "-p", help="Partition of <tenant>.gsp.facts.")] = 0,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in CTL_ETL_HISTORY).")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do it (without: say what would happen).")] = False,
) -> None:
    """Move the Info Mart's stored offset of a facts partition, e.g. after the topic was recreated.

    The new offset and an audit row (CTL_ETL_HISTORY, job GIM_OFFSET_RESET) commit in one transaction;
    `earliest` re-reads what the partition holds (the load upserts by key), `latest` skips to its end.
    """
    from gim_dagster.core.infomart.loader import read_offsets
    from gim_dagster.core.infomart.offset_reset import reset_offset as reset
    from gim_dagster.core.kafka_io import resolve_offset
    from gim_dagster.kafka_clients import KafkaClients

    settings = load_settings()
    topic = settings.tenant(tenant).names.facts_topic
    tp = (topic, partition)
    consumer = KafkaClients.of(settings.kafka).consumer()
    try:
        offset, low, high = resolve_offset(consumer, tp, to)
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        consumer.close()
    engine = _postgres().migrated_infomart(tenant)
    stored = read_offsets(engine, topic).get(tp)
    change = f"{topic}[{partition}]: stored offset {stored} -> {offset} (partition holds {low}..{high})"
    if not yes:
        console.print(f"{tenant}: would move {change}; --yes does")
        return
    reason = reason or f"gim infomart reset-offset --to {to}"
    done = reset(engine, tp, offset, low=low, high=high, reason=reason)
    console.print(f"{tenant}: moved {change}; recorded as CTL_ETL_HISTORY job {done.job_id}")
