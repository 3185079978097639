"""The export folder contract (seed 002): folder names, the ``.extracted.xml`` metadata and ``.sha1`` files.

Folder names (decision, see docs/export.md):

* stream: ``export_<hwm>_<YYYY_MM_DD_HH_MI_SS>``; ``<hwm>`` is the audit-key high-water mark zero-padded to
  19 digits (the width of a bigint) so that *name order is export order* (unpadded, ``export_100_…`` would
  sort before ``export_99_…``); the date is the maximum data time of this and all previous exports, GMT.
* re-export (a backfill of one UTC data day; a day can take several folders, one per span of its audit keys):
  ``reexport_<YYYY_MM_DD>_<hwm-to>``; the ``re`` prefix sorts every re-export after every stream folder and
  can never collide with a stream name; a day's folders sort by hwm-to.

Every folder ``<name>/`` holds ``<name>.zip`` (one ``<table>.csv`` and one ``<table>.csv.sha1`` per changed
table), ``<name>.zip.sha1`` and, written last, ``<name>.extracted.xml``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime

STREAM_PREFIX = "export_"
REEXPORT_PREFIX = "reexport_"
HWM_DIGITS = 19
_NAME_RE = re.compile(
    rf"^(?:export_\d{{{HWM_DIGITS}}}_\d{{4}}(?:_\d\d){{5}}|reexport_\d{{4}}_\d\d_\d\d_\d{{{HWM_DIGITS}}})$"
)


class ContractError(ValueError):
    """A folder or file that does not follow the export contract; the message names it."""


@dataclass(frozen=True)
class Mark:
    """An audit-key high-water mark: the key and the CTL_AUDIT_LOG created time of that key (UTC seconds)."""

    audit_key: int
    created_ts: int


ORIGIN = Mark(0, 0)
"""The mark before the first audit key: an export from here contains everything."""


@dataclass(frozen=True)
class ExportInfo:
    """The content of ``<name>.extracted.xml``."""

    created_ts: int
    gim_schema_version: str
    gim_version: str
    hwm_from: Mark
    hwm_to: Mark
    max_data_ts: int


def format_ts(ts: int) -> str:
    """UTC seconds as ``YYYY_MM_DD_HH_MI_SS`` (GMT)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y_%m_%d_%H_%M_%S")


def stream_folder_name(hwm: int, max_data_ts: int) -> str:
    return f"{STREAM_PREFIX}{hwm:0{HWM_DIGITS}d}_{format_ts(max_data_ts)}"


def reexport_folder_name(day: date, hwm: int) -> str:
    return f"{REEXPORT_PREFIX}{day:%Y_%m_%d}_{hwm:0{HWM_DIGITS}d}"


def reexport_folder_day(name: str) -> date:
    """The data day a re-export folder holds (from its name)."""
    return datetime.strptime(name[len(REEXPORT_PREFIX) : len(REEXPORT_PREFIX) + 10], "%Y_%m_%d").date()


def is_folder_name(name: str) -> bool:
    return _NAME_RE.match(name) is not None


def is_reexport(name: str) -> bool:
    return name.startswith(REEXPORT_PREFIX)


def render_info(info: ExportInfo) -> str:
    """The metadata file, element for element and line for line as in the seed's example."""
    return (
        "<info>\n"
        f"<created-ts>{info.created_ts}</created-ts>\n"
        f"<gim-schema-version>{info.gim_schema_version}</gim-schema-version>\n"
        f"<gim-version>{info.gim_version}</gim-version>\n"
        f'<hwm-from audit-key="{info.hwm_from.audit_key}" created-ts="{info.hwm_from.created_ts}"/>\n'
        f'<hwm-to audit-key="{info.hwm_to.audit_key}" created-ts="{info.hwm_to.created_ts}"/>\n'
        f"<max-data-ts>{info.max_data_ts}</max-data-ts>\n"
        "</info>\n"
    )


def parse_info(text: str, source: str) -> ExportInfo:
    """Parse an ``.extracted.xml``; ``ContractError`` naming ``source`` if it is not one."""
    try:
        root = ET.fromstring(text)
        if root.tag != "info":
            raise ValueError(f"root element is <{root.tag}>, not <info>")
        return ExportInfo(
            created_ts=int(_text(root, "created-ts")),
            gim_schema_version=_text(root, "gim-schema-version"),
            gim_version=_text(root, "gim-version"),
            hwm_from=_mark(root, "hwm-from"),
            hwm_to=_mark(root, "hwm-to"),
            max_data_ts=int(_text(root, "max-data-ts")),
        )
    except (ET.ParseError, ValueError, KeyError) as exc:
        raise ContractError(f"{source}: not a valid export metadata file ({exc})") from None


def _text(root: ET.Element, tag: str) -> str:
    element = root.find(tag)
    if element is None or element.text is None:
        raise ValueError(f"missing <{tag}>")
    return element.text.strip()


def _mark(root: ET.Element, tag: str) -> Mark:
    element = root.find(tag)
    if element is None:
        raise ValueError(f"missing <{tag}>")
    return Mark(int(element.attrib["audit-key"]), int(element.attrib["created-ts"]))


def sha1_line(hexdigest: str, file_name: str) -> str:
    """One line in the format ``sha1sum -c`` accepts (two spaces: text mode)."""
    return f"{hexdigest}  {file_name}\n"


def parse_sha1(text: str, expected_name: str, source: str) -> str:
    """The digest of ``expected_name`` from a ``.sha1`` file's text."""
    parts = text.strip().split(maxsplit=1)
    if (
        len(parts) != 2
        or parts[1].lstrip("*") != expected_name
        or not re.fullmatch(r"[0-9a-f]{40}", parts[0])
    ):
        raise ContractError(f"{source}: not a sha1sum line for {expected_name}")
    return parts[0]
