"""Reading a tenant's Configuration DB: everything, or only what changed after a change counter.

One repeatable-read, read-only transaction per read, so the rows and the change marker are one consistent
picture. Connection and schema problems raise ``ConfigDbError`` with a one-line message naming the tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import sqlalchemy as sa

from gim_dagster.core.configdb.schema import OBJECT_TABLES, change_marker, schema_exists
from gim_dagster.core.gca.model import ATTRIBUTES, OBJECT_TYPES, to_table


class ConfigDbError(RuntimeError):
    """The Configuration DB cannot be read (unreachable, or has no schema)."""


@dataclass(frozen=True)
class ConfigRead:
    tables: dict[str, pa.Table]
    """Rows per object type: all rows (``since is None``) or those with ``change_counter > since``."""
    change_counter: int
    """The change marker at the time of the read: every change up to it is in ``tables`` (or was before)."""
    read_ts: int
    """Database time of the read, UTC seconds (time of objects found missing by a full read)."""
    since: int | None


def _select(object_type: str, incremental: bool) -> sa.TextClause:
    attributes = ", ".join(name for name, _type in ATTRIBUTES[object_type])
    where = "WHERE change_counter > :since" if incremental else ""
    return sa.text(
        "SELECT dbid, state, change_counter, extract(epoch FROM created_at)::bigint AS created_ts, "
        f"extract(epoch FROM updated_at)::bigint AS changed_ts, {attributes} "
        f"FROM {OBJECT_TABLES[object_type]} {where} ORDER BY dbid"
    )


def _read(conn: sa.Connection, object_type: str, since: int | None) -> pa.Table:
    rows = conn.execute(_select(object_type, since is not None), {"since": since}).mappings()
    return to_table(object_type, [dict(r) for r in rows])


@contextmanager
def config_db_errors(tenant: str) -> Iterator[None]:
    """Turn a connection failure into a ``ConfigDbError`` naming the tenant and the reason, on one line."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise ConfigDbError(f"cannot reach the Configuration DB of tenant {tenant!r}: {reason}") from None


def read_config(engine: sa.Engine, since: int | None = None, *, tenant: str = "") -> ConfigRead:
    """All objects (``since=None``), or the objects changed after change counter ``since``."""
    with (
        config_db_errors(tenant),
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        conn.begin(),
    ):
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        if not schema_exists(conn):
            raise ConfigDbError(
                f"the Configuration DB of tenant {tenant!r} has no schema: run `gim configdb init "
                f"--tenant {tenant}`"
            )
        marker = change_marker(conn)
        read_ts = int(conn.execute(sa.text("SELECT extract(epoch FROM now())::bigint")).scalar_one())
        tables = {t: _read(conn, t, since) for t in OBJECT_TYPES}
    return ConfigRead(tables=tables, change_counter=marker, read_ts=read_ts, since=since)


def read_change_marker(engine: sa.Engine) -> int:
    """The Configuration DB's change marker (what the sensor polls); 0 if it has no schema yet."""
    with engine.connect() as conn:
        return change_marker(conn) if schema_exists(conn) else 0
