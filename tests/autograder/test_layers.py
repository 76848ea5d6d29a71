"""The layout's one rule: imports point down. Each module of the package has a floor; it may import only from
its own floor (within its own folder) or from floors below it. A new module must be given a floor here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "autograder"
# Lowest first. A folder name stands for each of its modules; a dotted name for one module.
FLOORS = [
    ["course", "model", "github", "report.markdown", "release.setup_helpers"],
    ["sandbox"],                                      # the wall: it imports nothing from above
    ["notebook", "grading.rules"],
    ["grading.declarations", "student"],
    ["judge"],
    ["pipeline", "cases"],
    ["report", "nbgrader", "release"],               # report.results, class_view, similarity
    ["verbs"],
    ["cli"],
    ["__main__"],
]


def floor(module: str) -> tuple[int, str]:
    """(floor, the FLOORS name that placed it) of a module named relative to the package."""
    for number, names in enumerate(FLOORS):
        for name in names:
            if module == name or module.startswith(name + "."):
                return number, name
    raise AssertionError(f"autograder.{module} has no floor in tests/autograder/test_layers.py: give it one")


def imports() -> list[tuple[str, str]]:
    """(importer, imported) for every import of a module of the package by another, as relative names."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        if module == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("autograder."):
                names = [f"{node.module}.{alias.name}" if (PACKAGE.parent / f"{node.module}.{alias.name}".replace(
                    ".", "/")).with_suffix(".py").exists() else node.module for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith("autograder.")]
            edges += [(module, name.removeprefix("autograder.")) for name in names]
    return edges


def test_every_import_points_down_or_stays_in_its_own_folder():
    upward = []
    for importer, imported in imports():
        (mine, my_name), (theirs, their_name) = floor(importer), floor(imported)
        if theirs > mine or (theirs == mine and my_name != their_name):
            upward.append(f"autograder.{importer} imports autograder.{imported}")
    assert not upward, "imports that run against the layers:\n" + "\n".join(upward)


def test_the_sandbox_imports_nothing_from_outside_itself():
    outside = sorted({imported for importer, imported in imports()
                      if importer.startswith("sandbox.") and not imported.startswith("sandbox")})
    assert not outside, f"the worker's side needs only the sandbox folder, and imports {outside}"


def test_the_rule_sees_the_imports():
    edges = imports()
    assert ("verbs.grade", "pipeline") in edges and ("sandbox.worker", "sandbox.monitor") in edges
    assert len(edges) > 80
