"""`gim metrics serve`: the Prometheus endpoints of GSP (9249) and GIM (8249); wired in by ``cli``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from gim_dagster.commands.checks import PORT, number
from gim_dagster.commands.output import fail
from gim_dagster.settings import load_settings


def serve(
    settings_file: Annotated[
        str | None,
        typer.Option("--settings", help="Settings file (default: $GIM_SETTINGS or ./gim.yaml)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
    gsp_port: Annotated[
        int | None, typer.Option(help="GSP endpoint port (default: metrics.gsp_port, 9249).", callback=PORT)
    ] = None,
    gim_port: Annotated[
        int | None, typer.Option(help="GIM endpoint port (default: metrics.gim_port, 8249).", callback=PORT)
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.", callback=number(ge=1))] = 15.0,
) -> None:
    """Serve Prometheus metrics of every tenant until stopped (SIGTERM or Ctrl-C).

    Reads the Dagster instance of $DAGSTER_HOME (the local stack's, once `gim stack up` has run), Kafka, the
    GSP checkpoints in S3 and each tenant's Info Mart. See docs/metrics.md.
    """
    settings = load_settings(settings_file)
    if not os.environ.get("DAGSTER_HOME"):
        raise fail("DAGSTER_HOME is not set: run `gim stack up` or point it at the Dagster instance")
    from dagster import DagsterInstance

    from gim_dagster.metrics import MetricsService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopped = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with DagsterInstance.get() as instance:
        service = MetricsService(settings, instance, interval_s=interval)
        try:
            ports = service.start(
                host, gsp_port or settings.metrics.gsp_port, gim_port or settings.metrics.gim_port
            )
        except OSError as exc:
            raise fail(f"cannot listen on {host}: {exc.strerror}") from None
        typer.echo(
            f"GSP metrics: http://{host}:{ports[0]}/metrics  GIM metrics: http://{host}:{ports[1]}/metrics"
        )
        try:
            stopped.wait()
        finally:
            service.stop()
