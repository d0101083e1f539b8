"""The import graph of `sync/` has no cycles and points downward only.

Read from the source with `ast`, so it sees every import a test run might never execute:
module-level ones, `if TYPE_CHECKING:` ones and function-local ones alike. A cycle that
Python tolerates today (because one side imports lazily) is still a cycle to a maintainer:
it means a shared type lives in a module that uses it instead of in a leaf below both.

Layers, top to bottom (a module may import its own layer or any layer below it):
cli -> engine -> state/planning -> backends/config -> destinations -> http ->
types -> errors -> secrets/records/values.
"""

from __future__ import annotations

import ast
from pathlib import Path

SYNC = Path(__file__).resolve().parents[2] / "sync"

# Lower number = lower layer. Every module of sync/ must be placed (a new module gets a layer
# on purpose, not by accident); prefixes match a package and everything in it.
LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (0, ("sync", "sync.secrets", "sync.records", "sync.values")),
    (1, ("sync.errors",)),
    (2, ("sync.types",)),
    (3, ("sync.http",)),
    (4, ("sync.destinations", "sync.dbt_project", "sync.state_sql")),
    (5, ("sync.backends", "sync.config")),
    (6, ("sync.state", "sync.planning", "sync.output")),
    (7, ("sync.engine", "sync.exposures", "sync.demo")),
    (8, ("sync.cli", "sync.demo_job")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SYNC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SYNC.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every sync module `path` imports anywhere in its body (resolved to real modules)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in known:
                found.add(name)
    found.discard(module_name(path))
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) for name, path in mods.items()}


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return cycles


def layer(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer): the longest prefix wins
    for number, prefixes in LAYERS:
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), number)
    return None if best is None else best[1]


def test_the_reader_sees_type_checking_and_function_local_imports(tmp_path: Path) -> None:
    """The checker itself must not be blind to the imports that hid the old cycles."""
    probe = SYNC / "output.py"  # imports sync.types under TYPE_CHECKING
    assert "sync.types" in imports_of(probe, set(modules()))
    cli = SYNC / "cli.py"  # imports the engine inside functions only
    assert "sync.engine" in imports_of(cli, set(modules()))
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_sync_has_no_import_cycles() -> None:
    assert find_cycles(graph()) == []


def test_every_sync_module_has_a_layer() -> None:
    assert [m for m in sorted(modules()) if layer(m) is None] == []


def test_imports_point_downward_only() -> None:
    upward = [
        f"{src} (layer {layer(src)}) imports {dst} (layer {layer(dst)})"
        for src, targets in sorted(graph().items())
        for dst in sorted(targets)
        if (layer(dst) or 0) > (layer(src) or 0)
    ]
    assert upward == []
