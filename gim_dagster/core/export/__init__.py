"""Job_ExportGIM (Dagster-free): incremental export folders, re-exports, the target schema and the importer.

Contract: seed ``002_9abbca2fdce2384f.txt``; decisions in docs/export.md.
"""

from gim_dagster.core.export.contract import ExportInfo, Mark, parse_info, render_info
from gim_dagster.core.export.importer import ImportRefused, ImportResult, import_exports, open_source
from gim_dagster.core.export.plan import STREAM, ExportPlan, StreamState, choose_window, read_state
from gim_dagster.core.export.publish import Destination, LocalDestination, S3Destination
from gim_dagster.core.export.stream import (
    ExportBusy,
    ExportOptions,
    Published,
    export_once,
    export_stream,
    reexport_day,
    restart_into,
)
from gim_dagster.core.export.target_schema import target_schema_sql

__all__ = [
    "STREAM",
    "Destination",
    "ExportBusy",
    "ExportInfo",
    "ExportOptions",
    "ExportPlan",
    "ImportRefused",
    "ImportResult",
    "LocalDestination",
    "Mark",
    "Published",
    "S3Destination",
    "StreamState",
    "choose_window",
    "export_once",
    "export_stream",
    "import_exports",
    "open_source",
    "parse_info",
    "read_state",
    "reexport_day",
    "render_info",
    "restart_into",
    "target_schema_sql",
]
