"""`gim stack up | down | status`, and the stack options `gim demo` and `gim dev` share."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gim_dagster.commands.output import console, fail
from gim_dagster.settings import load_settings, settings_path, state_dir
from gim_dagster.stack import LocalStack, MetricsEndpoints, StackError

app = typer.Typer(help="The local stack: PostgreSQL, Kafka (Tansu) and S3 (moto) on loopback.")


MetricsOption = Annotated[
    bool, typer.Option("--metrics/--no-metrics", help="Also serve the Prometheus endpoints (9249/8249).")
]


def metrics_endpoints(enabled: bool) -> MetricsEndpoints | None:
    """The metrics process to start with the stack, on the settings file's ports (None: not wanted)."""
    if not enabled:
        return None
    settings = load_settings()
    path = str(settings_path().resolve())
    return MetricsEndpoints(path, settings.metrics.gsp_port, settings.metrics.gim_port)


SecureOption = Annotated[
    bool,
    typer.Option(
        "--secure",
        help="TLS-only PostgreSQL (Debian PostgreSQL 15) and HTTPS S3 with certificates of a CA made for the "
        "stack; clients verify them (docs/operations.md).",
    ),
]


@app.command("up")
def stack_up(metrics: MetricsOption = True, secure: SecureOption = False) -> None:
    """Start the local services that are not running (idempotent) and write .gim/stack.env."""
    stack = LocalStack(state_dir())
    try:
        with console.status("starting the local stack…"):
            stack.up(metrics_endpoints(metrics), secure=secure)
    except StackError as exc:
        raise fail(str(exc)) from None
    _print_status(stack)
    console.print(f"connection settings: {stack.env_file}")


@app.command("down")
def stack_down() -> None:
    """Stop exactly the processes the stack started (by recorded pid)."""
    stopped = LocalStack(state_dir()).down()
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command("status")
def stack_status() -> None:
    """Show each service, its address and whether it answers; exit 1 if any does not."""
    stack = LocalStack(state_dir())
    if not _print_status(stack):
        raise typer.Exit(code=1)


def _print_status(stack: LocalStack) -> bool:
    table = Table(title=f"local stack ({stack.state_dir})")
    for column in ("service", "address", "pid", "running", "answers"):
        table.add_column(column)
    healthy = True
    for status in stack.status():
        healthy &= status.answers
        table.add_row(
            status.name,
            status.address,
            str(status.pid or "-"),
            "yes" if status.running else "[red]no[/red]",
            "yes" if status.answers else "[red]no[/red]",
        )
    Console().print(table)
    return healthy
