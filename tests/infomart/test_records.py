"""The facts wire format: deterministic keys, strict validation, per-table grouping."""

from __future__ import annotations

import json

import pytest

from gim_dagster.core.facts.records import FactRecord, RecordError, decode_batch, encode, record_key

from .conftest import irf_row, records


def test_encode_key_value_and_header() -> None:
    row = irf_row(7, place_key=None, irf_anchor=True)
    key, value, headers = encode("interaction_resource_fact", row)
    assert key == f"interaction_resource_fact|7|{row['start_date_time_key']}".encode()
    doc = json.loads(value)
    assert doc["table"] == "interaction_resource_fact"
    assert "place_key" not in doc["row"] and doc["row"]["irf_anchor"] == 1
    assert headers == [("table", b"interaction_resource_fact")]
    assert record_key("interaction_resource_fact", row) == key.decode()


def test_decode_groups_per_table_and_last_record_wins() -> None:
    recs = records([irf_row(1), irf_row(2), irf_row(1, talk_duration=99)])
    batch = decode_batch(recs)
    assert batch.records == 3 and batch.rows() == 2
    rows = batch.tables["interaction_resource_fact"]
    talk = rows.columns.index("talk_duration")
    assert [v[talk] for v in rows.rows.values()] == [99, 22]


def test_decode_keeps_null_and_empty_string_apart() -> None:
    row = irf_row(5, media_server_ixn_guid="", place_key=None)
    rows = decode_batch(records([row])).tables["interaction_resource_fact"]
    (values,) = rows.rows.values()
    assert values[rows.columns.index("media_server_ixn_guid")] == ""
    assert values[rows.columns.index("place_key")] is None
    assert values[rows.columns.index("ring_count")] is None  # left out of the record


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b'{"table": "no_such_fact", "row": {}}', "unknown table 'no_such_fact'"),
        (
            b'{"table": "interaction_fact", "row": {"interaction_id": 1, "bogus": 2}}',
            "unknown column(s) bogus",
        ),
        (b'{"row": {}}', "missing field 'table'"),
        (b"not json", "not a valid fact record"),
        (b'{"table": "interaction_fact", "row": {}} {}', "Extra data"),
        (b'{"table": "interaction_fact", "row": {"interaction_id": 1', "not a valid fact record"),
        (b'\xff{"table": "interaction_fact"}', "not a valid fact record"),
        (b"[1, 2]", "not a valid fact record"),
        (b'{"table": "interaction_fact", "row": ' + b"[" * 5000 + b"]" * 5000 + b"}", "RecursionError"),
    ],
)
def test_decode_rejects_bad_records_naming_the_problem(value: bytes, message: str) -> None:
    with pytest.raises(RecordError, match=r"acme\.gsp\.facts\[3\]@42") as err:
        decode_batch([FactRecord("acme.gsp.facts", 3, 42, None, value)])
    assert message in str(err.value)


def test_decode_takes_what_json_loads_takes() -> None:
    """The fast path of compact UTF-8 JSON and json.loads agree, whitespace and other encodings included."""
    row = irf_row(1, media_server_ixn_guid="Zoë")
    doc = {"table": "interaction_resource_fact", "row": row}
    values = [
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(),
        b"  " + json.dumps(doc, indent=2).encode() + b"\n",
        json.dumps(doc).encode("utf-16"),
    ]
    decoded = [
        decode_batch([FactRecord("t", 0, 0, None, v)]).tables["interaction_resource_fact"] for v in values
    ]
    assert decoded[0].rows == decoded[1].rows == decoded[2].rows
    (only,) = decoded[0].rows.values()
    assert "Zoë" in only


def test_missing_key_column_is_an_error() -> None:
    row = irf_row(1)
    del row["start_date_time_key"]
    with pytest.raises(RecordError, match="start_date_time_key"):
        encode("interaction_resource_fact", row)
    value = json.dumps({"table": "interaction_resource_fact", "row": row}).encode()
    with pytest.raises(RecordError, match="missing key or mandatory column\\(s\\) start_date_time_key"):
        decode_batch([FactRecord("t", 0, 0, None, value)])


def test_audit_keys_are_not_accepted_from_producers() -> None:
    with pytest.raises(RecordError, match="create_audit_key"):
        encode("interaction_resource_fact", irf_row(1, create_audit_key=5))


def test_not_null_column_with_server_default_is_required() -> None:
    """COPY writes an absent column as NULL, so a NOT NULL column must be sent even if it has a default."""
    from gim_dagster.core.facts import static_keys as K
    from gim_dagster.core.facts.records import RecordError, encode

    row = {
        "interaction_id": 1,
        "start_date_time_key": 0,
        "tenant_key": K.TENANT_KEY,
        "media_type_key": K.MEDIA_VOICE.key,
        "interaction_type_key": K.INBOUND.key,
    }
    with pytest.raises(RecordError, match="status"):
        encode("interaction_fact", row)
    encode("interaction_fact", {**row, "status": 0})
