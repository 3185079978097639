"""`gim infomart …`: schema migrations and maintenance of tenants' Info Marts from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from gim_dagster.commands.output import console
from gim_dagster.resources.postgres import PostgresResource
from gim_dagster.settings import load_settings, settings_path

app = typer.Typer(help="The tenants' Info Mart databases.", no_args_is_help=True)

TenantOption = Annotated[
    list[str] | None, typer.Option("--tenant", "-t", help="Tenant (repeatable; default: every tenant).")
]


def _tenants(selected: list[str] | None) -> list[str]:
    settings = load_settings()
    for name in selected or []:
        settings.tenant(name)  # raises SettingsError naming the known tenants; `gim` prints it in one line
    return selected or settings.tenant_names


def _postgres() -> PostgresResource:
    return PostgresResource(settings_file=str(settings_path().resolve()))


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
