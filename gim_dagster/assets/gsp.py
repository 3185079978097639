"""GSP in Dagster: the ``gsp_microbatch`` asset (per tenant) and the sensor that starts it on new raw records.

All logic lives in ``gim_dagster.core.gsp``; ``run_microbatch`` documents the order of effects that makes a
killed run safe to repeat. No ``from __future__ import annotations``: Dagster reads the annotations.
"""

import time
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    in_process_executor,
    sensor,
)
from dagster_aws.s3 import S3Resource

from gim_dagster.core.gca.store import SnapshotStore
from gim_dagster.core.gsp import CheckpointStore, GspConfig, KeyResolver, run_microbatch
from gim_dagster.core.gsp.gca_keys import resolver_from_gca
from gim_dagster.core.gsp.microbatch import ensure_may_run
from gim_dagster.core.kafka_io import existing_partitions, has_new_records, offsets_out_of_range
from gim_dagster.core.naming import TenantNames
from gim_dagster.resources import KafkaResource
from gim_dagster.settings import Settings
from gim_dagster.tenant_runs import request_tags, stage_busy, tenant_partitions
from gim_dagster.tenant_storage import TenantStorage

CHECKPOINT_TAG = "gim/gsp-checkpoint"
TRIGGER_TAG = "gim/gsp-trigger"
"""Why the sensor requested the run: ``new-records``, ``idle-flush`` (held-back events of partitions silent
for ``dagster.gsp_idle_flush_seconds``) or ``offset-out-of-range``."""


class GspRunConfig(Config):
    idle_flush_seconds: int | None = None
    """Apply the events still held back for lateness once a raw partition has been silent this long (by the
    broker's record timestamps); None: ``dagster.gsp_idle_flush_seconds`` (600). 0 releases everything the
    run has read: right when a window of traffic is known to be complete (the demo), wrong while late events
    may still come."""


def gca_store(settings: Settings, s3: S3Resource, tenant: str) -> SnapshotStore:
    return TenantStorage.of(settings, s3.get_client()).snapshots(tenant)


def key_resolver(store: SnapshotStore, consumer: Consumer, tenant: str) -> KeyResolver:
    """Configuration keys from the tenant's latest GCA snapshot. Without one (never written, or lost with
    its bucket) GSP stops while there are raw events: every key would resolve to -1 (unknown)."""
    marker = store.read_marker()
    if marker is None:
        where = f"s3://{store.bucket}/{store.root}/"
        ensure_may_run(consumer, tenant, where, has_checkpoint=True, has_gca_snapshot=False)
        return KeyResolver()
    return resolver_from_gca(store.read_snapshot(marker).tables, store.read_dimension_keys(marker))


def checkpoint_store(settings: Settings, s3: S3Resource | Any, tenant: str) -> CheckpointStore:
    """The tenant's checkpoints; ``s3`` is the resource or a boto3 client made from it (a sensor makes one
    client per evaluation for all tenants: building a boto3 client costs more CPU than the GET)."""
    client = s3.get_client() if isinstance(s3, S3Resource) else s3
    return TenantStorage.of(settings, client).checkpoints(tenant)


def gsp_config(settings: Settings, idle_flush_seconds: int | None = None) -> GspConfig:
    """GSP's time semantics from the settings (``dagster.gsp_allowed_lateness_seconds``, idle flush)."""
    idle = settings.dagster.gsp_idle_flush_seconds if idle_flush_seconds is None else idle_flush_seconds
    return GspConfig.with_lateness(settings.dagster.gsp_allowed_lateness_seconds * 1000, idle * 1000)


