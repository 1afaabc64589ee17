"""Finding the project and its layout, and choosing its environment (SPEC §2, §4).

A layout is how a project keeps its settings: `settings/`
(``settings_dir.py``) or a Kedro project's `conf/` (``kedro/layout.py``).
Everything outside the layouts reads a project through the ``Layout``
protocol (``base.py``), so another layout is one more class in ``LAYOUTS``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from layered_mlflow.errors import ConfigError, UsageError, shown
from layered_mlflow.layouts import trust
from layered_mlflow.layouts.base import KEDRO_MARKER, Layout, LayoutKind
from layered_mlflow.layouts.settings_dir import SettingsLayout
from layered_mlflow.problems import WARNING, Problem
from layered_mlflow.sources.cache import NO_CACHE

PROJECT_DIR_VARIABLE = "LAYERED_MLFLOW_PROJECT_DIR"


class _Kedro:
    """Kedro's layout (``kedro/layout.py``), imported only for a Kedro project: every `run` finds a layout."""

    marker = KEDRO_MARKER

    @staticmethod
    def marks(folder: Path, environ: Mapping[str, str] = NO_CACHE) -> bool:
        from layered_mlflow.layouts.kedro.settings import is_kedro_project

        return is_kedro_project(folder, environ)

    @staticmethod
    def at(root: Path, environ: Mapping[str, str] = NO_CACHE) -> Layout:
        from layered_mlflow.layouts.kedro.layout import KedroLayout

        return KedroLayout.at(root, environ)


# Tried in order at each folder from the working directory up; the first that marks one wins, so a
# folder with settings/mlflow.yml and [tool.kedro] uses settings/ (and `check` says so).
LAYOUTS: Sequence[LayoutKind] = (SettingsLayout, _Kedro())
DEFAULT_LAYOUT: LayoutKind = SettingsLayout  # a folder no layout marks


def problems(layout: Layout, environment: str) -> list[Problem]:
    """What `check` reports of the project's layout: its own problems, and a root another layout marks too."""
    found = layout.problems(environment)
    if layout.found and layout.marker == SettingsLayout.marker and _Kedro.marks(layout.root):
        found.insert(
            0,
            Problem(
                WARNING,
                f"{layout.root} is a Kedro project too ([tool.kedro]); {layout.marker} wins "
                "and conf/'s files are ignored",
                "keep one of them: remove settings/ to read conf/, or the mlflow files of conf/",
            ),
        )
    return found


def locate(
    project_dir: str | os.PathLike[str] | None, environ: Mapping[str, str], cwd: str | os.PathLike[str] | None = None
) -> tuple[Path, Layout, bool]:
    """The working directory, the project, and whether the project was named (``--project-dir`` or its variable)."""
    named_by = "--project-dir" if project_dir is not None else PROJECT_DIR_VARIABLE
    explicit = os.fspath(project_dir) if project_dir is not None else environ.get(PROJECT_DIR_VARIABLE) or None
    here = working_directory(cwd, explicit)
    return here, find_project(here, explicit, named_by, environ), explicit is not None


def find_project(cwd: Path, explicit: str | None, named_by: str, environ: Mapping[str, str] = NO_CACHE) -> Layout:
    """The project of ``cwd``, or of ``explicit`` (named by ``named_by``) when given.

    A project not named is used only if no other user may have chosen its files (SPEC §2). ``environ`` says
    where the cache of parsed files is (a Kedro project's ``pyproject.toml`` is read through it).
    """
    root = _named_root(cwd, explicit, named_by) if explicit is not None else _discover_root(cwd, environ)
    kind = next((kind for kind in LAYOUTS if kind.marks(root, environ)), DEFAULT_LAYOUT)
    layout = kind.at(root, environ)
    if explicit is None:
        refuse_untrusted(root, layout.all_files(), layout.found)
    return layout


def refuse_untrusted(root: Path, files: Sequence[Path], root_found: bool) -> None:
    """Exit 2 naming the first of a project's ``files`` (or its folders, or its ``root`` when a layout marked it)
    that another user owns or every user can write: git's rule since CVE-2022-24765; root's own are trusted."""
    found = trust.untrusted(root, files, root_found)
    if found is not None:
        path, why = found
        raise ConfigError(
            f"{shown(str(path))} {why}: a project found from the working directory is used only if "
            "you or root own its files and not every user can write them",
            hint=f"if you trust it, name it: --project-dir {shown(str(root))} (or {PROJECT_DIR_VARIABLE})",
        )


def working_directory(cwd: str | os.PathLike[str] | None, project_dir: str | os.PathLike[str] | None) -> Path:
    """The working directory; one that was deleted will do when the project is named by an absolute path."""
    if cwd is not None:
        return Path(os.path.abspath(cwd))
    try:
        return Path(os.getcwd())
    except FileNotFoundError:
        if project_dir is not None and os.path.isabs(project_dir):
            return Path(project_dir)
        raise ConfigError(
            "the working directory no longer exists",
            hint=f"cd to an existing folder, or name the project with an absolute {PROJECT_DIR_VARIABLE}",
        ) from None


def _named_root(cwd: Path, explicit: str, named_by: str) -> Path:
    named = f"{named_by} {shown(explicit)}"
    try:
        root = Path(os.path.abspath(cwd / Path(explicit).expanduser()))
    except RuntimeError:  # `~user` of no user (or `~` with no home)
        raise UsageError(f"{named}: no such user's home", hint="write the path without ~, or with ~ alone") from None
    try:
        is_dir = stat.S_ISDIR(root.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL (from the Python API)
        is_dir = False
    except OSError as exc:  # a name too long, a loop of links, a folder it may not enter
        raise UsageError(f"{named}: cannot use it ({exc.strerror})") from None
    if not is_dir:
        markers = " or ".join(kind.marker for kind in LAYOUTS)
        raise UsageError(f"{named}: no such directory", hint=f"name the folder that holds {markers}")
    return root


def _discover_root(cwd: Path, environ: Mapping[str, str]) -> Path:
    """The nearest ancestor of ``cwd`` (itself included) that a layout marks; else ``cwd``."""
    for folder in (cwd, *cwd.parents):
        if any(kind.marks(folder, environ) for kind in LAYOUTS):
            return folder
    return cwd


def select_environment(
    layout: Layout,
    chosen: str | None,
    environ: Mapping[str, str],
    dotenv: Mapping[str, tuple[str, str]],
    chosen_as: str = "--env",
) -> tuple[str, str]:
    """The active environment and what chose it: ``--env``, then each of the layout's variables, else its default.

    ``dotenv`` is what the `.env` files say, the last file's word on a name winning: (value, the file as shown).
    ``chosen_as`` is how ``chosen`` was given: ``--env``, or the Python API's ``env`` argument.
    """
    candidates = [(chosen_as, chosen)]
    for variable in layout.environment_variables:
        value, file = dotenv.get(variable, (None, ".env"))
        candidates += [(variable, environ.get(variable)), (f"{variable} in {file}", value)]
    for source, name in candidates:
        if name:
            name = name.lower()
            if name not in layout.environments:
                raise layout.unknown_environment(name, source)
            return name, source
    return layout.default_environment, "default"
