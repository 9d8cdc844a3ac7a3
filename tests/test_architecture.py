"""Layers that only point down: every import in ``governance/`` is checked against the documented order.

The order (CONTRIBUTING.md, lowest first) is below. A module may import from its own layer and any layer under it,
never from one above; no two modules may import each other, directly or around a loop; and a package may not
reach into another package's private names (``_name``). Imports inside functions count: a lazy import is still an
arrow. Imports under ``if TYPE_CHECKING:`` count for the layers but not for cycles, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "governance"

LAYERS: list[tuple[str, ...]] = [
    (
        "errors",
        "paths",
        "atomic",
        "provenance",
        "yamlload",
        "intervals",
        "special",
        "testhooks",
        "version",
        "escaping",
        "generated",
        "stops",
    ),
    ("results",),
    ("workspace",),
    ("rules",),
    ("intake",),
    ("audit.fairness", "audit.explain"),
    ("report",),
    ("audit.tables",),
    (
        "audit",
        "audit.spec",
        "audit.folders",
        "audit.outputs",
        "audit.options",
        "audit.run",
        "audit.explain_run",
        "audit.curves",
    ),
    ("register",),
    ("audit.registered", "compare", "monitor"),
    ("mitigate",),
    ("checklists", "documents"),
    ("site",),
    ("scaffold",),
    ("demo",),
    ("schemas",),
    ("cli", "__main__", ""),
]
LEVEL = {unit: index for index, units in enumerate(LAYERS) for unit in units}


@dataclass(frozen=True)
class Arrow:
    source: str  # module, e.g. governance.rules.evaluate
    target: str  # module or package imported
    names: tuple[str, ...]
    line: int
    type_only: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """The layer unit of a module: its top package under governance (audit's sub-packages separately)."""
    parts = module.split(".")[1:]
    if not parts:
        return ""
    if parts[0] == "audit" and len(parts) > 1:
        return f"audit.{parts[1]}"
    return parts[0]


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    base = PACKAGE / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def arrows(path: Path) -> Iterator[Arrow]:
    source = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = _type_checking_lines(tree)
    package = source if path.name == "__init__.py" else source.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("governance"):
                    yield Arrow(source, alias.name, (), node.lineno, node.lineno in type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("governance"):
                continue
            names = tuple(alias.name for alias in node.names)
            for name in names:  # `from governance import provenance` imports the module governance.provenance
                target = f"{base}.{name}" if _is_module(f"{base}.{name}") else base
                yield Arrow(source, target, (name,), node.lineno, node.lineno in type_only)


def all_arrows() -> list[Arrow]:
    return [
        arrow
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
        for arrow in arrows(path)
    ]


def layer_violations(found: list[Arrow]) -> list[str]:
    problems = []
    for arrow in found:
        source, target = unit_of(arrow.source), unit_of(arrow.target)
        if source not in LEVEL or target not in LEVEL:
            problems.append(
                f"{arrow.source}: {unit_of(arrow.source) or target!r} is in no layer; add it to LAYERS"
            )
        elif LEVEL[target] > LEVEL[source]:
            problems.append(
                f"{arrow.source}:{arrow.line} imports {arrow.target} ({target} is above {source})"
            )
    return problems


def cycles(found: list[Arrow]) -> list[list[str]]:
    """Strongly connected groups of two or more modules in the runtime import graph (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for arrow in found:
        if not arrow.type_only and arrow.target != arrow.source:
            graph.setdefault(arrow.source, set()).add(arrow.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def private_reaches(found: list[Arrow]) -> list[str]:
    problems = []
    for arrow in found:
        own = arrow.source.split(".")[:2] == arrow.target.split(".")[:2]
        for name in arrow.names:
            if name.startswith("_") and not name.startswith("__") and not own:
                problems.append(
                    f"{arrow.source}:{arrow.line} uses {arrow.target}.{name}, private to its package"
                )
        module_private = any(
            part.startswith("_") and part != "__main__" for part in arrow.target.split(".")[2:]
        )
        if module_private and not own:
            problems.append(f"{arrow.source}:{arrow.line} imports the private module {arrow.target}")
    return problems


FOUND = all_arrows()


def test_every_arrow_points_down() -> None:
    assert layer_violations(FOUND) == []


def test_no_import_cycles() -> None:
    found = cycles(FOUND)
    assert found == [], "\n".join(" <-> ".join(group) for group in found)


def test_no_private_names_across_packages() -> None:
    assert private_reaches(FOUND) == []


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("governance.results.audit", "governance.cli.main", "above"),  # reversed arrow
        ("governance.cli.main", "governance.results.audit", None),
    ],
)
def test_the_checker_catches_a_reversed_arrow(source: str, target: str, expected: str | None) -> None:
    found = layer_violations([Arrow(source, target, (), 1, False)])
    assert (expected in found[0]) if expected else found == []


def test_the_checker_catches_a_cycle_and_a_private_reach() -> None:
    loop = [
        Arrow("governance.a.x", "governance.b.y", (), 1, False),
        Arrow("governance.b.y", "governance.a.x", (), 1, False),
    ]
    assert cycles(loop) == [["governance.a.x", "governance.b.y"]]
    reach = [Arrow("governance.site.build", "governance.intake.data", ("_missing_message",), 3, False)]
    assert private_reaches(reach)
