"""Issue 21: the package's folders are its layers; no import, even one inside a function, closes a cycle or
points up the layer order (tests/import_graph.py reads the graph; `.ci/run` prints its figures)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

import layered_mlflow
from tests import import_graph
from tests.import_graph import LAYERS, PACKAGE, cycles, graph, layer_of, unplaced, upward


def test_the_package_has_no_import_cycle() -> None:
    """Counting imports inside functions: a deferred import still closes a cycle when it runs."""
    assert cycles(graph(PACKAGE)) == []


def test_no_import_points_up_the_layers() -> None:
    """The vocabulary, sources, layouts, secrets, resolution, ... the command line: each imports only below it."""
    assert upward(graph(PACKAGE)) == []


def test_every_module_sits_in_a_layer() -> None:
    """A new top-level module or folder must be given its place in LAYERS before it lands."""
    assert unplaced(graph(PACKAGE)) == []


def test_every_layer_named_exists() -> None:
    """LAYERS names nothing that is not there: no stale entry."""
    tops = {path.stem if path.suffix else path.name for path in PACKAGE.iterdir() if path.name != "__pycache__"}
    named = {name for layer in LAYERS for name in layer if name}
    assert named - tops == set()


@pytest.mark.parametrize(
    "init", sorted(p for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE), ids=lambda p: str(p.parent.name)
)
def test_a_subpackage_is_only_its_docstring(init: Path) -> None:
    """Importing one module of a folder costs that module's imports, never its siblings' (start-up speed)."""
    body = ast.parse(init.read_text(encoding="utf-8")).body
    assert len(body) == 1
    assert isinstance(body[0], ast.Expr)
    assert isinstance(body[0].value, ast.Constant)


def test_no_module_of_the_package_is_ignored_by_git() -> None:
    """A .gitignore pattern that matched a folder of the package (`secrets/` once did) would keep its modules out
    of every commit, and out of ruff, which honours .gitignore: the checkout CI tests would lack them."""
    files = [str(path.relative_to(PACKAGE.parent)) for path in PACKAGE.rglob("*.py")]
    done = subprocess.run(["git", "check-ignore", *files], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout  # 1: none of them is ignored


def test_the_public_api_is_all_that_the_package_exports() -> None:
    """`layered_mlflow.__all__` is the promise (README, Python API); every name in it is there."""
    assert sorted(layered_mlflow.__all__) == [
        "LayeredMlflowError",
        "Resolved",
        "Setting",
        "__version__",
        "configure",
        "resolve",
        "worker_setup",
        "worker_variables",
    ]
    assert all(getattr(layered_mlflow, name) is not None for name in layered_mlflow.__all__)


def _package(root: Path, files: dict[str, str]) -> Path:
    package = root / "layered_mlflow"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


@pytest.mark.parametrize(
    ("files", "arrows"),
    [
        pytest.param({"keys.py": "import os\n"}, {}, id="a-third-party-import-is-no-arrow"),
        pytest.param(
            {"keys.py": "def f():\n    from layered_mlflow import errors\n", "errors.py": ""},
            {"layered_mlflow.keys": {"layered_mlflow.errors": True}},
            id="inside-a-function",
        ),
        pytest.param(
            {
                "keys.py": "from layered_mlflow import errors\ndef f():\n    import layered_mlflow.errors\n",
                "errors.py": "",
            },
            {"layered_mlflow.keys": {"layered_mlflow.errors": False}},
            id="module-level-wins",
        ),
        pytest.param(
            {"keys.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from layered_mlflow import errors\n"},
            {},
            id="type-checking-only",
        ),
        pytest.param(
            {"keys.py": "if not TYPE_CHECKING:\n    from layered_mlflow import errors\n", "errors.py": ""},
            {"layered_mlflow.keys": {"layered_mlflow.errors": False}},
            id="not-type-checking-runs",
        ),
        pytest.param(
            {"keys.py": "if TYPE_CHECKING:\n    pass\nelse:\n    from layered_mlflow import errors\n", "errors.py": ""},
            {"layered_mlflow.keys": {"layered_mlflow.errors": False}},
            id="type-checking-else-runs",
        ),
        pytest.param(
            {
                "sources/__init__.py": "",
                "sources/a.py": "from . import b\nfrom .b import x\n",
                "sources/b.py": "x = 1\n",
            },
            {"layered_mlflow.sources.a": {"layered_mlflow.sources.b": False}},
            id="relative",
        ),
        pytest.param(
            {"keys.py": "from layered_mlflow import resolve\n", "__init__.py": "resolve = 1\n"},
            {"layered_mlflow.keys": {"layered_mlflow": False}},
            id="a-name-of-the-package-points-at-its-init",
        ),
    ],
)
def test_the_reader_draws_every_import_that_runs(
    tmp_path: Path, files: dict[str, str], arrows: dict[str, dict[str, bool]]
) -> None:
    """Arrows for module-level and deferred imports, relative or absolute; none for TYPE_CHECKING blocks."""
    drawn = graph(_package(tmp_path, files))
    assert {name: targets for name, targets in drawn.items() if targets} == arrows


def test_a_cycle_is_found_once_however_long() -> None:
    """Each elementary cycle once, from its smallest name; a diamond is no cycle."""
    arrows = {"a": {"b": False}, "b": {"c": True}, "c": {"a": True, "d": False}, "d": {}, "e": {"d": False}}
    assert cycles(arrows) == [["a", "b", "c"]]
    assert cycles({"a": {"b": False}, "b": {"a": False, "c": False}, "c": {"b": True}}) == [["a", "b"], ["b", "c"]]


@pytest.mark.parametrize(
    ("source", "target", "up"),
    [
        ("layered_mlflow.problems", "layered_mlflow.resolution.resolve", True),
        ("layered_mlflow.resolution.resolve", "layered_mlflow.problems", False),
        ("layered_mlflow.secrets.masking", "layered_mlflow.cli.output", True),
        ("layered_mlflow.cli.main", "layered_mlflow.cli.process", False),
        ("layered_mlflow.cli.main", "layered_mlflow", True),
        ("layered_mlflow", "layered_mlflow.integrations.configure", False),
    ],
)
def test_an_upward_import_is_named(source: str, target: str, up: bool) -> None:
    """Within a layer or downwards passes; from a layer to a later one (the package's API is last) is upward."""
    assert upward({source: {target: False}, target: {}}) == ([(source, target)] if up else [])


def test_a_module_outside_the_layers_is_named(tmp_path: Path) -> None:
    """A new top-level name must be placed: the check names it."""
    assert unplaced(graph(_package(tmp_path, {"keys.py": "", "extras.py": ""}))) == ["layered_mlflow.extras"]
    assert layer_of("layered_mlflow.sources.cache") == LAYERS.index(("sources",))


def test_the_figures_print_and_the_exit_says_clean(capsys: pytest.CaptureFixture[str]) -> None:
    """What `.ci/run` prints: the graph's size and its zero cycles, upward arrows and unplaced modules."""
    assert import_graph.main() == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("import graph: "), line
    assert line.endswith(" 0 cycles, 0 upward, 0 outside the layers"), line
