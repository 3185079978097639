"""One JSON Schema (draft 2020-12) per target table: the record value ``{"table": ..., "row": {...}}``.

Generated from the record schemas of ``tables.TABLES``, for consumers of ``<tenant>.gsp.facts`` that validate
(Kafka Connect, a schema registry). ``python -m gim_dagster.core.facts.json_schema [DIR]`` writes
``<table>.schema.json`` files into DIR (default ``docs/facts-schemas``, run from the repository root); a test
fails when the committed files differ from what the record schemas generate.

A schema states what a producer writes, a little stricter than what the loader accepts: integer columns
take JSON integers within the column's range (the loader would also pass a number or a string on to
PostgreSQL, which refuses what does not fit), ``varchar`` columns strings of at most their length.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gim_dagster.core.facts.records import KEY_SEPARATOR
from gim_dagster.core.facts.tables import TABLES, Column, TableSchema

DEFAULT_DIR = Path("docs/facts-schemas")
_INT_BITS = {"smallint": 16, "integer": 32, "bigint": 64}


def _value_type(col: Column) -> dict[str, Any]:
    if col.type == "varchar":
        return {"type": "string", "maxLength": col.length}
    if col.type == "date":
        return {"type": "string", "format": "date"}
    bound = 2 ** (_INT_BITS[col.type] - 1)
    return {"type": "integer", "minimum": -bound, "maximum": bound - 1}


def _column_schema(col: Column, required: bool) -> dict[str, Any]:
    """A required column holds a value; any other may also be null (the loader reads null as absent)."""
    schema = _value_type(col)
    if not required:
        schema["type"] = [schema["type"], "null"]
    return {**schema, "description": col.comment} if col.comment else schema


def record_schema(tbl: TableSchema) -> dict[str, Any]:
    """The JSON Schema of one record value of ``tbl``."""
    required = tbl.required
    key = KEY_SEPARATOR.join([tbl.name, *(f"<{c}>" for c in tbl.primary_key)])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://gim-dagster.dev/schemas/facts/{tbl.name}.schema.json",
        "title": f"{tbl.name} record",
        "description": (
            f"One record value on the <tenant>.gsp.facts topic: a row of {tbl.name.upper()} ({tbl.kind}). "
            f"{tbl.comment} Kafka key: {key}; header table: {tbl.name} (see docs/facts.md)."
        ),
        "type": "object",
        "properties": {
            "table": {"const": tbl.name},
            "row": {
                "type": "object",
                "properties": {c.name: _column_schema(c, c.name in required) for c in tbl.columns},
                "required": [c.name for c in tbl.columns if c.name in required],
                "additionalProperties": False,
            },
        },
        "required": ["table", "row"],
        "additionalProperties": False,
    }


def schema_texts() -> dict[str, str]:
    """``<table>.schema.json`` file name -> its text, for every table of the contract."""
    return {f"{tbl.name}.schema.json": json.dumps(record_schema(tbl), indent=2) + "\n" for tbl in TABLES}


def write_schemas(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in schema_texts().items():
        (directory / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
