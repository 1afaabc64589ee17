"""What every layout is to the rest of the package: the ``Layout`` protocol, and how a root is explained."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from layered_mlflow.errors import ConfigError
from layered_mlflow.problems import Problem
from layered_mlflow.sources.layers import Layer

KEDRO_MARKER = "pyproject.toml with [tool.kedro]"


class Layout(Protocol):
    """A project: its root, its environments, and the files of each file layer."""

    @property
    def root(self) -> Path: ...

    @property
    def found(self) -> bool:
        """Whether the root holds the layout's files (else it is just the working directory)."""
        ...

    @property
    def marker(self) -> str:
        """What marks a root of this layout, for people: ``settings/mlflow.yml``."""
        ...

    @property
    def environments(self) -> tuple[str, ...]: ...

    @property
    def default_environment(self) -> str: ...

    @property
    def own_variable(self) -> str | None:
        """The variable the project's own tool reads its environment from (``KEDRO_ENV``), given to the command."""
        ...

    @property
    def environment_variables(self) -> tuple[str, ...]:
        """The variables that choose the environment, highest first (each: process environment, then `.env`)."""
        ...

    def file_layers(
        self, layer: str, environment: str | None, environ: Mapping[str, str], dotenv: Mapping[str, str] | None = None
    ) -> list[Layer]:
        """The files of file layer ``layer`` in ``environment`` (None: only those every environment reads).

        ``dotenv`` is what the `.env` files say, below ``environ``, for files that read variables.
        """
        ...

    def secret_names(self, environment: str) -> frozenset[str]:
        """Variables the layout's files supply as secrets, whatever their names (Kedro credentials)."""
        ...

    def all_files(self) -> list[Path]:
        """Every file the layout may read, in any environment, its marker first: whose they are is checked."""
        ...

    def problems(self, environment: str) -> list[Problem]:
        """What `check` reports about the layout in ``environment``: files it ignores, values it assumed."""
        ...

    def unknown_environment(self, name: str, source: str) -> ConfigError: ...


class LayoutKind(Protocol):
    marker: str

    # ``environ`` says where the cache of parsed files is (or that it is off): none given, none used.
    def marks(self, folder: Path, environ: Mapping[str, str] = ...) -> bool: ...

    def at(self, root: Path, environ: Mapping[str, str] = ...) -> Layout: ...


def root_note(layout: Layout) -> str | None:
    """Why the root is where it is, when no project's files made it one (SPEC §2)."""
    if layout.found:
        return None
    try:
        here = Path(os.getcwd())
    except OSError:
        here = None
    if here != layout.root:
        return f"no {layout.marker} in it"
    return f"no {layout.marker} here or in a folder above: the working directory is the root"
