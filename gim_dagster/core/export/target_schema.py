"""The target-schema script (the seed's ``update_target_gim_db.sql``): create or migrate an import target.

Generated from ``tables.py``: every exported table with the same columns and primary key as exported. The
script is idempotent and migrates any older target to the current schema: ``CREATE TABLE IF NOT EXISTS``
for each table, then ``ALTER TABLE … ADD COLUMN IF NOT EXISTS`` for every column. Columns added to an
existing table are nullable (its old rows have no value). Target tables are plain (not partitioned).
Custom user-data tables are not part of the model and must be created and migrated separately.
"""

from __future__ import annotations

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql

from gim_dagster import __version__
from gim_dagster.core.export.importer import CONTROL_DDL
from gim_dagster.core.infomart.tables import EXPORTED_TABLES, primary_key

DIALECTS = ("postgresql",)


def _type(column: Column) -> str:
    return column.type.compile(dialect=postgresql.dialect())


def _default(column: Column) -> str:
    default = column.server_default
    if default is None:
        return ""
    arg = default.arg  # type: ignore[attr-defined]
    return f" DEFAULT '{arg}'" if isinstance(arg, str) else f" DEFAULT {arg.text}"


def _create(tbl: Table) -> str:
    lines = [f"    {c.name} {_type(c)}{_default(c)}{'' if c.nullable else ' NOT NULL'}" for c in tbl.columns]
    lines.append(f"    CONSTRAINT pk_{tbl.name} PRIMARY KEY ({', '.join(primary_key(tbl))})")
    return f"CREATE TABLE IF NOT EXISTS {tbl.name} (\n" + ",\n".join(lines) + "\n);"


def _add_columns(tbl: Table) -> str:
    return "\n".join(
        f"ALTER TABLE {tbl.name} ADD COLUMN IF NOT EXISTS {c.name} {_type(c)}{_default(c)};"
        for c in tbl.columns
    )


def target_schema_sql(dialect: str = "postgresql") -> str:
    """The whole script for ``dialect`` (only ``postgresql`` so far)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unsupported dialect {dialect!r}; supported: {', '.join(DIALECTS)}")
    parts = [
        f"-- gim-dagster {__version__}: target schema for imported Info Mart exports ({dialect}).",
        "-- Idempotent: creates missing tables and adds missing columns; run it again after every upgrade.",
        "-- Custom user-data tables are not included: create and migrate them separately.",
        "BEGIN;",
    ]
    for tbl in EXPORTED_TABLES:
        parts += [f"\n-- {tbl.name.upper()}", _create(tbl), _add_columns(tbl)]
    parts += ["\n-- what gim import applied", CONTROL_DDL, "COMMIT;", ""]
    return "\n".join(parts)
