"""The fact-record contract: committed JSON Schemas equal the generated ones, and real records conform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gim_dagster.core.facts.json_schema import record_schema, schema_texts
from gim_dagster.core.facts.records import RecordError, encode
from gim_dagster.core.facts.tables import GSP_TABLES, TABLES, TableSchema
from gim_dagster.core.gsp import GspState, Processor
from gim_dagster.core.sim import Roster
from tests.gsp.helpers import FAR_FUTURE_MS, as_records, resolver_for, simulated

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "facts-schemas"


def committed(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def test_committed_schemas_are_the_generated_ones() -> None:
    files = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert files == schema_texts(), "run: python -m gim_dagster.core.facts.json_schema"


@pytest.mark.parametrize("tbl", TABLES, ids=lambda t: t.name)
def test_each_schema_is_valid_draft_2020_12(tbl: TableSchema) -> None:
    jsonschema.Draft202012Validator.check_schema(committed(tbl.name))


def test_every_record_gsp_writes_for_simulated_traffic_conforms() -> None:
    sim = simulated("acme", hours=2)
    out = Processor(GspState("acme"), None, resolver_for(Roster.synthetic(12, seed=1))).process(
        as_records("acme", sim), now_ms=FAR_FUTURE_MS
    )
    validators = {t.name: jsonschema.Draft202012Validator(committed(t.name)) for t in GSP_TABLES}
    seen: set[str] = set()
    for table, row in out.facts:
        key, value, headers = encode(table, row)
        (name,) = [v.decode() for k, v in headers if k == "table"]
        errors = [e.message for e in validators[name].iter_errors(json.loads(value))]
        assert not errors, (key, errors)
        seen.add(name)
    assert seen == {t.name for t in GSP_TABLES}


def _minimal(tbl: TableSchema) -> dict[str, Any]:
    """A row with only the columns every record must carry, each set to a value of its type."""
    value = {"varchar": "x", "date": "2026-01-05"}
    return {c.name: value.get(c.type, 1) for c in tbl.columns if c.name in tbl.required}


@pytest.mark.parametrize("tbl", TABLES, ids=lambda t: t.name)
def test_schema_and_wire_format_agree_on_what_a_row_must_carry(tbl: TableSchema) -> None:
    validator = jsonschema.Draft202012Validator(record_schema(tbl))
    row = _minimal(tbl)
    assert validator.is_valid(json.loads(encode(tbl.name, row).value))
    for column in row:
        short = {k: v for k, v in row.items() if k != column}
        assert not validator.is_valid({"table": tbl.name, "row": short}), column
        with pytest.raises(RecordError, match=column):
            encode(tbl.name, short)
    with pytest.raises(RecordError, match="bogus"):
        encode(tbl.name, {**row, "bogus": 1})
    assert not validator.is_valid({"table": tbl.name, "row": {**row, "bogus": 1}})


def test_schema_rejects_what_the_target_column_cannot_hold() -> None:
    validator = jsonschema.Draft202012Validator(committed("interaction_fact"))
    row = _minimal(next(t for t in TABLES if t.name == "interaction_fact"))
    assert validator.is_valid({"table": "interaction_fact", "row": {**row, "subject": None}})
    for bad in ({"status": True}, {"status": 40_000}, {"interaction_id": "1"}, {"subject": "x" * 1025}):
        assert not validator.is_valid({"table": "interaction_fact", "row": {**row, **bad}}), bad
    assert not validator.is_valid({"table": "interaction_resource_fact", "row": row})
