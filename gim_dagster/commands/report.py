"""`gim report`: a tenant's standard reports as static HTML pages, for a range of local days."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from gim_dagster.commands.checks import text
from gim_dagster.commands.output import console, fail
from gim_dagster.settings import SettingsError, load_settings, state_dir


def _day(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}") from None
    return value


DayOption = text(_day)


def report(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="Tenant of the settings file.")],
    from_: Annotated[
        str,
        typer.Option("--from", help="First local day (YYYY-MM-DD, tenant's time zone).", callback=DayOption),
    ],
    to: Annotated[
        str, typer.Option("--to", help="Last local day, included (YYYY-MM-DD).", callback=DayOption)
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for the pages (default: <state dir>/reports/<tenant>/<from>_<to>)."),
    ] = None,
) -> None:
    """Write the standard reports (queue and agent summaries, abandon delay, not-ready reasons, volume) as
    static HTML pages that open from disk, from the tenant's Info Mart aggregates."""
    from gim_dagster.core.reports import ReportOptions, report_dir, write_reports

    first, last = date.fromisoformat(from_), date.fromisoformat(to)
    if last < first:
        raise fail(f"--to {last} is before --from {first}")
    try:
        resolved = load_settings().tenant(tenant)
        dsn = resolved.infomart_dsn()
    except SettingsError as exc:
        raise fail(str(exc)) from None
    options = ReportOptions(
        resolved.name, resolved.aggregates.thresholds(), resolved.reports.service_level_target_percent
    )
    target = out or report_dir(state_dir() / "reports", resolved.name, first, last)
    engine = sa.create_engine(dsn)
    try:
        with console.status(f"{tenant}: reading the aggregates…"):
            index = write_reports(engine, target, first, last, options)
    except sa.exc.OperationalError as exc:
        raise fail(f"{tenant}: cannot read the Info Mart: {str(exc.orig).strip().splitlines()[0]}") from None
    except sa.exc.ProgrammingError as exc:
        raise fail(
            f"{tenant}: the Info Mart has no aggregate views ({str(exc.orig).strip().splitlines()[0]}); "
            "`gim infomart migrate` creates them and the pipeline fills them"
        ) from None
    finally:
        engine.dispose()
    console.print(f"{tenant}: reports for {first} to {last}: {index}", highlight=False)
    typer.echo(str(index))
