"""Consumer side of the contract: turn a batch of Kafka record values into events, never raising.

Each value is decoded and validated by msgspec straight from bytes into its event type's ``Struct`` (one
``decode`` call per record, no intermediate ``dict``). Joining a batch into one JSON array would be faster
still but cannot attribute an error to its record when a value is crafted to straddle a boundary.

The cyclic garbage collector is paused while a batch is parsed: event objects hold no reference cycles, and
on Python 3.11 the collections triggered by allocating a batch's objects cost a large share of the rate.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import msgspec

from gim_dagster.core.events.models import TOPIC_UNIONS, Event, TopicKind

_DECODERS: dict[str, msgspec.json.Decoder[Event]] = {
    kind: msgspec.json.Decoder(union) for kind, union in TOPIC_UNIONS.items()
}
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.?(?P<loc>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]*)`$")


def _reason(error: msgspec.DecodeError, value: bytes) -> str:
    """One line naming the problem: ``ready.ts: Expected `int`, got `str```, ``invalid JSON: …``.

    A field's path is prefixed with the event's type when the value names one; this runs on rejected
    records only.
    """
    if not isinstance(error, msgspec.ValidationError):
        return f"invalid JSON: {str(error).removeprefix('JSON is malformed: ')}"
    at = _AT.match(str(error))
    assert at is not None  # the pattern matches any text
    msg, loc = at["msg"], at["loc"] or ""
    missing = _MISSING.match(msg)
    if missing:
        loc, msg = ".".join(p for p in (loc, missing["name"]) if p), "Field required"
    if loc == "event_type":
        if msg.startswith("Invalid value "):
            return f"event_type: {msg.removeprefix('Invalid value ')} is not an event type of this topic"
        return f"event_type: {msg}"
    return f"{_event_type(value)}{loc}: {msg}" if loc else msg


def _event_type(value: bytes) -> str:
    """``"<event_type>."`` of a value that decoded far enough to name its type, else ``""``."""
    try:
        event_type = json.loads(value).get("event_type")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return f"{event_type}." if isinstance(event_type, str) else ""


def _utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


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
    decode = _DECODERS[kind].decode
    events: list[Event] = []
    malformed: list[tuple[int, str]] = []
    append = events.append
    with gc_paused():
        for index, value in enumerate(values):
            if not value:
                malformed.append((index, "empty record value"))
                continue
            try:
                event = decode(value)
            except msgspec.DecodeError as exc:
                malformed.append((index, _reason(exc, value)))
                continue
            except RecursionError:  # msgspec recurses into nested values, even into unknown fields
                malformed.append((index, "invalid JSON: nested too deeply"))
                continue
            except UnicodeDecodeError as exc:  # a string's bytes are decoded as UTF-8 when it is read
                malformed.append((index, f"invalid JSON: not UTF-8 ({exc.reason} at byte {exc.start})"))
                continue
            if not value.isascii() and not _utf8(value):  # msgspec skips unknown fields' bytes unread
                malformed.append((index, "invalid JSON: not UTF-8"))
                continue
            if tenant is not None and event.tenant != tenant:
                malformed.append((index, f"tenant: {event.tenant!r} is not this topic's tenant {tenant!r}"))
                continue
            append(event)
    return events, malformed
