"""`gim configdb init --tenant T`: create a tenant's Configuration DB schema (idempotent)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from gim_dagster.commands.output import fail
from gim_dagster.core.configdb.schema import change_marker, create_schema
from gim_dagster.core.gca.reader import ConfigDbError, config_db_errors
from gim_dagster.databases import TenantDatabases
from gim_dagster.settings import SettingsError, load_settings


def configdb_engine(tenant: str) -> sa.Engine:
    """The tenant's Configuration DB engine from the settings file (created if allowed)."""
    settings = load_settings()
    settings.tenant(tenant)  # unknown tenant: SettingsError naming the tenants there are
    with config_db_errors(tenant):
        return TenantDatabases(settings).configdb_engine(tenant)


def configdb_init(
    tenant: Annotated[str, typer.Option(help="Tenant (as listed in the settings file).")],
) -> None:
    """Create the tenant's Configuration Database tables, change counter and triggers (idempotent)."""
    try:
        engine = configdb_engine(tenant)
        with config_db_errors(tenant):
            create_schema(engine)
            with engine.connect() as conn:
                marker = change_marker(conn)
    except (SettingsError, ConfigDbError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{tenant}: Configuration DB {engine.url.database} ready (change counter {marker})")
