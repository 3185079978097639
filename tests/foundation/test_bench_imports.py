"""The benches import what the project still has: they run by hand (README, Benchmarks), not in the suite, so
a rename in the package would break them unnoticed. Every ``from gim_dagster… import name`` in ``bench/``,
also inside functions, must resolve."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def project_imports() -> list[tuple[str, str, str]]:
    """(bench file:line, module, name) of every project name the benches import."""
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gim_dagster"):
                found += [(f"{path.name}:{node.lineno}", node.module or "", a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                found += [
                    (f"{path.name}:{node.lineno}", a.name, "")
                    for a in node.names
                    if a.name.startswith("gim_dagster")
                ]
    return found


def resolves(module: str, name: str) -> bool:
    imported = importlib.import_module(module)
    if not name or hasattr(imported, name):
        return True
    return hasattr(imported, "__path__") and importlib.util.find_spec(f"{module}.{name}") is not None


def test_every_project_import_of_the_benches_resolves() -> None:
    imports = project_imports()
    assert len(imports) > 50  # the walk finds them
    broken = [
        f"{where}: {module} has no {name}" for where, module, name in imports if not resolves(module, name)
    ]
    assert not broken, broken


def test_a_name_the_package_no_longer_has_is_caught() -> None:
    assert not resolves("gim_dagster.assets.gsp", "BUSY")  # renamed in #18: bench_freshness broke unseen
