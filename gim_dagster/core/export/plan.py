"""Which audit keys the next export covers: the high-water mark (HWM) state and the one-day rule.

The stream's state lives in ``GIM_EXPORT_HWM`` (row ``stream = 'export'``): the last exported audit key, its
created time, the maximum data time exported so far and the folder name. It is written in the export's own
transaction, after the folder is published, so it only moves when an export is complete.

Data time of an audit key is ``COALESCE(max_chunk_ts, max_start_date_time_key)`` of its CTL_AUDIT_LOG row
(transactions without facts, e.g. dimension changes, have none and never count against the day).

The one-day rule: the next export takes the committed audit keys after the HWM, in key order, while their
data time stays within one day of the previous ``max-data-ts``, or of the window's earliest data when that
is later (the very first export; the first after a gap in the data). It stops before the first key beyond
that limit, so after an outage the stream advances at most one day per export and never skips a key. A
single transaction that itself carries more than a day of new data cannot be split by audit key; it is
exported alone (the loader's spans of data time make that impossible for new data).
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
RESTART_START = "start"


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


def day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def mark_before_data(conn: sa.Connection, ts: int) -> Mark:
    """The mark just before the first audit key whose data reaches ``ts``: a stream from it exports every
    transaction from the first one carrying data of that time or later (after the last key when none does)."""
    row = conn.execute(
        sa.text(
            "SELECT audit_key, created_ts FROM ctl_audit_log WHERE audit_key < COALESCE("
            f"(SELECT min(audit_key) FROM ctl_audit_log WHERE {_DATA_TS} >= :ts), 9223372036854775807) "
            "ORDER BY audit_key DESC LIMIT 1"
        ),
        {"ts": ts},
    ).first()
    return Mark(row[0], row[1]) if row else ORIGIN


def starting_state(
    conn: sa.Connection, *, restart: str | None, start_date: date | None, stream: str = STREAM
) -> StreamState:
    """The state the next export of ``stream`` starts from.

    ``restart`` (run config) forces a new start: ``"beginning"`` (every transaction), ``"start"`` (the
    stream's start: ``start_date`` from the settings, else the beginning) or a data date ``YYYY-MM-DD``
    (from the first transaction carrying data of 00:00 UTC of that day or later). Otherwise the stored state;
    a stream that never exported starts at its start.
    """
    if restart is None:
        state = read_state(conn, stream)
        if state is not None:
            return state
        restart = RESTART_START
    if restart == RESTART_BEGINNING or (restart == RESTART_START and start_date is None):
        return StreamState(ORIGIN, None)
    day = start_date if restart == RESTART_START and start_date else parse_day(restart)
    return StreamState(mark_before_data(conn, day_start(day)), None)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"invalid date {text!r}: use a data date YYYY-MM-DD, '{RESTART_BEGINNING}' or '{RESTART_START}'"
        ) from None


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
    """The longest prefix of ``rows`` whose data stays within one day (at least one row: always progress).

    The day starts at the previous export's ``max-data-ts``, or at the earliest data of the window when that
    is later (the very first export, or the first after a gap in the data): the window's maximum data time
    stays within a day of it.
    """
    taken: list[AuditRow] = []
    low: int | None = None
    high: int | None = None
    for row in rows:
        lows = [
            v
            for v in (low, row.min_data_ts if row.min_data_ts is not None else row.max_data_ts)
            if v is not None
        ]
        highs = [v for v in (high, row.max_data_ts) if v is not None]
        low, high = min(lows, default=None), max(highs, default=None)
        starts = [v for v in (prev_max_data_ts, low) if v is not None]
        beyond = high is not None and high - max(starts) > DAY_SECONDS
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


def data_day_runs(conn: sa.Connection, day: date, cap: int) -> list[tuple[Mark, Mark]]:
    """The audit-key spans ``(from, to]``, keys at most ``cap``, holding the transactions of data day ``day``.

    A transaction belongs to the UTC day of its data time, or of its creation when it carries no fact data
    (dimension changes). Loads cut their work along data time in spans that tile the day, so each key
    belongs to one day; the keys of a day are mostly consecutive, and each maximal run of them is one span.
    """
    lo, hi = day_start(day), day_start(day) + DAY_SECONDS
    rows = conn.execute(
        sa.text(
            "SELECT audit_key, created_ts, prev_key, prev_created FROM ("
            f"SELECT audit_key, created_ts, COALESCE({_DATA_TS}, created_ts) AS day_ts, "
            "lag(audit_key) OVER w AS prev_key, lag(created_ts) OVER w AS prev_created "
            "FROM ctl_audit_log WHERE audit_key <= :cap WINDOW w AS (ORDER BY audit_key)) k "
            "WHERE day_ts >= :lo AND day_ts < :hi ORDER BY audit_key"
        ),
        {"cap": cap, "lo": lo, "hi": hi},
    ).all()
    runs: list[tuple[Mark, Mark]] = []
    for key, created, prev_key, prev_created in rows:
        if runs and runs[-1][1].audit_key == prev_key:
            runs[-1] = (runs[-1][0], Mark(key, created))
        else:
            start = Mark(prev_key, prev_created or 0) if prev_key is not None else ORIGIN
            runs.append((start, Mark(key, created)))
    return runs


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
