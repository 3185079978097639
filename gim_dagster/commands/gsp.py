"""`gim gsp …`: operator actions on a tenant's stream processor (docs/operations.md, "GSP stopped")."""

from __future__ import annotations

from typing import Annotated

import typer

from gim_dagster.commands.output import console, fail
from gim_dagster.core.gsp import CheckpointStore
from gim_dagster.core.gsp.microbatch import restart_from_raw
from gim_dagster.kafka_clients import KafkaClients
from gim_dagster.settings import Settings, load_settings
from gim_dagster.tenant_storage import TenantStorage

app = typer.Typer(help="The tenants' GSP (stream processor): recovery.", no_args_is_help=True)


def checkpoint_store(settings: Settings, tenant: str) -> CheckpointStore:
    return TenantStorage.of(settings).checkpoints(tenant)


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
    consumer = KafkaClients.of(settings.kafka).consumer()
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


@app.command("reset-offset")
def reset_offset(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="The tenant whose GSP checkpoint moves.")],
    topic: Annotated[str, typer.Option("--topic", help="The raw topic, e.g. <tenant>.voice.events.")],
    to: Annotated[str, typer.Option("--to", help="earliest, latest or an offset of the partition.")],
    partition: Annotated[int, typer.Option("--partition", "-p", help="Partition of the raw topic.")] = 0,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit object).")] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do it (without: say what would happen).")] = False,
) -> None:
    """Move the GSP checkpoint's offset of one raw partition, e.g. after the topic was recreated.

    The rest of the state is kept; an audit object is written under the checkpoint prefix's resets/ before
    the new checkpoint and its pointer.
    """
    from gim_dagster.core.gsp.microbatch import reset_checkpoint_offset
    from gim_dagster.core.kafka_io import resolve_offset

    settings = load_settings()
    names = settings.tenant(tenant).names
    if topic not in names.raw_topics:
        raise fail(f"{topic} is not a raw topic of {tenant} ({', '.join(names.raw_topics)})")
    store = checkpoint_store(settings, tenant)
    pointer = store.pointer()
    if pointer is None:
        raise fail(f"{tenant}: no GSP checkpoint under s3://{store.bucket}/{store.prefix}/: nothing to reset")
    tp = (topic, partition)
    consumer = KafkaClients.of(settings.kafka).consumer()
    try:
        offset, low, high = resolve_offset(consumer, tp, to)
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        consumer.close()
    change = (
        f"{topic}[{partition}]: checkpoint offset {pointer.offsets.get(tp)} -> {offset} "
        f"(partition holds {low}..{high})"
    )
    if not yes:
        console.print(f"{tenant}: would move {change}; --yes does")
        return
    checkpoint_id, _record = reset_checkpoint_offset(
        store, tp, offset, low=low, high=high, reason=reason or f"gim gsp reset-offset --to {to}"
    )
    console.print(f"{tenant}: moved {change}; new checkpoint {checkpoint_id}")
