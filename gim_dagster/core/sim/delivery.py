"""From the clean events in true order to the records as delivered: serialisation and fault injection.

Faults use their own random stream, so the clean events of a seed do not depend on the fault probabilities.
- late: the record is delivered ``delay_ms`` (1 ms .. ``late_window_s``) after its event time, i.e. after
  events that happened up to that much later;
- duplicate: the same bytes are delivered a second time, after the first copy and no later than
  ``late_window_s`` after the event time;
- malformed: an extra record derived from an event (truncated JSON, a missing field, a wrongly typed field,
  an unknown event type, another tenant) with its own ``event_id``; it is not part of the truth.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from pydantic_core import to_json

from gim_dagster.core.sim.engine import RawEvent
from gim_dagster.core.sim.params import TrafficParams

_ID_FIELD = {"voice": "call_id", "digital": "interaction_id", "agent": "agent_id"}
_MALFORMED_KINDS = ("bad_json", "missing_field", "wrong_type", "unknown_event_type", "wrong_tenant")


class Record(NamedTuple):
    """One Kafka record: ``kind`` is the topic kind (voice, digital, agent)."""

    kind: str
    key: bytes
    value: bytes


class CleanEvent(NamedTuple):
    kind: str
    key: bytes
    value: bytes
    ts: int
    event_id: str
    body: dict[str, object]


def dumps(body: dict[str, object]) -> bytes:
    """The one serialisation of an event: compact UTF-8 JSON, fields in insertion order."""
    return to_json(body)


def serialise(events: list[RawEvent], tenant: str, run_id: str) -> list[CleanEvent]:
    """Number the events in true order (``seq``) and give each its ``event_id``."""
    out = []
    for seq, (ts, kind, key, event_type, fields) in enumerate(events):
        event_id = f"{run_id}-{seq:08d}"
        body: dict[str, object] = {
            "event_id": event_id,
            "event_type": event_type,
            "ts": ts,
            "seq": seq,
            "tenant": tenant,
        }
        body.update(fields)
        out.append(CleanEvent(kind, key.encode(), dumps(body), ts, event_id, body))
    return out


def deliver(
    clean: list[CleanEvent], params: TrafficParams, run_id: str
) -> tuple[list[Record], list[dict[str, object]]]:
    """Records in delivery order, and one fault row per injected fault (see ``ledger.SCHEMAS['faults']``)."""
    rng = random.Random(f"faults-{params.seed}")
    window = params.late_window_s * 1000
    # (delivery time, true index, copy number, record, fault row or None)
    entries: list[tuple[int, int, int, Record, dict[str, object] | None]] = []
    n_malformed = 0
    for i, ev in enumerate(clean):
        record = Record(ev.kind, ev.key, ev.value)
        at, late = ev.ts, None
        if params.late and rng.random() < params.late:
            delay = rng.randint(1, window)
            at += delay
            late = _fault("late", ev, delay_ms=delay, detail=f"delivered {delay} ms after its event time")
        entries.append((at, i, 0, record, late))
        if params.duplicates and rng.random() < params.duplicates:
            again = min(at + rng.randint(0, window), ev.ts + window)  # a copy is no later than the window
            dup = _fault(
                "duplicate", ev, delay_ms=again - at, detail=f"second copy {again - at} ms after the first"
            )
            entries.append((again, i, 1, record, dup))
        if params.malformed and rng.random() < params.malformed:
            n_malformed += 1
            value, detail = _corrupt(ev, params.tenant, f"{run_id}-x{n_malformed:06d}", rng)
            row = _fault("malformed", ev, detail=detail, value=value, event_id=f"{run_id}-x{n_malformed:06d}")
            entries.append((at, i, 2, Record(ev.kind, ev.key, value), row))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    records: list[Record] = []
    faults: list[dict[str, object]] = []
    per_topic = dict.fromkeys(_ID_FIELD, 0)
    for position, (_at, _i, _copy, record, fault) in enumerate(entries):
        if fault is not None:
            fault["position"], fault["topic_position"] = position, per_topic[record.kind]
            faults.append(fault)
        per_topic[record.kind] += 1
        records.append(record)
    return records, faults


def _fault(
    kind: str,
    ev: CleanEvent,
    *,
    detail: str,
    delay_ms: int | None = None,
    value: bytes | None = None,
    event_id: str | None = None,
) -> dict[str, object]:
    return {
        "kind": kind,
        "topic": ev.kind,
        "event_id": event_id or ev.event_id,
        "source_event_id": ev.event_id,
        "key": ev.key.decode(),
        "delay_ms": delay_ms,
        "detail": detail,
        "value": value,
    }


def _corrupt(ev: CleanEvent, tenant: str, event_id: str, rng: random.Random) -> tuple[bytes, str]:
    """Bytes that the consumer must reject, derived from ``ev``, and what is wrong with them."""
    body = dict(ev.body, event_id=event_id)
    how = rng.choice(_MALFORMED_KINDS)
    if how == "bad_json":
        text = dumps(body)
        cut = rng.randint(1, len(text) - 1)
        return text[:cut], f"bad_json: truncated to {cut} of {len(text)} bytes"
    if how == "missing_field":
        name = rng.choice(["event_id", "event_type", "ts", "seq", "tenant", _ID_FIELD[ev.kind]])
        del body[name]
        return dumps(body), f"missing_field: {name}"
    if how == "wrong_type":
        body["ts"] = str(body["ts"])
        return dumps(body), "wrong_type: ts is a string"
    if how == "unknown_event_type":
        body["event_type"] = f"x_{body['event_type']}"
        return dumps(body), f"unknown_event_type: {body['event_type']}"
    body["tenant"] = f"{tenant}-other"
    return dumps(body), f"wrong_tenant: {body['tenant']}"
