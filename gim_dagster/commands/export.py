"""`gim export target-schema` and `gim import` (wired into the app by `gim_dagster.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gim_dagster.commands.checks import text
from gim_dagster.commands.output import console, fail
from gim_dagster.core.export.importer import ImportRefused, import_exports, open_source, scratch_dir
from gim_dagster.core.export.target_schema import DIALECTS, target_schema_sql
from gim_dagster.settings import check_encoding, check_endpoint_url

export_app = typer.Typer(help="The Info Mart export (Job_ExportGIM): target schema.", no_args_is_help=True)


@export_app.command("target-schema")
def target_schema(
    dialect: Annotated[
        str, typer.Option(help=f"SQL dialect of the target ({', '.join(DIALECTS)}).")
    ] = DIALECTS[0],
) -> None:
    """Print the SQL that creates the import target, or adds missing tables and columns to an older one.

    Custom user-data tables are not included: create and migrate them separately.
    """
    try:
        typer.echo(target_schema_sql(dialect), nl=False)
    except ValueError as exc:
        raise fail(str(exc)) from None


def import_command(
    source: Annotated[str, typer.Option(help="Directory of export folders, or s3://bucket/prefix.")],
    target: Annotated[
        str, typer.Option(help="Target database URL (SQLAlchemy, e.g. postgresql+psycopg://…).")
    ],
    encoding: Annotated[
        str, typer.Option(help="Encoding of the exported CSV files.", callback=text(check_encoding))
    ] = "utf-8",
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            help="S3 endpoint (MinIO, moto).", envvar="GIM_S3_ENDPOINT_URL", callback=text(check_endpoint_url)
        ),
    ] = None,
) -> None:
    """Apply export folders to a target database, in name order; a second run is a no-op.

    Every folder is verified first (SHA-1 of the zip, continuous hwm-from/hwm-to chain); on any problem
    nothing is changed. Each folder is applied in one transaction, so an interrupted import resumes.
    """
    try:
        engine = sa.create_engine(target)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise fail(f"invalid --target {target!r}: {exc}") from None
    try:
        with scratch_dir() as scratch, _progress() as bar:
            task = bar.add_task("import", total=None)

            def report(folder: str, done: int, total: int) -> None:
                bar.update(task, description=folder, completed=done, total=total)

            client = _s3_client(endpoint_url) if source.startswith("s3://") else None
            result = import_exports(open_source(source, Path(scratch), client), engine, encoding, report)
    except ImportRefused as exc:
        raise fail(str(exc)) from None
    except (sa.exc.OperationalError, LookupError) as exc:
        raise fail(f"cannot import into the target: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    rows = sum(result.rows.values())
    typer.echo(
        f"applied {len(result.applied)} folder(s), {rows} row(s); {len(result.already)} already applied"
    )
    for problem in result.day_rule:
        console.print(f"[yellow]warning:[/yellow] {problem}", highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def _s3_client(endpoint_url: str | None) -> object:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url)
