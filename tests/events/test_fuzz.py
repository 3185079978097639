"""Fuzzing the decoders (issue 19): hostile raw records never crash GSP and always end as a dead letter
with a reason; a hostile fact record never crashes the load with anything but a ``RecordError`` naming it.

``test_contract.py::test_parse_never_raises`` covers arbitrary bytes into ``parse_records``; these add
structured hostility (valid events with one field replaced by arbitrary JSON, huge, deeply nested, far
timestamps), the whole GSP ``Processor`` (admission, state machines, dead letters) and the fact decoder.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gim_dagster.core.events.models import TOPIC_KINDS
from gim_dagster.core.events.parse import parse_records
from gim_dagster.core.facts.records import RecordError, decode_batch, encode
from gim_dagster.core.gsp import GspState, KeyResolver, Processor
from gim_dagster.core.kafka_io import Record
from gim_dagster.core.naming import TenantNames

T = "acme"
NAMES = TenantNames(T)
T0 = 1_767_600_000_000
RESOLVER = KeyResolver.fixed(agents={"E1": 11}, queues={"Sales": 501}, places={"P1": 71}, reasons={})
FAR_FUTURE_MS = 10**13

VOICE = {
    "event_id": "v0",
    "event_type": "ringing",
    "ts": T0,
    "seq": 0,
    "tenant": T,
    "call_id": "c1",
    "connection_id": "c1.1",
    "call_type": "inbound",
    "dn": "1001",
    "parties": [],
    "agent_id": "E1",
    "place": "P1",
}
AGENT = {
    "event_id": "a0",
    "event_type": "ready",
    "ts": T0,
    "seq": 1,
    "tenant": T,
    "agent_id": "E1",
    "login_code": "L1",
    "place": "P1",
    "media": "voice",
    "session_id": "s-E1",
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
hostile_values = st.one_of(
    json_values,
    st.integers().map(lambda n: T0 + n * 86_400_000_000),  # far future / past timestamps
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),  # deeply nested (as text)
    st.text(min_size=1, max_size=5).map(lambda s: s * 20_000),  # huge
)


@st.composite
def mutated_event(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid voice or agent event with one field replaced (or added, or removed), re-encoded."""
    kind = draw(st.sampled_from(["voice", "agent"]))
    event: dict[str, Any] = dict(VOICE if kind == "voice" else AGENT)
    field = draw(st.sampled_from([*event, "extra"]))
    if draw(st.booleans()):
        event.pop(field, None)
    else:
        event[field] = draw(hostile_values)
    text = json.dumps(event)
    if isinstance(event.get(field), str) and event[field].startswith("["):  # nest for real, not as a string
        text = text.replace(json.dumps(event[field]), event[field])
    return kind, text.encode()


garbage = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(min_size=1, max_size=40).map(lambda b: json.dumps(VOICE).encode()[:-1] + b),
    json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(mutated_event(), min_size=1, max_size=12))
def test_mutated_events_parse_or_are_rejected_with_a_reason(events: list[tuple[str, bytes]]) -> None:
    for kind in TOPIC_KINDS:
        values = [v for k, v in events if k == kind]
        parsed, bad = parse_records(kind, values, tenant=T)
        assert len(parsed) + len(bad) == len(values)
        assert all(reason.strip() for _, reason in bad)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(mutated_event(), garbage.map(lambda v: ("garbage", v))), min_size=1, max_size=15),
    st.booleans(),
)
def test_gsp_never_crashes_and_dead_letters_every_hostile_record(
    values: list[tuple[str, bytes]], flush: bool
) -> None:
    """Whatever the raw topics hold, a micro-batch completes; garbage is dead-lettered with a reason."""
    topics = {"voice": NAMES.voice_topic, "agent": NAMES.agent_topic, "garbage": NAMES.voice_topic}
    good = [json.dumps(VOICE).encode(), json.dumps(AGENT).encode()]
    offsets: dict[str, int] = {}
    records, hostile = [], set()
    for kind, value in [("voice", good[0]), ("agent", good[1]), *values]:
        topic = topics[kind]
        offsets[topic] = offsets.get(topic, -1) + 1
        records.append(Record(topic, 0, offsets[topic], b"k", value, T0))
        if kind == "garbage":
            hostile.add((topic, offsets[topic]))
    out = Processor(GspState(T), None, RESOLVER).process(records, now_ms=FAR_FUTURE_MS if flush else None)
    dead = {(d.topic, d.offset): d.reason for d in out.dead_letters}
    assert hostile <= set(dead), sorted(hostile - set(dead))
    assert all(reason.strip() for reason in dead.values())


FACT = encode(
    "interaction_resource_fact",
    {
        "interaction_resource_id": 1,
        "start_date_time_key": 1_767_600_000,
        "end_date_time_key": 1_767_600_000,
        "tenant_key": 1,
        "start_ts": 1_767_600_000,
        "end_ts": 1_767_600_025,
        "interaction_id": 10,
        "media_type_key": 1,
        "interaction_type_key": 1,
        "resource_key": -1,
        "technical_descriptor_key": 1,
    },
).value


@st.composite
def hostile_fact(draw: st.DrawFn) -> bytes:
    doc = json.loads(FACT)
    where = draw(st.sampled_from(["bytes", "table", "row", "column", "value"]))
    if where == "bytes":
        return draw(garbage)
    if where == "table":
        doc["table"] = draw(hostile_values)
    elif where == "row":
        doc["row"] = draw(hostile_values)
    elif where == "column":
        doc["row"][draw(st.text(max_size=10))] = draw(hostile_values)
    else:
        doc["row"][draw(st.sampled_from(sorted(doc["row"])))] = draw(hostile_values)
    return json.dumps(doc).encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.just(FACT), hostile_fact()), min_size=1, max_size=6))
def test_fact_decoder_raises_only_a_record_error_naming_the_record(values: list[bytes]) -> None:
    batch = [("acme.gsp.facts", 0, n, b"k", v) for n, v in enumerate(values)]
    try:
        decoded = decode_batch(batch)
    except RecordError as exc:
        assert str(exc).startswith("record acme.gsp.facts[0]@"), exc
    else:
        assert decoded.records == len(values)
