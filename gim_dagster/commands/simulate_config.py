"""`gim simulate config`: seed a tenant's Configuration DB with a centre, or change it (`--mutate`)."""

from __future__ import annotations

from typing import Annotated

import typer

from gim_dagster.commands.checks import AT_LEAST_ONE
from gim_dagster.commands.configdb import configdb_engine
from gim_dagster.commands.output import fail
from gim_dagster.core.configdb.schema import create_schema
from gim_dagster.core.configdb.seed import SeedError, SeedSpec, mutate_config, seed_config
from gim_dagster.core.gca.reader import ConfigDbError, config_db_errors
from gim_dagster.settings import SettingsError


def simulate_config(
    tenant: Annotated[str, typer.Option(help="Tenant (as listed in the settings file).")],
    agents: Annotated[int, typer.Option(help="Number of agents.", callback=AT_LEAST_ONE)] = 50,
    groups: Annotated[int, typer.Option(help="Number of agent groups.", callback=AT_LEAST_ONE)] = 4,
    skills: Annotated[
        int, typer.Option(help="Number of skills (one queue each).", callback=AT_LEAST_ONE)
    ] = 5,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same contact centre.")] = 0,
    mutate: Annotated[
        bool,
        typer.Option("--mutate", help="Change the seeded centre instead (hire, leave, move, skill, rename)."),
    ] = False,
    changes: Annotated[
        int, typer.Option(help="With --mutate: how many changes to apply.", callback=AT_LEAST_ONE)
    ] = 5,
) -> None:
    """Fill the tenant's Configuration DB with a realistic, deterministic contact centre, or change it."""
    try:
        if not mutate:
            SeedSpec(tenant, agents, groups, skills, seed).check()
        engine = configdb_engine(tenant)
        with config_db_errors(tenant):
            create_schema(engine)
            if mutate:
                for line in mutate_config(engine, seed=seed, changes=changes):
                    typer.echo(line)
                return
            counts = seed_config(engine, SeedSpec(tenant, agents, groups, skills, seed))
    except (SettingsError, ConfigDbError, SeedError) as exc:
        raise fail(str(exc)) from None
    summary = ", ".join(f"{n} {table.removeprefix('cfg_')}" for table, n in counts.items())
    typer.echo(f"{tenant}: seeded {summary}")
