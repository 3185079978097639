"""GCA snapshots in S3 (any S3 client with ``put_object`` / ``get_object``, e.g. boto3's).

Layout under ``root`` (``<s3.prefix>/tenants/<tenant>/gca/snapshots``):

``<id:010d>/<object type>.parquet``   one zstd-compressed Parquet file per object type (``gca.model``
                                      columns),
                                      every object ever seen, deleted ones with ``state = 'deleted'``
``<id:010d>/violations.parquet``      model violations (object_type, dbid, rule, message)
``<id:010d>/dimension_keys.parquet``  every Info Mart key version per object (see
                                      ``dimensions.dimension_keys``)
``<id:010d>/manifest.json``           snapshot id, change counter, counts, written last
``latest.json``                       the marker: the last complete snapshot id and change counter, written
                                      only after the snapshot's changes are published and flushed

Snapshot ids are monotonic (previous + 1). A run that dies before writing ``latest.json`` re-runs from the
same
marker and writes the same snapshot id again (objects are overwritten with the same content).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from gim_dagster.core.gca.model import OBJECT_TYPES, empty_tables
from gim_dagster.core.gca.snapshot import Snapshot
from gim_dagster.core.gca.validate import violations_from_table, violations_table
from gim_dagster.core.s3_objects import get_body

MARKER = "latest.json"


class S3Client(Protocol):
    def put_object(self, **kwargs: Any) -> Any: ...
    def get_object(self, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Marker:
    snapshot_id: int
    change_counter: int
    snapshot_prefix: str


class SnapshotStore:
    def __init__(self, client: S3Client, bucket: str, root: str) -> None:
        self.client = client
        self.bucket = bucket
        self.root = root.strip("/")

    def snapshot_prefix(self, snapshot_id: int) -> str:
        return f"{self.root}/{snapshot_id:010d}"

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def _get(self, key: str) -> bytes | None:
        return get_body(self.client, self.bucket, key)

    def _put_table(self, key: str, table: pa.Table) -> None:
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        self._put(key, buffer.getvalue(), "application/vnd.apache.parquet")

    def _get_table(self, key: str) -> pa.Table:
        body = self._get(key)
        if body is None:
            raise FileNotFoundError(f"s3://{self.bucket}/{key} is missing")
        return pq.read_table(io.BytesIO(body))

    def read_marker(self) -> Marker | None:
        body = self._get(f"{self.root}/{MARKER}")
        if body is None:
            return None
        data = json.loads(body)
        return Marker(data["snapshot_id"], data["change_counter"], data["snapshot_prefix"])

    def write_marker(self, marker: Marker) -> None:
        body = json.dumps({**asdict(marker), "written_ts": int(time.time())}, indent=2).encode()
        self._put(f"{self.root}/{MARKER}", body, "application/json")

    def write_snapshot(self, snapshot: Snapshot, keys: pa.Table, counts: dict[str, dict[str, int]]) -> str:
        """Write every file of ``snapshot``; return its prefix."""
        prefix = self.snapshot_prefix(snapshot.snapshot_id)
        for object_type, table in snapshot.tables.items():
            self._put_table(f"{prefix}/{object_type}.parquet", table)
        self._put_table(f"{prefix}/violations.parquet", violations_table(snapshot.violations))
        self._put_table(f"{prefix}/dimension_keys.parquet", keys)
        manifest = {
            "snapshot_id": snapshot.snapshot_id,
            "change_counter": snapshot.change_counter,
            "objects": {t: snapshot.tables[t].num_rows for t in OBJECT_TYPES},
            "changes": counts,
            "violations": len(snapshot.violations),
        }
        self._put(f"{prefix}/manifest.json", json.dumps(manifest, indent=2).encode(), "application/json")
        return prefix

    def read_dimension_keys(self, marker: Marker) -> pa.Table:
        """Every Info Mart key version of every object of the snapshot the marker names."""
        return self._get_table(f"{marker.snapshot_prefix}/dimension_keys.parquet")

    def read_snapshot(self, marker: Marker | None) -> Snapshot:
        """The snapshot the marker names (the empty snapshot 0 without a marker)."""
        if marker is None:
            return Snapshot.empty()
        tables = empty_tables()
        for object_type in OBJECT_TYPES:
            read = self._get_table(f"{marker.snapshot_prefix}/{object_type}.parquet")
            tables[object_type] = read.cast(tables[object_type].schema)
        violations = violations_from_table(self._get_table(f"{marker.snapshot_prefix}/violations.parquet"))
        return Snapshot(marker.snapshot_id, marker.change_counter, tables, violations)
