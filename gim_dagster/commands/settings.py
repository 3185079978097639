"""`gim settings check`: the tenant settings file validated, and optionally every connection tried."""

from __future__ import annotations

from typing import Annotated

import typer

from gim_dagster.commands.output import console, fail
from gim_dagster.settings import SettingsError, load_settings

app = typer.Typer(help="The tenant settings file.")


@app.command("check")
def settings_check(
    file: Annotated[
        str | None, typer.Option(help="Settings file (default: $GIM_SETTINGS or ./gim.yaml).")
    ] = None,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect", help="Also try every connection (databases, S3, Kafka); exit 1 if one is refused."
        ),
    ] = False,
) -> None:
    """Validate the settings file and list its tenants."""
    try:
        settings = load_settings(file)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    for name in settings.tenant_names:
        tenant = settings.tenant(name)
        typer.echo(
            f"{name}: time zone {tenant.time_zone}, retention {tenant.retention_days} days, "
            f"partitions per {tenant.partition_period}"
        )
    if connect:
        from gim_dagster.connections import check_all

        refused = 0
        for name, problem in check_all(settings):
            if problem is None:
                typer.echo(f"connected: {name}")
            else:
                refused += 1
                console.print(f"[red]refused:[/red] {problem}", highlight=False)
        if refused:
            raise typer.Exit(code=1)
