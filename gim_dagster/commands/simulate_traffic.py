"""``gim simulate traffic``: a tenant's simulated contact-centre traffic to Kafka or a file, with a ledger."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gim_dagster.commands.checks import AT_LEAST_ONE, NOT_NEGATIVE, PROBABILITY, number, text
from gim_dagster.commands.output import console, fail
from gim_dagster.core.naming import TenantNames
from gim_dagster.core.sim import Roster, TrafficParams, simulate
from gim_dagster.core.sim.sinks import paced, produce, write_file
from gim_dagster.settings import check_bootstrap_servers


def _parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--start {text!r} is not an ISO date-time (e.g. 2026-11-02T00:00:00Z)") from None
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)


def _configured_roster(tenant: str) -> Roster:
    """The agents, queues and reasons of the tenant's Configuration DB (`gim simulate config` fills it)."""
    from gim_dagster.commands.configdb import configdb_engine
    from gim_dagster.core.sim.configdb_roster import load_roster

    roster = load_roster(configdb_engine(tenant))
    if not roster.agents:
        raise fail(
            f"tenant {tenant!r} has no agents in its Configuration DB: run `gim simulate config` first"
        )
    return roster


def traffic(
    tenant: Annotated[str, typer.Option(help="Tenant name.")],
    start: Annotated[str, typer.Option(help="Start of the window, ISO 8601 (UTC if no offset).")],
    hours: Annotated[
        float, typer.Option(help="Length of the window in hours.", callback=number(gt=0, le=24 * 31))
    ] = 24.0,
    calls_per_hour: Annotated[
        float, typer.Option(help="Inbound calls per hour (daily average).", callback=NOT_NEGATIVE)
    ] = 0.0,
    chats_per_hour: Annotated[
        float, typer.Option(help="Chats per hour (daily average).", callback=NOT_NEGATIVE)
    ] = 0.0,
    emails_per_hour: Annotated[
        float, typer.Option(help="Emails per hour (daily average).", callback=NOT_NEGATIVE)
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same records.")] = 0,
    duplicates: Annotated[
        float, typer.Option(help="Probability that an event is delivered twice.", callback=PROBABILITY)
    ] = 0.0,
    late: Annotated[
        float, typer.Option(help="Probability that an event is delivered late.", callback=PROBABILITY)
    ] = 0.0,
    late_window: Annotated[
        int,
        typer.Option(help="Bound of lateness and duplicate delay, seconds.", callback=number(ge=1, le=3600)),
    ] = 15,
    malformed: Annotated[
        float, typer.Option(help="Probability of a malformed record after an event.", callback=PROBABILITY)
    ] = 0.0,
    agents: Annotated[
        int | None,
        typer.Option(
            help="Use a synthetic roster of this many agents (default: the tenant's Configuration DB).",
            callback=AT_LEAST_ONE,
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option(help="Write records to this file instead of Kafka.")
    ] = None,
    ledger_dir: Annotated[
        Path | None, typer.Option(help="Write the ground-truth ledger (Parquet) here.")
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(help="Records per second (default: as fast as possible).", callback=number(gt=0)),
    ] = None,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(
            envvar="GIM_KAFKA_BOOTSTRAP_SERVERS",
            help="Kafka bootstrap servers (default: the local stack).",
            callback=text(check_bootstrap_servers),
        ),
    ] = None,
) -> None:
    """Simulate a contact centre's traffic for a tenant, with a ground-truth ledger."""
    if out_file is None and not bootstrap_servers:
        raise fail("give --out-file, or --bootstrap-servers (or run `gim stack up`) to produce to Kafka")
    try:
        params = TrafficParams(
            tenant=tenant,
            start=_parse_start(start),
            hours=hours,
            calls_per_hour=calls_per_hour,
            chats_per_hour=chats_per_hour,
            emails_per_hour=emails_per_hour,
            seed=seed,
            duplicates=duplicates,
            late=late,
            malformed=malformed,
            late_window_s=late_window,
        )
        roster = Roster.synthetic(agents, seed) if agents is not None else _configured_roster(tenant)
    except ValueError as exc:
        raise fail(str(exc)) from None
    kafka_config = None if out_file else _kafka_config(str(bootstrap_servers))
    run_traffic(
        roster, params, out_file=out_file, kafka_config=kafka_config, ledger_dir=ledger_dir, rate=rate
    )


def _kafka_config(bootstrap_servers: str) -> dict[str, Any]:
    """The settings' Kafka client properties (security protocol, SASL, CA) for these brokers."""
    from gim_dagster.kafka_clients import settings_config
    from gim_dagster.settings import load_settings

    return settings_config(load_settings().kafka, bootstrap_servers)


def run_traffic(
    roster: Roster,
    params: TrafficParams,
    *,
    out_file: Path | None = None,
    kafka_config: dict[str, Any] | None = None,
    ledger_dir: Path | None = None,
    rate: float | None = None,
) -> None:
    """Simulate, then send the records to ``out_file`` or Kafka (``kafka_config``: the clients' common
    properties, ``kafka_clients.settings_config``), with progress bars."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bars:
        sim_task = bars.add_task("simulating (‰ of window)", total=1000)
        sim = simulate(roster, params, lambda f: bars.update(sim_task, completed=round(f * 1000)))
        bars.update(sim_task, completed=1000)
        send_task = bars.add_task("producing records", total=len(sim.records))
        records = paced(sim.records, rate, lambda n: bars.advance(send_task, n))
        began = time.perf_counter()
        if out_file is not None:
            count = write_file(records, out_file)
        else:
            from confluent_kafka import Producer  # imported here: the file sink needs no librdkafka
            from confluent_kafka.admin import AdminClient

            from gim_dagster.kafka_clients import ensure_topics, producer_config

            names = TenantNames(params.tenant)
            config = kafka_config or {}
            # Create the topics first: a broker that auto-creates them may give them several partitions.
            ensure_topics(AdminClient(config), list(names.raw_topics))
            count = produce(Producer(producer_config(config)), records, names)
        elapsed = time.perf_counter() - began
    if ledger_dir is not None:
        sim.ledger.write(ledger_dir)
    where = (
        out_file
        if out_file is not None
        else f"Kafka topics {', '.join(TenantNames(params.tenant).raw_topics)}"
    )
    console.print(
        f"run {sim.run_id}: {count} records to {where} in {elapsed:.2f} s "
        f"= {count / max(elapsed, 1e-9):,.0f} records/s; faults {sim.ledger.run['faults']}"
    )
    if ledger_dir is not None:
        console.print(f"ledger: {ledger_dir}")
