"""Finding the project root, its settings files and its environments (SPEC §2, §4)."""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from layered_mlflow.errors import ConfigError, UsageError, shown

SETTINGS_DIR = "settings"
EXTENSIONS = (".yml", ".yaml")
DEFAULT_ENV = "development"
# `local` names the personal overrides file, loaded in every environment.
RESERVED_ENV = "local"


@dataclass(frozen=True)
class Project:
    """A project root and the settings files it holds."""

    root: Path
    base_file: Path | None
    local_file: Path | None
    env_files: Mapping[str, Path]

    @property
    def environments(self) -> tuple[str, ...]:
        """Known environments: ``development`` and one per ``mlflow.<env>.yml``."""
        return tuple(sorted({DEFAULT_ENV, *self.env_files}))


def find_project(cwd: Path, explicit: str | None, named_by: str) -> Project:
    """The project of ``cwd``, or of ``explicit`` (named by ``named_by``) when given."""
    return _scan(_named_root(cwd, explicit, named_by) if explicit is not None else _discover_root(cwd))


def _named_root(cwd: Path, explicit: str, named_by: str) -> Path:
    named = f"{named_by} {shown(explicit)}"
    try:
        root = Path(os.path.abspath(cwd / Path(explicit).expanduser()))
    except RuntimeError:  # `~user` of no user (or `~` with no home)
        raise UsageError(f"{named}: no such user's home", hint="write the path without ~, or with ~ alone") from None
    try:
        is_dir = stat.S_ISDIR(root.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        is_dir = False
    except OSError as exc:  # a name too long, a loop of links, a folder it may not enter
        raise UsageError(f"{named}: cannot use it ({exc.strerror})") from None
    if not is_dir:
        raise UsageError(f"{named}: no such directory", hint="name the folder that holds settings/mlflow.yml")
    return root


def _discover_root(cwd: Path) -> Path:
    """The nearest ancestor of ``cwd`` (itself included) holding ``settings/mlflow.yml``."""
    for folder in (cwd, *cwd.parents):
        if any(os.path.lexists(folder / SETTINGS_DIR / f"mlflow{ext}") for ext in EXTENSIONS):
            return folder
    return cwd


def _scan(root: Path) -> Project:
    settings = root / SETTINGS_DIR
    try:
        names = sorted(os.listdir(settings))
    except (FileNotFoundError, NotADirectoryError):
        names = []
    except OSError as exc:
        raise ConfigError(f"{settings}: cannot list the folder ({exc.strerror})") from None
    stems: dict[str, list[str]] = {}
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if dot and f".{ext}" in EXTENSIONS and stem.startswith("mlflow"):
            stems.setdefault(stem.lower(), []).append(name)
    for variants in stems.values():
        if len(variants) > 1:
            raise ConfigError(
                f"{settings}: {' and '.join(variants)} are the same layer",
                hint="keep one of them",
            )
    files = {stem: settings / variants[0] for stem, variants in stems.items()}
    env_files = {
        stem.removeprefix("mlflow."): path
        for stem, path in files.items()
        if stem.count(".") == 1 and stem != f"mlflow.{RESERVED_ENV}"
    }
    return Project(
        root=root,
        base_file=files.get("mlflow"),
        local_file=files.get(f"mlflow.{RESERVED_ENV}"),
        env_files=env_files,
    )


def select_environment(project: Project, candidates: list[tuple[str, str | None]]) -> tuple[str, str]:
    """The active environment and where it was chosen: the first non-empty candidate.

    ``candidates`` are ``(source, name)`` pairs, highest precedence first.
    """
    for source, name in candidates:
        if name:
            return _validate(project, name.lower(), source), source
    return DEFAULT_ENV, "default"


def _validate(project: Project, name: str, source: str) -> str:
    known = project.environments
    if name in known:
        return name
    listed = ", ".join(known)
    if name == RESERVED_ENV:
        raise ConfigError(
            f"environment 'local' (from {source}) is reserved: settings/mlflow.local.yml "
            f"applies in every environment; known environments: {listed}"
        )
    close = difflib.get_close_matches(name, known, n=1)
    can_be_a_file = name.isprintable() and "/" not in name and "\\" not in name
    hint = (
        f"did you mean '{close[0]}'?"
        if close
        else (f"create settings/mlflow.{name}.yml to add it" if can_be_a_file else None)
    )
    raise ConfigError(f"unknown environment {name!r} (from {source}); known environments: {listed}", hint=hint)
