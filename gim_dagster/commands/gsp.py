"""`gim gsp …`: operator actions on a tenant's stream processor (docs/operations.md, "GSP stopped")."""

from __future__ import annotations

from typing import Annotated

import typer

from gim_dagster.commands.output import console, fail
from gim_dagster.core.gsp import CheckpointStore
from gim_dagster.core.gsp.microbatch import restart_from_raw
from gim_dagster.resources import KafkaResource
from gim_dagster.settings import Settings, load_settings, resolve

app = typer.Typer(help="The tenants' GSP (stream processor): recovery.", no_args_is_help=True)


def checkpoint_store(settings: Settings, tenant: str) -> CheckpointStore:
    s3 = settings.s3
    prefix = f"{s3.prefix}/{settings.tenant(tenant).names.gsp_checkpoint_prefix}"
    return CheckpointStore(s3.client(), str(resolve(s3.bucket)), prefix)


@app.command()
def restart(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="The tenant whose checkpoint was lost.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do it (without: say what would happen).")] = False,
) -> None:
    """After a lost checkpoint: restart GSP from the first raw offsets the broker still keeps.

    GSP re-derives every fact from the raw topics with the same keys, so the load updates the Info Mart's
    rows in place; facts of raw records that retention already deleted stay as they were loaded.
    """
    settings = load_settings()
    store = checkpoint_store(settings, tenant)
    if store.pointer() is not None:
        raise fail(
            f"{tenant}: a GSP checkpoint exists (s3://{store.bucket}/{store.prefix}/): nothing to recover"
        )
    if not yes:
        console.print(
            f"{tenant}: would write an empty GSP checkpoint at the raw topics' first offsets; --yes does"
        )
        return
    consumer = KafkaResource.from_settings(settings.kafka).consumer()
    try:
        checkpoint_id, offsets = restart_from_raw(consumer, store, tenant)
    finally:
        consumer.close()
    trimmed = {f"{t}[{p}]": o for (t, p), o in sorted(offsets.items()) if o > 0}
    console.print(f"{tenant}: GSP restarts from checkpoint {checkpoint_id}")
    if trimmed:
        console.print(
            f"{tenant}: retention already deleted the records before {trimmed}: their facts stay as loaded"
        )
