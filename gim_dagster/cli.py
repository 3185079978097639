"""The ``gim`` command (contract: design.md section 3)."""

from __future__ import annotations

import sys

import typer

from gim_dagster import __version__
from gim_dagster.commands import configdb as configdb_commands
from gim_dagster.commands import demo as demo_commands
from gim_dagster.commands import dev as dev_commands
from gim_dagster.commands import export as export_commands
from gim_dagster.commands import gsp as gsp_commands
from gim_dagster.commands import infomart as infomart_commands
from gim_dagster.commands import metrics as metrics_commands
from gim_dagster.commands import report as report_commands
from gim_dagster.commands import settings as settings_commands
from gim_dagster.commands import simulate_config, simulate_traffic
from gim_dagster.commands import stack as stack_commands
from gim_dagster.commands.output import fail
from gim_dagster.core.export.importer import ImportRefused
from gim_dagster.settings import SettingsError, apply_stack_env, state_dir
from gim_dagster.stack import StackError

app = typer.Typer(
    help="gim-dagster: contact-centre historical reporting on Dagster.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_commands.app, name="stack")
app.add_typer(settings_commands.app, name="settings")
app.command("demo")(demo_commands.demo)
app.command("dev")(dev_commands.dev)
app.add_typer(infomart_commands.app, name="infomart")
app.add_typer(export_commands.export_app, name="export")
app.command("import")(export_commands.import_command)
app.command("report")(report_commands.report)
simulate_app = typer.Typer(help="Simulated configuration and traffic, with a ground-truth ledger.")
simulate_app.command("traffic")(simulate_traffic.traffic)
simulate_app.command("config")(simulate_config.simulate_config)
metrics_app = typer.Typer(help="Prometheus endpoints: GSP (9249) and GIM (8249).", no_args_is_help=True)
metrics_app.command("serve")(metrics_commands.serve)
app.add_typer(metrics_app, name="metrics")
configdb_app = typer.Typer(help="The tenants' Configuration Databases.", no_args_is_help=True)
configdb_app.command("init")(configdb_commands.configdb_init)
app.add_typer(configdb_app, name="configdb")
app.add_typer(simulate_app, name="simulate")
app.add_typer(gsp_commands.app, name="gsp")

# Errors that mean "bad input or environment", not a bug: printed as one line, exit code 2.
USER_ERRORS: tuple[type[Exception], ...] = (SettingsError, StackError, ImportRefused)


def main() -> None:
    """Entry point of the `gim` console script."""
    from gim_dagster.connections import ConnectionRefused, connection_failure

    try:
        app()
    except (*USER_ERRORS, ConnectionRefused) as exc:
        fail(str(exc))
        sys.exit(2)
    except Exception as exc:
        # A server that refused us (TLS, password, certificate, host name): one line, not a traceback.
        message = connection_failure(exc)
        if message is None:
            raise
        fail(message)
        sys.exit(2)


@app.callback()
def _main() -> None:
    """Every command sees the local stack's connection settings, if a stack is up."""
    apply_stack_env(state_dir() / "stack.env")


@app.command()
def version() -> None:
    """Print the gim-dagster version."""
    typer.echo(__version__)


if __name__ == "__main__":
    main()
