"""`gim demo`: the main job end to end on the local stack, reconciled, with its summary."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gim_dagster.commands.checks import AT_LEAST_ONE, NOT_NEGATIVE, number
from gim_dagster.commands.output import console, fail
from gim_dagster.commands.stack import MetricsOption, SecureOption, metrics_endpoints
from gim_dagster.settings import load_settings


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
