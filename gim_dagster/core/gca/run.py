"""One GCA run for one tenant: read, snapshot, validate, diff, sync dimensions, publish, record the marker.

The order makes a run safe to repeat after a crash at any point:

1. read the marker (``latest.json``) and the Configuration DB (incrementally after the marker's change
   counter, fully on the first run or a reconcile); a Configuration DB that cannot be read fails here, before
   anything is written;
2. build the next snapshot, validate it, diff it against the marker's snapshot;
3. sync the Info Mart dimensions (one audited transaction; idempotent, so a repeat writes nothing);
4. write the snapshot files (same id, same content on a repeat);
5. publish the changed objects with their dimension keys and flush (a repeat re-publishes the same records);
6. write the marker. Only now is the run's work "done"; a crash before leaves the previous marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from confluent_kafka import KafkaError, Producer

from gim_dagster.core.gca.dimensions import dimension_keys, sync_dimensions
from gim_dagster.core.gca.reader import read_config
from gim_dagster.core.gca.records import Record, build_records
from gim_dagster.core.gca.snapshot import Changes, Snapshot, diff, merge
from gim_dagster.core.gca.store import Marker, SnapshotStore
from gim_dagster.core.gca.validate import Violation, validate

Publish = Callable[[list[Record]], None]


class PublishError(RuntimeError):
    """Records could not be delivered to the configuration topic."""


@dataclass
class GcaResult:
    snapshot_id: int
    previous_snapshot_id: int
    change_counter: int
    full: bool
    counts: dict[str, dict[str, int]]
    published: int
    violations: list[Violation]
    snapshot_prefix: str | None
    dimension_rows: dict[str, int] = field(default_factory=dict)
    audit_key: int | None = None


def run_gca(
    *,
    tenant: str,
    configdb: sa.Engine,
    infomart: Callable[[], sa.Engine],
    store: SnapshotStore,
    publish: Publish,
    job_id: str,
    full: bool = False,
) -> GcaResult:
    """One run (see the module docstring). ``full`` forces a full read and dimension reconcile.

    ``infomart`` returns the tenant's migrated Info Mart engine; it is called only once the Configuration DB
    has been read, so a run that cannot read its configuration touches nothing.
    """
    marker = store.read_marker()
    since = None if full or marker is None else marker.change_counter
    read = read_config(configdb, since, tenant=tenant)
    previous_id = marker.snapshot_id if marker else 0
    if marker is not None and since is not None and read.change_counter == marker.change_counter:
        return GcaResult(
            previous_id, previous_id, read.change_counter, False, Changes.none().counts(), 0, [], None
        )
    previous = store.read_snapshot(marker)
    tables = merge(previous, read)
    violations = validate(tables)
    changes = diff(previous, tables, violations)
    infomart_engine = infomart()
    dims = sync_dimensions(infomart_engine, tables, violations, job_id=job_id, as_of=read.read_ts)
    new_snapshot = marker is None or changes.total() > 0 or violations != previous.violations
    snapshot_id = previous_id + 1 if new_snapshot else previous_id
    prefix = marker.snapshot_prefix if marker else ""
    if new_snapshot:
        snapshot = Snapshot(snapshot_id, read.change_counter, tables, violations)
        keys = dimension_keys(infomart_engine, tables)
        prefix = store.write_snapshot(snapshot, keys, changes.counts())
        publish(build_records(tenant, snapshot_id, changes, keys))
    store.write_marker(Marker(snapshot_id, read.change_counter, prefix))
    return GcaResult(
        snapshot_id=snapshot_id,
        previous_snapshot_id=previous_id,
        change_counter=read.change_counter,
        full=since is None,
        counts=changes.counts(),
        published=changes.total() if new_snapshot else 0,
        violations=violations,
        snapshot_prefix=prefix if new_snapshot else None,
        dimension_rows=dims.rows,
        audit_key=dims.audit_key,
    )


def kafka_publisher(producer: Producer, topic: str, timeout: float = 30.0) -> Publish:
    """Produce records in one batch and flush; raise ``PublishError`` unless every record was delivered."""

    def publish(records: list[Record]) -> None:
        errors: list[KafkaError] = []

        def delivered(err: KafkaError | None, _msg: object) -> None:
            if err is not None:
                errors.append(err)

        for key, value in records:
            while True:
                try:
                    producer.produce(topic, key=key, value=value, on_delivery=delivered)
                    break
                except BufferError:  # local queue full: let deliveries drain, then retry this record
                    producer.poll(0.5)
        remaining = producer.flush(timeout)
        if remaining or errors:
            reason = errors[0].str() if errors else f"{remaining} records not delivered within {timeout:.0f}s"
            raise PublishError(f"publishing to {topic} failed: {reason}")

    return publish
