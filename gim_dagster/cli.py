"""The ``gim`` command (contract: design.md section 3)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gim_dagster import __version__
from gim_dagster.commands import configdb as configdb_commands
from gim_dagster.commands import export as export_commands
from gim_dagster.commands import gsp as gsp_commands
from gim_dagster.commands import infomart as infomart_commands
from gim_dagster.commands import metrics as metrics_commands
from gim_dagster.commands import report as report_commands
from gim_dagster.commands import simulate_config, simulate_traffic
from gim_dagster.commands.checks import AT_LEAST_ONE, NOT_NEGATIVE, PORT, number
from gim_dagster.commands.output import console, fail
from gim_dagster.commands.supervise import supervise
from gim_dagster.core.export.importer import ImportRefused
from gim_dagster.settings import SettingsError, apply_stack_env, load_settings, settings_path, state_dir
from gim_dagster.stack import LocalStack, MetricsEndpoints, StackError

app = typer.Typer(
    help="gim-dagster: contact-centre historical reporting on Dagster.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
stack_app = typer.Typer(help="The local stack: PostgreSQL, Kafka (Tansu) and S3 (moto) on loopback.")
settings_app = typer.Typer(help="The tenant settings file.")
app.add_typer(stack_app, name="stack")
app.add_typer(settings_app, name="settings")
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


@settings_app.command("check")
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


@stack_app.command("up")
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


@stack_app.command("down")
def stack_down() -> None:
    """Stop exactly the processes the stack started (by recorded pid)."""
    stopped = LocalStack(state_dir()).down()
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@stack_app.command("status")
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


@app.command()
def demo(
    hours: Annotated[
        float,
        typer.Option(
            help="Simulated hours of traffic per tenant and run.", callback=number(gt=0, le=24 * 31)
        ),
    ] = 3.0,
    agents: Annotated[int, typer.Option(help="Agents per tenant (first run).", callback=AT_LEAST_ONE)] = 16,
    calls_per_hour: Annotated[
        float, typer.Option(help="Inbound calls per hour.", callback=NOT_NEGATIVE)
    ] = 90.0,
    seed: Annotated[int, typer.Option(help="Random seed of configuration and traffic.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    metrics: MetricsOption = True,
    secure: SecureOption = False,
) -> None:
    """The main job end to end on the local stack: simulate, GCA, GSP, load, maintain, export; reconcile."""
    import dataclasses
    import json
    import time

    load_settings()  # the file and the environment values it names are checked before the stack is touched
    from gim_dagster.demo import Demo, DemoError, DemoOptions

    options = DemoOptions(hours=hours, agents=agents, calls_per_hour=calls_per_hour, seed=seed, secure=secure)
    began = time.perf_counter()
    demo_run = Demo(options, say=lambda text: console.print(text, highlight=False), console=console)
    try:
        summaries = demo_run.run(metrics_endpoints(metrics))
    except DemoError as exc:
        raise fail(str(exc)) from None
    elapsed = time.perf_counter() - began
    ok = all(s.ok for s in summaries)
    if as_json:
        payload = {
            "ok": ok,
            "seconds": round(elapsed, 1),
            "tenants": [dataclasses.asdict(s) for s in summaries],
        }
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        _print_demo(summaries, elapsed)
    if not ok:
        raise typer.Exit(1)


def _print_demo(summaries: list, elapsed: float) -> None:
    out = Console()
    table = Table(title=f"gim demo ({elapsed:.0f} s)")
    table.add_column("")
    for s in summaries:
        table.add_column(s.tenant, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("window", [s.window for s in summaries]),
        ("events produced", [f"{s.records_produced:,}" for s in summaries]),
        ("interactions (ledger, all runs)", [f"{s.interactions:,}" for s in summaries]),
    ]
    for name in summaries[0].facts:
        rows.append((name, [f"{s.facts[name]:,}" for s in summaries]))
    rows += [
        (
            "dead-lettered / malformed injected",
            [f"{s.dead_lettered} / {s.malformed_injected}" for s in summaries],
        ),
        ("reconciliation differences", [_mark(s.differences == 0, str(s.differences)) for s in summaries]),
        (
            "aggregates match the facts",
            [_mark(not s.aggregate_problems, "no" if s.aggregate_problems else "yes") for s in summaries],
        ),
        (
            "facts outside dimension validity",
            [_mark(not s.outside_validity, str(sum(s.outside_validity.values()))) for s in summaries],
        ),
        ("export folders imported", [str(s.export_folders) for s in summaries]),
        (
            "exports verified",
            [_mark(s.export_verified, "yes" if s.export_verified else "NO") for s in summaries],
        ),
    ]
    for label, values in rows:
        table.add_row(label, *values)
    out.print(table)
    for s in summaries:
        for category, result in s.reconciliation.items():
            for example in result["examples"]:
                out.print(f"[red]{s.tenant} {category}:[/red] {example}", highlight=False)
        for problem in s.export_problems:
            out.print(f"[red]{s.tenant} export:[/red] {problem}", highlight=False)
        for problem in s.aggregate_problems:
            out.print(f"[red]{s.tenant} aggregates:[/red] {problem}", highlight=False)
        for reference, count in s.outside_validity.items():
            out.print(f"[red]{s.tenant} validity:[/red] {count} {reference} outside the row's validity")
    for s in summaries:
        out.print(f"{s.tenant}: reports (open in a browser): {s.reports}", highlight=False, soft_wrap=True)
    out.print("Next: `gim dev` opens the Dagster UI with these runs at http://127.0.0.1:3000")


def _mark(good: bool, text: str) -> str:
    return f"[green]{text}[/green]" if good else f"[red]{text}[/red]"


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.", callback=PORT)] = 3000,
    host: Annotated[str, typer.Option(help="Address the Dagster UI listens on.")] = "127.0.0.1",
    metrics: MetricsOption = True,
    secure: SecureOption = False,
) -> None:
    """Bring the stack up and run `dagster dev` against it (UI at http://127.0.0.1:3000)."""
    load_settings()  # what `dagster dev` will load: checked before the stack is touched
    stack = LocalStack(state_dir())
    try:
        with console.status("starting the local stack…"):
            env = stack.up(metrics_endpoints(metrics), secure=secure)
    except StackError as exc:
        raise fail(str(exc)) from None
    child_env = {**os.environ, **env, "GIM_SETTINGS": str(settings_path().resolve())}
    console.print(f"Dagster UI: http://{host}:{port}  (Ctrl-C to stop; `gim stack down` stops the services)")
    argv = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "gim_dagster.definitions",
        "-h",
        host,
        "-p",
        str(port),
    ]
    raise typer.Exit(supervise(argv, child_env))


if __name__ == "__main__":
    main()
