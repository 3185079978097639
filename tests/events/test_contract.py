"""The event contract: schema files match the models, simulated events validate, bad records are rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gim_dagster.core.events.models import TOPIC_KINDS
from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.events.schema_gen import SCHEMA_DIR, load_schema, schema_text
from gim_dagster.core.sim import Roster, Simulation, TrafficParams, simulate


@pytest.fixture(scope="module")
def sim() -> Simulation:
    params = TrafficParams(
        "acme",
        datetime(2026, 11, 2, 9, tzinfo=UTC),
        2,
        120,
        20,
        10,
        seed=11,
        duplicates=0.02,
        late=0.02,
        malformed=0.03,
        shifts="window",
    )
    return simulate(Roster.synthetic(10, 1), params)


@pytest.mark.parametrize("kind", TOPIC_KINDS)
def test_schema_files_match_models(kind: str) -> None:
    committed = (SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(kind), "run: python -m gim_dagster.core.events.schema_gen"


@pytest.mark.parametrize("kind", TOPIC_KINDS)
def test_clean_events_validate_against_schema(sim: Simulation, kind: str) -> None:
    validator = jsonschema.Draft202012Validator(load_schema(kind))
    malformed = {bytes(v) for v in sim.ledger.tables["faults"].column("value").to_pylist() if v is not None}
    values = [r.value for r in sim.records if r.kind == kind and r.value not in malformed]
    assert values
    types = set()
    for value in values:
        event = json.loads(value)
        validator.validate(event)
        types.add(event["event_type"])
    expected = {"voice": 8, "digital": 6, "agent": 6}[kind]  # most types occur in two hours of traffic
    assert len(types) >= expected, types


def test_malformed_records_rejected_with_reason(sim: Simulation) -> None:
    faults = [f for f in sim.ledger.tables["faults"].to_pylist() if f["kind"] == "malformed"]
    assert len(faults) > 10
    for kind in TOPIC_KINDS:
        values = [r.value for r in sim.records if r.kind == kind]
        _events, bad = parse_records(kind, values, tenant="acme")
        expected = sorted(f["topic_position"] for f in faults if f["topic"] == kind)
        assert [i for i, _ in bad] == expected
        assert all(reason for _, reason in bad)
        schema = jsonschema.Draft202012Validator(load_schema(kind))
        for f in faults:
            if f["topic"] == kind and not f["detail"].startswith(("wrong_tenant", "bad_json")):
                assert not schema.is_valid(json.loads(f["value"])), f["detail"]


def test_reasons_name_the_problem() -> None:
    good = {
        "event_id": "e1",
        "event_type": "ready",
        "ts": 1,
        "seq": 1,
        "tenant": "acme",
        "agent_id": "E1",
        "login_code": "L1",
        "place": "P1",
        "media": "voice",
        "session_id": "s1",
    }
    values = [
        json.dumps(good).encode(),
        b"{not json",
        json.dumps({**good, "ts": "1"}).encode(),
        json.dumps({**good, "event_type": "dance"}).encode(),
        json.dumps({**good, "tenant": "other"}).encode(),
        json.dumps({k: v for k, v in good.items() if k != "agent_id"}).encode(),
        b"",
        json.dumps({**good, "media": "fax"}).encode(),
        json.dumps({**good, "ts": 10**16}).encode(),  # year 318857: would poison the partition's clock
        b"[1]",
        b'{"x":' + b"[" * 1000 + b"]" * 1000 + b"}",  # 2 kB that would exhaust the recursion limit
        b'{"event_type":"ready","ts":"1","x":' + b"[" * 1000 + b"]" * 1000 + b"}",
        json.dumps({**good, "event_id": "PLACEHOLDER"}).encode().replace(b"PLACEHOLDER", b"h-\xff\xfe"),
        json.dumps({**good, "unknown": "PLACEHOLDER"}).encode().replace(b"PLACEHOLDER", b"\xc3"),
    ]
    events, bad = parse_records("agent", values, tenant="acme")
    assert len(events) == 1 and events[0].event_type == "ready"
    reasons = dict(bad)
    assert reasons[1].startswith("invalid JSON")
    assert reasons[2].startswith("ready.ts")
    assert "dance" in reasons[3]
    assert reasons[4].startswith("tenant")
    assert reasons[5].startswith("ready.agent_id")
    assert reasons[6] == "empty record value"
    assert reasons[7].startswith("ready.media")
    assert reasons[8].startswith("ready.ts: Expected `int` <=")
    assert reasons[9] == "Expected `object`, got `array`"
    assert 10 in reasons  # rejected, whatever the recursion limit
    assert reasons[11].endswith("ts: Expected `int`, got `str`")
    assert reasons[12].startswith("invalid JSON: not UTF-8"), reasons[12]  # it raised UnicodeDecodeError
    assert reasons[13].startswith("invalid JSON: not UTF-8"), reasons[13]  # even in a field nobody reads


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200),
            st.text(max_size=200).map(str.encode),
            st.binary(max_size=20).map(lambda b: b'{"event_type":"ready","agent_id":"' + b + b'"}'),
        ),
        max_size=20,
    )
)
def test_parse_never_raises(values: list[bytes]) -> None:
    for kind in TOPIC_KINDS:
        events, bad = parse_records(kind, values)
        assert len(events) + len(bad) == len(values)
