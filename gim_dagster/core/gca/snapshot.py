"""Snapshots: the full configuration of a tenant at one change counter, and the difference between two.

A snapshot holds every object ever seen, deleted ones included (``state = 'deleted'``): GSP may still need to
resolve a late event of an agent who has left. A snapshot is built from the previous one and an incremental
read (rows replace rows by DBID), or from a full read, where an object the previous snapshot had and the
database no longer has (a hard delete) is kept as a tombstone stamped with the read time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from gim_dagster.core.gca.model import OBJECT_TYPES, Row, empty_tables, rows_by_dbid, same_object, to_table
from gim_dagster.core.gca.reader import ConfigRead
from gim_dagster.core.gca.validate import Violation

OPS = ("added", "changed", "deleted")


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    change_counter: int
    tables: dict[str, pa.Table]
    violations: list[Violation] = field(default_factory=list)

    @classmethod
    def empty(cls) -> Snapshot:
        return cls(snapshot_id=0, change_counter=0, tables=empty_tables())

    def invalid(self) -> dict[str, set[int]]:
        """DBIDs per object type that violate the model (neither published nor synced)."""
        result: dict[str, set[int]] = {t: set() for t in OBJECT_TYPES}
        for v in self.violations:
            result[v.object_type].add(v.dbid)
        return result


def merge(previous: Snapshot, read: ConfigRead) -> dict[str, pa.Table]:
    """The tables of the next snapshot: ``previous`` updated with ``read`` (see the module docstring)."""
    tables: dict[str, pa.Table] = {}
    for t in OBJECT_TYPES:
        prev, new = previous.tables[t], read.tables[t]
        if read.since is None:
            gone = prev.filter(pc.invert(pc.is_in(prev["dbid"], value_set=new["dbid"])))
            kept = _tombstones(t, gone, read.read_ts)
        else:
            kept = prev.filter(pc.invert(pc.is_in(prev["dbid"], value_set=new["dbid"])))
        tables[t] = pa.concat_tables([kept, new]).sort_by("dbid")
    return tables


def _tombstones(object_type: str, table: pa.Table, ts: int) -> pa.Table:
    rows = [
        row if row["state"] == "deleted" else {**row, "state": "deleted", "changed_ts": ts}
        for row in table.to_pylist()
    ]
    return to_table(object_type, rows)


@dataclass
class Changes:
    """Objects to publish per type and operation (rows of the new snapshot, tombstones for deletes)."""

    rows: dict[str, dict[str, list[Row]]]

    @classmethod
    def none(cls) -> Changes:
        return cls({t: {op: [] for op in OPS} for t in OBJECT_TYPES})

    def counts(self) -> dict[str, dict[str, int]]:
        return {t: {op: len(rows) for op, rows in ops.items()} for t, ops in self.rows.items()}

    def total(self) -> int:
        return sum(len(rows) for ops in self.rows.values() for rows in ops.values())


def diff(previous: Snapshot, tables: dict[str, pa.Table], violations: list[Violation]) -> Changes:
    """What changed between ``previous`` and ``tables`` among objects that satisfy the model.

    A violating object is left out on both sides: its last valid version stays what consumers have, and once
    fixed it is published (as added or changed). Deleted: newly tombstoned, including objects created and
    deleted between two snapshots. Added: new, or back from deletion. Changed: attributes or state differ.
    """
    changes = Changes.none()
    invalid_before = previous.invalid()
    invalid_now = Snapshot(0, 0, tables, violations).invalid()
    for t in OBJECT_TYPES:
        before = {k: v for k, v in rows_by_dbid(previous.tables[t]).items() if k not in invalid_before[t]}
        for dbid, row in rows_by_dbid(tables[t]).items():
            if dbid in invalid_now[t]:
                continue
            old = before.get(dbid)
            old_alive = old is not None and old["state"] != "deleted"
            if row["state"] == "deleted":
                if old is None or old_alive:
                    changes.rows[t]["deleted"].append(row)
            elif not old_alive:
                changes.rows[t]["added"].append(row)
            elif not same_object(row, old):
                changes.rows[t]["changed"].append(row)
    return changes
