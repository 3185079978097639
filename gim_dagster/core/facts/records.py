"""Wire format of ``<tenant>.gsp.facts``: GSP encodes Info Mart rows, the loader decodes them in batches.

One Kafka record per row of a table of ``tables.TABLES`` (docs/facts.md is the reference):

* value: UTF-8 JSON ``{"table": "<lower-case table>", "row": {"<lower-case column>": value, ...}}``;
  values are JSON numbers, strings or null (flags are 0/1 integers, times are UTC seconds); a column left
  out is NULL. The audit keys are never sent: the loader sets them.
* key: ``"<table>|<primary-key values joined by '|'>"`` in primary-key order (``TableSchema.primary_key``),
  so a re-emitted (updated) fact has the same key as the first emission and topic compaction keeps the last.
* header ``table``: the table name, so consumers can route without parsing the value.

A re-emitted row replaces the whole row (columns it leaves out become NULL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

import msgspec

from gim_dagster.core.facts.tables import TABLES, TableSchema

HEADER_TABLE = "table"
KEY_SEPARATOR = "|"


class RecordError(ValueError):
    """A record that does not follow the wire format; the message names the record and what is wrong."""


class FactRecord(NamedTuple):
    """One consumed Kafka record, as the loader receives it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class EncodedRecord(NamedTuple):
    """What GSP produces for one row."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class _Spec:
    """Per-table decoding facts, computed once."""

    name: str
    columns: tuple[str, ...]
    allowed: frozenset[str]
    required: frozenset[str]
    pk: tuple[str, ...]
    pk_of: Any  # operator.itemgetter over ``pk``


def _spec(schema: TableSchema) -> _Spec:
    columns = schema.column_names
    pk = schema.primary_key
    return _Spec(
        name=schema.name,
        columns=columns,
        allowed=frozenset(columns),
        required=schema.required,
        pk=pk,
        pk_of=itemgetter(*pk) if len(pk) > 1 else (lambda row, _g=itemgetter(pk[0]): (_g(row),)),
    )


SPECS: dict[str, _Spec] = {t.name: _spec(t) for t in TABLES}
"""Tables a record may target: the exported (PDM Data Export) tables."""


def _spec_for(table: str) -> _Spec:
    try:
        return SPECS[table]
    except KeyError:
        raise RecordError(f"unknown table {table!r}") from None


def _check_columns(spec: _Spec, row: Mapping[str, Any]) -> None:
    keys = row.keys()
    if not keys <= spec.allowed:
        unknown = sorted(set(keys) - spec.allowed)
        raise RecordError(f"unknown column(s) {', '.join(unknown)} for table {spec.name}")
    if not spec.required <= keys:
        missing = sorted(spec.required - set(keys))
        raise RecordError(f"missing key or mandatory column(s) {', '.join(missing)} for table {spec.name}")


def record_key(table: str, row: Mapping[str, Any]) -> str:
    """The Kafka key of ``row``: table and primary-key values joined by ``|``."""
    spec = _spec_for(table)
    return KEY_SEPARATOR.join([table, *(str(row[c]) for c in spec.pk)])


_ENCODE = msgspec.json.Encoder().encode
"""Compact UTF-8 JSON, byte for byte what ``json.dumps(separators=(",", ":"), ensure_ascii=False)`` writes for
a row (ints, strings, null), about four times faster."""


def encode(table: str, row: Mapping[str, Any]) -> EncodedRecord:
    """Validate and encode one row of ``table`` (null values are left out; booleans become 0/1)."""
    spec = _spec_for(table)
    clean = {k: (int(v) if isinstance(v, bool) else v) for k, v in row.items() if v is not None}
    _check_columns(spec, clean)
    value = _ENCODE({"table": table, "row": clean})
    return EncodedRecord(record_key(table, clean).encode(), value, [(HEADER_TABLE, table.encode())])


@dataclass
class TableRows:
    """Decoded rows of one table, deduplicated by primary key (the last record wins).

    ``rows`` maps the primary-key tuple to the row's values in ``columns`` order (None is NULL), ready for
    ``COPY``.
    """

    table: str
    columns: tuple[str, ...]
    rows: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class DecodedBatch:
    """A batch of records decoded and grouped per table."""

    tables: dict[str, TableRows] = field(default_factory=dict)
    records: int = 0

    def rows(self) -> int:
        return sum(len(t) for t in self.tables.values())


_DECODE = msgspec.json.Decoder().decode


def _loads(value: bytes) -> Any:
    """``json.loads(value)``, faster for what GSP writes (compact UTF-8 JSON, decoded by msgspec).

    Whatever msgspec refuses (another encoding, ``NaN``, an error) goes through ``json.loads``, so what is
    accepted and the errors are those of ``json.loads``.
    """
    try:
        return _DECODE(value)
    except msgspec.DecodeError:
        return json.loads(value)


_SCALARS = frozenset({int, float, str})
"""Column value types on the wire (nulls are dropped first; a JSON ``true`` is no 0/1 flag)."""


def _check_values(spec: _Spec, row: Mapping[str, Any]) -> None:
    if not _SCALARS.issuperset(map(type, row.values())):
        bad = sorted(c for c, v in row.items() if type(v) not in _SCALARS)
        raise RecordError(
            f"column(s) {', '.join(bad)} of table {spec.name}: not a JSON number, string or null"
        )


def decode_batch(records: Iterable[FactRecord | tuple[str, int, int, bytes | None, bytes]]) -> DecodedBatch:
    """Decode ``records`` (in the order read) into per-table rows; raise ``RecordError`` on the first bad one.

    Within the batch the last record of a primary key wins, so the staging table needs no de-duplication.
    """
    batch = DecodedBatch()
    for topic, partition, offset, _key, value in records:
        batch.records += 1
        try:
            doc = _loads(value)
            spec = _spec_for(doc["table"])
            row = doc["row"]
            if None in row.values():
                row = {k: v for k, v in row.items() if v is not None}
            _check_columns(spec, row)
            _check_values(spec, row)
        except (RecordError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise RecordError(f"record {topic}[{partition}]@{offset}: {_describe(exc)}") from exc
        rows = batch.tables.get(spec.name)
        if rows is None:
            rows = batch.tables[spec.name] = TableRows(spec.name, spec.columns)
        rows.rows[spec.pk_of(row)] = tuple(map(row.get, spec.columns))  # absent columns: None (NULL)
    return batch


def _describe(exc: Exception) -> str:
    if isinstance(exc, RecordError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r} in the record value"
    return f"not a valid fact record ({type(exc).__name__}: {exc})"
