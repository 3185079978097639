"""Records of the configuration topic ``<tenant>.gca.config`` (contract for GSP and other consumers).

One record per changed configuration object, in snapshot order (object type, then DBID):

* **key**: ``<object type>:<dbid>`` in UTF-8, e.g. ``person:1234``, ``dn:118``, ``agent_login:1236``. One key
  per object forever, so the topic can be compacted (``cleanup.policy=compact``): the latest record per key is
  the object's current state.
* **value**: UTF-8 JSON object with every snapshot column of the type (``gca.model``: ``dbid``, ``state``,
  ``change_counter``, ``created_ts``, ``changed_ts`` and the type's attributes, nulls included) plus
  ``object_type``, ``tenant``, ``op`` (``added`` | ``changed`` | ``deleted``), ``snapshot_id`` (the snapshot
  the
  change belongs to) and ``dim``: the object's current Info Mart key, ``{"table": "resource_", "key": 17,
  "start_ts": 1767225600, "end_ts": null}``, or null for objects without a dimension row (extensions,
  logins, memberships, skill levels, non-agent persons, interaction types).
* **deletes** are *soft tombstones*: a deleted object is published once with ``state: "deleted"``, ``op:
  "deleted"`` and its last attributes (``dim.end_ts`` set). We never publish a null value (Kafka tombstone),
  so compaction keeps deleted objects and a late event of an agent who has left still resolves to the agent's
  (closed) ``RESOURCE_KEY``.

Delivery is at least once: a run that dies after publishing and before recording its marker re-publishes the
same records (same keys, same values) when re-run. Consumers treat records as upserts by key.
"""

from __future__ import annotations

import json

import pyarrow as pa

from gim_dagster.core.gca.model import OBJECT_TYPES
from gim_dagster.core.gca.snapshot import OPS, Changes

Record = tuple[bytes, bytes]


def record_key(object_type: str, dbid: int) -> bytes:
    return f"{object_type}:{dbid}".encode()


def current_keys(keys: pa.Table) -> dict[tuple[str, int], dict[str, object]]:
    """(object type, DBID) -> its latest dimension version ``{"table", "key", "start_ts", "end_ts"}``."""
    latest: dict[tuple[str, int], dict[str, object]] = {}
    for row in keys.to_pylist():  # sorted by object, start_ts, key: the last one wins
        latest[(row["object_type"], row["dbid"])] = {
            "table": row["dim_table"],
            "key": row["dim_key"],
            "start_ts": row["start_ts"],
            "end_ts": row["end_ts"],
        }
    return latest


def build_records(tenant: str, snapshot_id: int, changes: Changes, keys: pa.Table) -> list[Record]:
    dims = current_keys(keys)
    records: list[Record] = []
    for object_type in OBJECT_TYPES:
        rows = [(op, row) for op in OPS for row in changes.rows[object_type][op]]
        for op, row in sorted(rows, key=lambda item: item[1]["dbid"]):
            value = {
                "object_type": object_type,
                "tenant": tenant,
                "op": op,
                "snapshot_id": snapshot_id,
                **row,
                "dim": dims.get((object_type, row["dbid"])),
            }
            records.append((record_key(object_type, row["dbid"]), json.dumps(value, sort_keys=True).encode()))
    return records
