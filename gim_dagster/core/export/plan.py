"""Which audit keys the next export covers: the high-water mark (HWM) state and the one-day rule.

The stream's state lives in ``GIM_EXPORT_HWM`` (row ``stream = 'export'``): the last exported audit key, its
created time, the maximum data time exported so far and the folder name. It is written in the export's own
transaction, after the folder is published, so it only moves when an export is complete.

Data time of an audit key is ``COALESCE(max_chunk_ts, max_start_date_time_key)`` of its CTL_AUDIT_LOG row
(transactions without facts, e.g. dimension changes, have none and never count against the day).

The one-day rule: the next export takes the committed audit keys after the HWM, in key order, while their
data time stays within one day of the previous ``max-data-ts`` (for the very first export: of the earliest
data time of its first key with data). It stops before the first key beyond that limit, so after an outage
the stream advances at most one day per export and never skips a key. A single transaction that itself
carries more than a day of new data cannot be split by audit key; it is exported alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from gim_dagster.core.export.contract import ORIGIN, Mark, stream_folder_name

DAY_SECONDS = 86_400
STREAM = "export"
RESTART_BEGINNING = "beginning"


@dataclass(frozen=True)
class StreamState:
    """Where the stream stands: the last exported mark and the maximum data time exported so far."""

    mark: Mark
    max_data_ts: int | None
    export_name: str | None = None


@dataclass(frozen=True)
class AuditRow:
    audit_key: int
    created_ts: int
    min_data_ts: int | None
    max_data_ts: int | None


@dataclass(frozen=True)
class ExportPlan:
    """One export: rows changed by audit keys in ``(hwm_from, hwm_to]``."""

    hwm_from: Mark
    hwm_to: Mark
    max_data_ts: int | None
    """Maximum data time of this and all previous exports (None: no fact data exported yet)."""

    @property
    def folder(self) -> str:
        return stream_folder_name(self.hwm_to.audit_key, self.max_data_ts or 0)


_DATA_TS = "COALESCE(max_chunk_ts, max_start_date_time_key)"


def read_state(conn: sa.Connection, stream: str = STREAM) -> StreamState | None:
    row = conn.execute(
        sa.text(
            "SELECT hwm_audit_key, hwm_created_ts, max_data_ts, export_name FROM gim_export_hwm "
            "WHERE stream = :s"
        ),
        {"s": stream},
    ).first()
    if row is None:
        return None
    return StreamState(Mark(row[0], row[1] or 0), row[2], row[3])


def mark_before(conn: sa.Connection, ts: int, cap: int | None = None) -> Mark:
    """The last audit key created before ``ts`` (and at most ``cap``): exports after it start at ``ts``."""
    row = conn.execute(
        sa.text(
            "SELECT audit_key, created_ts FROM ctl_audit_log WHERE created_ts < :ts "
            "AND (CAST(:cap AS bigint) IS NULL OR audit_key <= :cap) ORDER BY audit_key DESC LIMIT 1"
        ),
        {"ts": ts, "cap": cap},
    ).first()
    return Mark(row[0], row[1]) if row else ORIGIN


def day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def starting_state(
    conn: sa.Connection, *, restart: str | None, start_date: date | None, stream: str = STREAM
) -> StreamState:
    """The state the next export starts from.

    ``restart`` (run config) forces a new start: ``"beginning"`` or a date ``YYYY-MM-DD`` (transactions
    created from 00:00 UTC of that day on). Otherwise the stored state; a stream that never exported starts
    at ``start_date`` (settings) or at the beginning.
    """
    if restart is not None:
        if restart == RESTART_BEGINNING:
            return StreamState(ORIGIN, None)
        return StreamState(mark_before(conn, day_start(parse_day(restart))), None)
    state = read_state(conn, stream)
    if state is not None:
        return state
    return StreamState(mark_before(conn, day_start(start_date)) if start_date else ORIGIN, None)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid date {text!r}: use YYYY-MM-DD or '{RESTART_BEGINNING}'") from None


def pending_audit(conn: sa.Connection, after: int, upto: int | None = None) -> list[AuditRow]:
    """Committed audit keys after ``after`` (and at most ``upto``), in key order."""
    rows = conn.execute(
        sa.text(
            f"SELECT audit_key, created_ts, min_start_date_time_key, {_DATA_TS} FROM ctl_audit_log "
            "WHERE audit_key > :a AND (CAST(:b AS bigint) IS NULL OR audit_key <= :b) ORDER BY audit_key"
        ),
        {"a": after, "b": upto},
    ).all()
    return [AuditRow(*row) for row in rows]


def choose_window(rows: Sequence[AuditRow], prev_max_data_ts: int | None) -> list[AuditRow]:
    """The longest prefix of ``rows`` whose data stays within one day (at least one row: always progress)."""
    base = prev_max_data_ts
    if base is None:
        first = next((r for r in rows if r.max_data_ts is not None), None)
        if first is None:
            return list(rows)
        base = first.min_data_ts if first.min_data_ts is not None else first.max_data_ts
    limit = base + DAY_SECONDS
    taken: list[AuditRow] = []
    for row in rows:
        beyond = row.max_data_ts is not None and row.max_data_ts > limit
        if beyond and taken:
            break
        taken.append(row)
        if beyond:
            break
    return taken


def plan_next(conn: sa.Connection, state: StreamState) -> ExportPlan | None:
    """The next export after ``state``, or None when no audit key was committed since."""
    window = choose_window(pending_audit(conn, state.mark.audit_key), state.max_data_ts)
    if not window:
        return None
    last = window[-1]
    data = [r.max_data_ts for r in window if r.max_data_ts is not None]
    if state.max_data_ts is not None:
        data.append(state.max_data_ts)
    return ExportPlan(state.mark, Mark(last.audit_key, last.created_ts), max(data, default=None))


def max_data_ts_upto(conn: sa.Connection, audit_key: int) -> int | None:
    """Maximum data time of all transactions up to ``audit_key`` (a re-export's ``max-data-ts``)."""
    return conn.execute(
        sa.text(f"SELECT max({_DATA_TS}) FROM ctl_audit_log WHERE audit_key <= :k"), {"k": audit_key}
    ).scalar_one()


def save_state(conn: sa.Connection, plan: ExportPlan, stream: str = STREAM) -> None:
    """Move the stream's HWM to ``plan`` (call only once the folder is published)."""
    conn.execute(
        sa.text(
            "INSERT INTO gim_export_hwm (stream, hwm_audit_key, hwm_created_ts, max_data_ts, export_name, "
            "updated) VALUES (:s, :k, :c, :d, :n, clock_timestamp() AT TIME ZONE 'UTC') "
            "ON CONFLICT (stream) DO UPDATE SET hwm_audit_key = EXCLUDED.hwm_audit_key, "
            "hwm_created_ts = EXCLUDED.hwm_created_ts, max_data_ts = EXCLUDED.max_data_ts, "
            "export_name = EXCLUDED.export_name, updated = EXCLUDED.updated"
        ),
        {
            "s": stream,
            "k": plan.hwm_to.audit_key,
            "c": plan.hwm_to.created_ts,
            "d": plan.max_data_ts,
            "n": plan.folder,
        },
    )