def definitions(settings: Settings) -> Definitions:
    partitions = tenant_partitions(settings)

    @asset(
        name="gsp_microbatch",
        partitions_def=partitions,
        group_name="gsp",
        deps=[AssetKey("gca_snapshot")],
        kinds={"kafka", "s3"},
        description="The tenant's raw events as Info Mart facts on <tenant>.gsp.facts; state in S3.",
    )
    def gsp_microbatch(
        context: AssetExecutionContext, config: GspRunConfig, kafka: KafkaResource, s3: S3Resource
    ) -> MaterializeResult:
        tenant = context.partition_key
        names = TenantNames(tenant)
        kafka.ensure_topics([names.facts_topic, names.deadletter_topic])
        consumer = kafka.consumer()
        try:
            resolver = key_resolver(gca_store(settings, s3, tenant), consumer, tenant)
            result = run_microbatch(
                tenant,
                consumer,
                kafka.producer(),
                checkpoint_store(settings, s3, tenant),
                settings.dagster.gsp_batch_max_records,
                config=gsp_config(settings, config.idle_flush_seconds),
                resolver=resolver,
                now_ms=int(time.time() * 1000),
            )
        finally:
            consumer.close()
        meta = result.metadata()
        if result.lost_checkpoints:
            context.log.warning(
                f"{tenant}: checkpoint objects missing: {', '.join(result.lost_checkpoints)}; resumed from "
                "the newest older one and re-read the raw records since (docs/operations.md, lost checkpoint)"
            )
        context.log.info(
            f"{tenant}: {meta['records']} records, {sum(meta['facts_by_table'].values())} facts, "
            f"{meta['dead_lettered']} dead letters, checkpoint {result.checkpoint_id}"
        )
        return MaterializeResult(
            metadata={
                **{
                    k: meta[k]
                    for k in ("records", "drained", "late", "duplicates", "dead_lettered", "checkpoint_id")
                },
                "lost_checkpoints": MetadataValue.json(meta["lost_checkpoints"]),
                **{
                    k: MetadataValue.json(meta[k])
                    for k in ("offsets", "events_by_type", "facts_by_table", "stats")
                },
                "timings_s": MetadataValue.json({k: round(v, 3) for k, v in result.timings.items()}),
            }
        )

    # One step: the in-process executor saves the step's own process (about 3 s of every run's start).
    job = define_asset_job(
        "gsp_microbatch_job",
        selection=[gsp_microbatch],
        partitions_def=partitions,
        executor_def=in_process_executor,
    )

    @sensor(
        default_status=DefaultSensorStatus.RUNNING,
        name="gsp_raw_events_sensor",
        job=job,
        minimum_interval_seconds=settings.dagster.sensor_interval_seconds,
        description="Requests a gsp_microbatch run per tenant with new raw records (or events held back for "
        "lateness whose idle flush is due) and no GSP run under way.",
    )
    def gsp_raw_events_sensor(
        context: SensorEvaluationContext, kafka: KafkaResource, s3: S3Resource
    ) -> Iterator[RunRequest | SkipReason]:
        consumer = kafka.consumer()
        requested = False
        now_ms = int(time.time() * 1000)
        idle_flush_ms = settings.dagster.gsp_idle_flush_seconds * 1000
        client = s3.get_client()
        try:
            for tenant in settings.tenant_names:
                store = checkpoint_store(settings, client, tenant)
                request = _request_for(settings, context, consumer, store, tenant, now_ms, idle_flush_ms)
                if request is not None:
                    requested = True
                    yield request
        finally:
            consumer.close()
        if not requested:
            yield SkipReason("no tenant with new raw records and no GSP run under way")

    return Definitions(assets=[gsp_microbatch], jobs=[job], sensors=[gsp_raw_events_sensor])


def _request_for(
    settings: Settings,
    context: SensorEvaluationContext,
    consumer: Consumer,
    store: CheckpointStore,
    tenant: str,
    now_ms: int,
    idle_flush_ms: int,
) -> RunRequest | None:
    """A run request if the tenant has no GSP run queued or in progress and either new raw records or, once
    traffic stopped, events held back for lateness whose idle flush is due at ``now_ms`` (the checkpoint's
    pointer says since when its partitions are silent). Without the second, the last ``allowed lateness``
    of traffic before a pause would wait for the next record, however long that takes.

    The run key is the checkpoint the run starts from, so one checkpoint is processed once (a flush run writes
    a new checkpoint, with nothing held back); after a failed run from the same checkpoint the key names that
    run, so the sensor retries it once per failure.
    """
    if stage_busy(context.instance, tenant, "gsp"):
        return None
    tags = request_tags(settings, tenant, "gsp")
    runs = context.instance.get_run_records(
        RunsFilter(tags={"gim/tenant-stage": tags["gim/tenant-stage"]}), limit=1
    )
    last = runs[0].dagster_run if runs else None
    pointer = store.pointer()
    positions = dict.fromkeys(existing_partitions(consumer, TenantNames(tenant).raw_topics), 0)
    at_eof: dict[tuple[str, int], bool] = {}
    checkpoint = "start"
    if pointer is not None:
        positions.update(pointer.offsets)
        at_eof, checkpoint = pointer.at_eof, pointer.checkpoint_id
    if not positions:
        return None
    flush_due = pointer is not None and pointer.idle_flush_due(now_ms, idle_flush_ms)
    arrived = has_new_records(consumer, positions, at_eof)
    new_records = arrived or flush_due
    failed_here = (
        last is not None
        and last.status == DagsterRunStatus.FAILURE
        and last.tags.get(CHECKPOINT_TAG) == checkpoint
    )
    run_key = f"{tenant}:{checkpoint}"
    if pointer is not None and (failed_here or not new_records):
        # A checkpoint offset out of its partition's range (topic recreated, retention): one run, which
        # fails naming it, per checkpoint; not a silent skip, nor a retry after every failure.
        problems = offsets_out_of_range(consumer, pointer.offsets)
        if problems:
            context.log.error(f"{tenant}: " + "; ".join(p.describe() for p in problems))
            return RunRequest(
                run_key=f"{run_key}:offset-out-of-range",
                partition_key=tenant,
                tags={**tags, CHECKPOINT_TAG: checkpoint, TRIGGER_TAG: "offset-out-of-range"},
            )
    if not new_records:
        return None
    if failed_here and last is not None:
        run_key += f":after-{last.run_id[:8]}"
    trigger = "new-records" if arrived else "idle-flush"
    return RunRequest(
        run_key=run_key, partition_key=tenant, tags={**tags, CHECKPOINT_TAG: checkpoint, TRIGGER_TAG: trigger}
    )
