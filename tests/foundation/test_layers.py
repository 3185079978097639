"""The layering of the package, checked over its import graph (every ``import`` in every module, also inside
functions): the functional core is Dagster-free and below the shell, the two contracts (raw events, fact
records) depend on nothing of the project, GSP and the Info Mart share only the fact-record contract, the
simulator sits on top of the core, not under it (docs/design.md, "Layout").
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gim_dagster"

# (importing module prefix, imported module prefix, why it is forbidden), prefixes as dotted names; an
# import within the importer's own prefix is always allowed.
RULES = [
    ("gim_dagster.core", "dagster", "the core is Dagster-free"),
    ("gim_dagster.core", "dagster_aws", "the core is Dagster-free"),
    ("gim_dagster.core", "dagster_postgres", "the core is Dagster-free"),
    ("gim_dagster.core", "gim_dagster.assets", "the core never imports the shell"),
    ("gim_dagster.core", "gim_dagster.resources", "the core never imports the shell"),
    ("gim_dagster.core", "gim_dagster.definitions", "the core never imports the shell"),
    ("gim_dagster.core", "gim_dagster.settings", "the core takes plain values, not the settings file"),
    ("gim_dagster.core", "gim_dagster.commands", "the core never imports the CLI"),
    ("gim_dagster.core.events", "gim_dagster", "the raw-event contract depends on nothing of ours"),
    ("gim_dagster.core.facts", "gim_dagster", "the fact-record contract depends on nothing of ours"),
    ("gim_dagster.core.configdb", "gim_dagster.core.sim", "the simulator builds on the configuration model"),
    ("gim_dagster.core.gca", "gim_dagster.core.sim", "production code never depends on the simulator"),
    ("gim_dagster.core.gsp", "gim_dagster.core.sim", "production code never depends on the simulator"),
    ("gim_dagster.core.infomart", "gim_dagster.core.sim", "production code never depends on the simulator"),
    ("gim_dagster.core.export", "gim_dagster.core.sim", "production code never depends on the simulator"),
    ("gim_dagster.core.reports", "gim_dagster.core.sim", "production code never depends on the simulator"),
    ("gim_dagster.core.gsp", "gim_dagster.core.infomart", "GSP and the Info Mart talk through Kafka only"),
    ("gim_dagster.core.infomart", "gim_dagster.core.gsp", "GSP and the Info Mart talk through Kafka only"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports (absolute names; ``from x import y`` gives ``x``)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def edges() -> set[tuple[str, str]]:
    return {(module_name(path), imported) for path in PACKAGE.rglob("*.py") for imported in imports(path)}


def breaks(importer: str, imported: str) -> list[str]:
    """Why ``importer`` may not import ``imported`` (no reason: it may)."""
    return [
        why
        for source, target, why in RULES
        if _within(importer, source) and _within(imported, target) and not _within(imported, source)
    ]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_import_keeps_the_layers() -> None:
    violations = {(a, b): why for a, b in edges() if (why := breaks(a, b))}
    assert not violations, "\n".join(
        f"{a} imports {b}: {', '.join(w)}" for (a, b), w in sorted(violations.items())
    )


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("gim_dagster.core.gsp.rows", "dagster"),
        ("gim_dagster.core.configdb.seed", "gim_dagster.core.sim.roster"),
        ("gim_dagster.core.events.parse", "gim_dagster.core.facts.records"),
        ("gim_dagster.core.facts.records", "gim_dagster.core.infomart.tables"),
        ("gim_dagster.core.facts.tables", "gim_dagster.core.naming"),
        ("gim_dagster.core.gsp.microbatch", "gim_dagster.core.infomart.records"),
        ("gim_dagster.core.infomart.loader", "gim_dagster.core.gsp.rows"),
        ("gim_dagster.core.export.stream", "gim_dagster.settings"),
    ],
)
def test_a_deliberate_violation_is_caught(importer: str, imported: str) -> None:
    assert breaks(importer, imported)


def test_allowed_imports_pass() -> None:
    assert not breaks("gim_dagster.core.events.parse", "gim_dagster.core.events.models")
    assert not breaks("gim_dagster.core.sim.engine", "gim_dagster.core.configdb.schema")
    assert not breaks("gim_dagster.assets.gsp", "dagster")
    assert not breaks("gim_dagster.core.reconcile", "gim_dagster.core.gsp")
    assert not breaks("gim_dagster.core.facts.records", "gim_dagster.core.facts.tables")
    assert not breaks("gim_dagster.core.gsp.rows", "gim_dagster.core.facts.static_keys")
    assert not breaks("gim_dagster.core.infomart.tables", "gim_dagster.core.facts.tables")
