"""The JSON Schema of each raw topic, generated from the msgspec event types.

``python -m gim_dagster.core.events.schema_gen`` rewrites ``schemas/<kind>.schema.json``; a test fails when
the committed files differ from what the types generate, so the schema files and the types cannot drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from gim_dagster.core.events.models import TOPIC_KINDS, TOPIC_UNIONS, TopicKind

SCHEMA_DIR = Path(__file__).parent / "schemas"


def topic_schema(kind: TopicKind) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one record value on the ``kind`` topic."""
    schema = msgspec.json.schema(TOPIC_UNIONS[kind])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://gim-dagster.dev/schemas/events/{kind}.schema.json",
        "title": f"{kind} event",
        "description": f"One record value on the <tenant>.{kind}.events topic (see docs/events.md).",
        **schema,
    }


def schema_text(kind: TopicKind) -> str:
    return json.dumps(topic_schema(kind), indent=2, sort_keys=True) + "\n"


def load_schema(kind: TopicKind) -> dict[str, Any]:
    """The committed schema file of the ``kind`` topic."""
    return json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))


def main() -> None:
    for kind in TOPIC_KINDS:
        (SCHEMA_DIR / f"{kind}.schema.json").write_text(schema_text(kind), encoding="utf-8")


if __name__ == "__main__":
    main()
