"""The seven layers of SPEC §3 in one ordered list, lowest first: what each is called and how it is built.

``resolve`` builds them in this order, ``show``, ``explain`` and ``check`` read
their names and titles here, and a layout supplies the files of the three file
layers. Nothing else writes a layer's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from layered_mlflow.resolution import artifact_root
from layered_mlflow.sources.dotenv_files import Binding
from layered_mlflow.sources.layers import CommandLine, Defaults, Layer, Setting, Variables, variables_of

if TYPE_CHECKING:
    from layered_mlflow.layouts.base import Layout


class Inputs(NamedTuple):
    """Everything resolution reads, already found: the project, its environment, `.env`, the environment, --set."""

    layout: Layout
    environment: str
    dotenv_files: Sequence[tuple[Path, list[Binding]]]
    environ: Mapping[str, str]
    assignments: Sequence[str]


# A kind of layer makes its layers from the inputs and the variables the `env` entries below it name.
Build = Callable[["LayerKind", Inputs, frozenset[str]], list[Layer]]


class LayerKind(NamedTuple):
    name: str  # as `show --format json` and `explain` call it
    title: str  # for people
    build: Build
    spells_variables: bool = False  # its keys are written as variables: MLFLOW_X, not mlflow_x
    is_file: bool = False  # a settings file of the project's layout


def _defaults(kind: LayerKind, inputs: Inputs, named: frozenset[str]) -> list[Layer]:
    return [Defaults(kind.name)]


def _files(kind: LayerKind, inputs: Inputs, named: frozenset[str]) -> list[Layer]:
    dotenv = {name: value for name, value in dotenv_said(inputs.dotenv_files).items() if value is not None}
    return list(inputs.layout.file_layers(kind.name, inputs.environment, inputs.environ, dotenv))


def _dotenv(kind: LayerKind, inputs: Inputs, named: frozenset[str]) -> list[Layer]:
    # Each `.env` file is a layer of its own: later wins, and an empty value says nothing (SPEC §3).
    root = inputs.layout.root
    return [Variables(kind.name, bindings, named, take_all=True, root=root) for _, bindings in inputs.dotenv_files]


def _process_env(kind: LayerKind, inputs: Inputs, named: frozenset[str]) -> list[Layer]:
    # Of the environment only what spells a key or is named below; set there, MLflow's private root is kept.
    names = named | {artifact_root.VARIABLE}
    bindings = variables_of(inputs.environ)
    return [Variables(kind.name, bindings, names, take_all=False, root=inputs.layout.root)]


def _command_line(kind: LayerKind, inputs: Inputs, named: frozenset[str]) -> list[Layer]:
    return [CommandLine(kind.name, inputs.assignments)]


def dotenv_said(dotenv_files: Sequence[tuple[Path, list[Binding]]]) -> dict[str, str | None]:
    """What the `.env` files say, later files winning and an empty value saying nothing."""
    return {name: value for name, (value, _) in dotenv_said_where(dotenv_files).items()}


def dotenv_said_where(dotenv_files: Sequence[tuple[Path, list[Binding]]]) -> dict[str, tuple[str, Path]]:
    """What the `.env` files say, as dotenv_said, with the file that said each."""
    return {name: (value, path) for path, bindings in dotenv_files for name, value, _ in bindings if value}


def env_names(said: Iterable[Setting]) -> frozenset[str]:
    """The variables ``env`` entries (of a section, or a `.env` file's variables) name."""
    return frozenset([s.key[1] for s in said if s.key[0] == "env"])  # every `env` key is (env, NAME)


DEFAULT = LayerKind("default", "built-in default", _defaults)
PROCESS_ENV = LayerKind("process_env", "environment variable", _process_env, spells_variables=True)
LAYERS: tuple[LayerKind, ...] = (
    DEFAULT,
    LayerKind("base_file", "settings file", _files, is_file=True),
    LayerKind("env_file", "environment settings file", _files, is_file=True),
    LayerKind("local_file", "local settings file", _files, is_file=True),
    LayerKind("dotenv", ".env", _dotenv, spells_variables=True),
    PROCESS_ENV,
    LayerKind("command_line", "command line", _command_line),
)
# Not a layer: a value that follows from the others (MLFLOW_ALLOW_FILE_STORE for a file: store).
DERIVED = LayerKind("derived", "derived", _defaults)
_BY_NAME = {kind.name: kind for kind in (*LAYERS, DERIVED)}


def kind(name: str) -> LayerKind:
    """The kind of layer a setting's ``layer`` names."""
    return _BY_NAME[name]


def file_layers(layout: Layout, environment: str | None, environ: Mapping[str, str]) -> list[Layer]:
    """Every settings file ``environment`` reads, lowest first."""
    return [layer for k in LAYERS if k.is_file for layer in layout.file_layers(k.name, environment, environ)]


def build(inputs: Inputs) -> list[tuple[Layer, list[Setting]]]:
    """Every layer, lowest first, with what it says."""
    said: list[tuple[Layer, list[Setting]]] = []
    named: frozenset[str] = frozenset()  # by the layers below: each value is looked at once
    for layer_kind in LAYERS:
        found = [(layer, layer.contributions()) for layer in layer_kind.build(layer_kind, inputs, named)]
        said.extend(found)
        named = named.union(*(env_names(settings) for _, settings in found))
    return said
