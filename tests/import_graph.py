"""The package's import graph, counting the imports inside functions: its cycles and its upward arrows.

`python -m tests.import_graph` prints the figures and exits 1 if there is a cycle or an import that points up
the layer order (.ci/run runs it); tests/test_architecture.py holds the same to zero and tests the reader.

An arrow is every ``import`` the interpreter can execute, wherever it sits: at module level or inside a
function (the package defers many imports for start-up speed, and a deferred import still closes a cycle at
run time). Only ``if TYPE_CHECKING:`` blocks are left out: nothing runs them. ``from package import name``
points at the submodule ``package.name`` when there is one, else at the package itself.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "layered_mlflow"

# The layers, lowest first: a module may import its own layer and those before it, never one after it.
# Each entry is a top-level module or subpackage of the package ("" is the package's __init__, its public API).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "errors"),
    ("mlflow_names",),
    ("keys",),
    ("problems",),
    ("sources",),
    ("layouts",),
    ("secrets",),
    ("resolution",),
    ("server",),
    ("checks",),
    ("integrations",),
    ("distributed",),
    ("cli",),
    ("__main__", ""),
)

Graph = dict[str, dict[str, bool]]  # module -> imported module -> whether only inside a function


def modules(package: Path) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its own name, for its __init__)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def graph(package: Path) -> Graph:
    """Who imports whom within ``package``, each arrow marked True when every import of it is inside a function."""
    known = modules(package)
    arrows: Graph = {name: {} for name in known}
    for name, path in known.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for target, in_function in _imports(ast.parse(path.read_text(encoding="utf-8")), here, known, False):
            if target != name:
                arrows[name][target] = arrows[name].get(target, True) and in_function
    return arrows


def _imports(node: ast.AST, here: str, known: Mapping[str, Path], in_function: bool) -> Iterator[tuple[str, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from _imports(ast.Module(body=child.orelse, type_ignores=[]), here, known, in_function)
            continue
        inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if isinstance(child, ast.Import):
            yield from ((target, inside) for alias in child.names if (target := _known(alias.name, known)))
        elif isinstance(child, ast.ImportFrom):
            base = ".".join(here.split(".")[: len(here.split(".")) - child.level + 1]) if child.level else ""
            source = ".".join(part for part in (base, child.module) if part)
            for alias in child.names:
                target = f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else _known(source, known)
                if target:
                    yield target, inside
        yield from _imports(child, here, known, inside)


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` itself (``not TYPE_CHECKING`` runs its body)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _known(dotted: str, known: Mapping[str, Path]) -> str | None:
    """The longest prefix of ``dotted`` that is a module of the package, if any."""
    while dotted and dotted not in known:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def cycles(arrows: Graph) -> list[list[str]]:
    """Every elementary cycle, each once, starting from its smallest name (a depth-first search per start)."""
    found: list[list[str]] = []
    order = sorted(arrows)
    rank = {name: i for i, name in enumerate(order)}

    def walk(start: str, path: list[str]) -> None:
        for target in sorted(arrows.get(path[-1], {})):
            if target == start:
                found.append(list(path))
            elif rank.get(target, -1) > rank[start] and target not in path:
                walk(start, [*path, target])

    for start in order:
        walk(start, [start])
    return found


def layer_of(name: str, package: str = "layered_mlflow") -> int | None:
    """The position of ``name``'s layer in LAYERS, or None when no layer holds it."""
    top = name.removeprefix(package).removeprefix(".").split(".")[0]
    return next((i for i, layer in enumerate(LAYERS) if top in layer), None)


def upward(arrows: Graph) -> list[tuple[str, str]]:
    """The imports that point from a layer to a later one."""
    return [
        (source, target)
        for source, targets in sorted(arrows.items())
        for target in sorted(targets)
        if (layer_of(source) or 0) < (layer_of(target) or 0)
    ]


def unplaced(arrows: Graph) -> list[str]:
    """The modules whose top-level name no layer names: a new one must be given its place."""
    return [name for name in sorted(arrows) if layer_of(name) is None]


def main() -> int:
    arrows = graph(PACKAGE)
    edges = [in_function for targets in arrows.values() for in_function in targets.values()]
    found, up, loose = cycles(arrows), upward(arrows), unplaced(arrows)
    print(
        f"import graph: {len(arrows)} modules, {len(edges)} arrows ({sum(edges)} only inside functions), "
        f"{len(found)} cycles, {len(up)} upward, {len(loose)} outside the layers"
    )
    for cycle in found:
        print("cycle: " + " -> ".join([*cycle, cycle[0]]))
    for source, target in up:
        print(f"upward: {source} -> {target}")
    for name in loose:
        print(f"no layer: {name} (tests/import_graph.py, LAYERS)")
    return 1 if found or up or loose else 0


if __name__ == "__main__":
    sys.exit(main())
