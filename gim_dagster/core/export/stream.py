"""Job_ExportGIM: the incremental export stream and re-exports of past days.

One export is one REPEATABLE READ transaction on the Info Mart: plan (HWM state, pending audit keys), stream
every exported table from the same snapshot into a folder, publish it to every destination, then move the
HWM in that same transaction and commit. A crash before the commit leaves the HWM where it was; the next run
exports the same span again (a folder that was already published is then published again under the name of
the possibly longer span; the importer merges such overlaps safely, see ``importer``).

Exporters of one Info Mart are serialised by a session advisory lock; a second one fails fast with
``ExportBusy`` instead of producing a competing folder.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from gim_dagster import __version__
from gim_dagster.core.export.contract import ExportInfo, Mark, reexport_folder_name
from gim_dagster.core.export.plan import (
    STREAM,
    ExportPlan,
    data_day_runs,
    max_data_ts_upto,
    plan_next,
    read_state,
    save_state,
    starting_state,
)
from gim_dagster.core.export.publish import Destination, LocalDestination
from gim_dagster.core.export.writer import Folder, refresh_views, sources, write_folder
from gim_dagster.core.infomart.schema import schema_version

EXPORT_LOCK_ID = 0x47494D_45585054  # "GIM" "EXPT"


class ExportBusy(RuntimeError):
    """Another export of the same Info Mart is running."""


@dataclass(frozen=True)
class ExportOptions:
    encoding: str = "utf-8"
    use_views: bool = False
    start_date: date | None = None
    """Where a stream that never exported starts (settings ``export.start_date``)."""
    custom_tables: tuple[str, ...] = ()
    """Custom user-data tables exported besides the model's (settings ``export.custom_tables``)."""


@dataclass(frozen=True)
class Published:
    """One folder written and published."""

    name: str
    locations: list[str]
    rows: dict[str, int]
    hwm_from: Mark
    hwm_to: Mark
    max_data_ts: int


@contextmanager
def _exclusive(engine: sa.Engine) -> Iterator[None]:
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:id)"), {"id": EXPORT_LOCK_ID}).scalar_one():
            raise ExportBusy("another export of this Info Mart is running; try again when it has finished")
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": EXPORT_LOCK_ID})
            conn.commit()


@contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One consistent snapshot for planning and for every table of a folder."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(sa.text("SET LOCAL datestyle = 'ISO, YMD'"))
        conn.execute(sa.text("SET LOCAL client_encoding = 'UTF8'"))
        yield conn


@contextmanager
def _work_dir(destinations: Sequence[Destination], name: str) -> Iterator[Path]:
    """A scratch directory, on the local destination's file system when there is one (rename publishes)."""
    local = next((d for d in destinations if isinstance(d, LocalDestination)), None)
    path = local.work_dir(name) if local else Path(tempfile.mkdtemp(prefix="gim-export-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _write_and_publish(
    conn: sa.Connection,
    destinations: Sequence[Destination],
    name: str,
    info: ExportInfo,
    options: ExportOptions,
) -> Published:
    with _work_dir(destinations, name) as work:
        folder: Folder = write_folder(
            conn, work, name, info, sources(conn, options.use_views, options.custom_tables), options.encoding
        )
        locations = [d.publish(folder) for d in destinations]
    return Published(name, locations, folder.rows, info.hwm_from, info.hwm_to, info.max_data_ts)


def _info(conn: sa.Connection, hwm_from: Mark, hwm_to: Mark, max_data_ts: int | None) -> ExportInfo:
    return ExportInfo(
        created_ts=int(time.time()),
        gim_schema_version=schema_version(conn),
        gim_version=__version__,
        hwm_from=hwm_from,
        hwm_to=hwm_to,
        max_data_ts=max_data_ts or 0,
    )


def _prepare_views(engine: sa.Engine, options: ExportOptions) -> None:
    if options.use_views:
        with engine.begin() as conn:
            refresh_views(conn, only_missing=True, custom_tables=options.custom_tables)


def export_once(
    engine: sa.Engine,
    destinations: Sequence[Destination],
    options: ExportOptions = ExportOptions(),
    restart: str | None = None,
    stream: str = STREAM,
) -> Published | None:
    """Write the next folder of ``stream`` and move its HWM; None when nothing was committed since."""
    if not destinations:
        raise ValueError("no export destination configured")
    _prepare_views(engine, options)
    with _exclusive(engine), _snapshot(engine) as conn:
        state = starting_state(conn, restart=restart, start_date=options.start_date, stream=stream)
        plan: ExportPlan | None = plan_next(conn, state)
        if plan is None:
            return None
        info = _info(conn, plan.hwm_from, plan.hwm_to, plan.max_data_ts)
        published = _write_and_publish(conn, destinations, plan.folder, info, options)
        save_state(conn, plan, stream)
    return published


def export_stream(
    engine: sa.Engine,
    destinations: Sequence[Destination],
    options: ExportOptions = ExportOptions(),
    restart: str | None = None,
    max_folders: int = 1,
    stream: str = STREAM,
) -> list[Published]:
    """Up to ``max_folders`` consecutive exports of ``stream`` (each at most one day of data), in order."""
    done: list[Published] = []
    while len(done) < max_folders:
        published = export_once(engine, destinations, options, restart if not done else None, stream)
        if published is None:
            break
        done.append(published)
    return done


def restart_into(
    engine: sa.Engine,
    destination: Destination,
    restart: str | None,
    options: ExportOptions = ExportOptions(),
    max_folders: int = 1,
) -> list[Published]:
    """The stream of a destination named at run time: its own HWM (``stream_for(destination)``), so the
    tenant's main stream is untouched. ``restart`` starts it again and needs an empty destination; without
    it the destination's stream continues (or, new, starts at the stream's start)."""
    if restart is not None and (held := destination.folders()):
        raise ValueError(
            f"{destination.location}: already holds {len(held)} export folder(s) ({held[0]}, …); "
            "a restarted stream goes to an empty destination"
        )
    return export_stream(engine, [destination], options, restart, max_folders, stream_for(destination))


def stream_for(destination: Destination) -> str:
    """The HWM row of a run-time destination's stream (the column holds 64 characters; locations may not)."""
    return "to:" + hashlib.sha1(destination.location.encode()).hexdigest()[:20]


def reexport_day(
    engine: sa.Engine,
    destinations: Sequence[Destination],
    day: date,
    options: ExportOptions = ExportOptions(),
) -> list[Published]:
    """Re-export the transactions of data day ``day`` (UTC) that the stream has already exported.

    One folder per span of consecutive audit keys of that day (``plan.data_day_runs``; usually one), capped
    at the stream's HWM: a re-export goes backwards from the most recent export, never ahead of it, and the
    stream's HWM does not move. Nothing when the stream exported no transaction of that day.
    """
    _prepare_views(engine, options)
    with _snapshot(engine) as conn:
        state = read_state(conn)
        if state is None:
            return []
        done = []
        for lo, hi in data_day_runs(conn, day, state.mark.audit_key):
            info = _info(conn, lo, hi, max_data_ts_upto(conn, hi.audit_key))
            name = reexport_folder_name(day, hi.audit_key)
            done.append(_write_and_publish(conn, destinations, name, info, options))
        return done
