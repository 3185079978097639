"""`gim dev`: the stack up and `dagster dev` against it, stopped whole by a signal."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from gim_dagster.commands.checks import PORT
from gim_dagster.commands.output import console, fail
from gim_dagster.commands.stack import MetricsOption, SecureOption, metrics_endpoints
from gim_dagster.commands.supervise import supervise
from gim_dagster.settings import load_settings, settings_path, state_dir
from gim_dagster.stack import LocalStack, StackError


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
