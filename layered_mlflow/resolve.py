"""Merging the layers in order into one immutable result, with provenance (SPEC §3)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from layered_mlflow import artifact_root, exports, keys, uris
from layered_mlflow.dotenv_files import read_dotenv
from layered_mlflow.errors import ConfigError
from layered_mlflow.keys import Key, Value
from layered_mlflow.layers import CommandLine, Contribution, Defaults, Layer, SettingsFile, Variables, variables_of
from layered_mlflow.project import Project, find_project, select_environment

PROJECT_DIR_VARIABLE = "LAYERED_MLFLOW_PROJECT_DIR"
ENV_VARIABLE = "ENV_FOR_DYNACONF"


@dataclass(frozen=True)
class Candidate:
    """What one layer said for a key: its value as written there, and where."""

    layer: str
    source: str
    value: Value


@dataclass(frozen=True)
class Setting:
    """A resolved key: the value the child gets, and the layer and source that set it."""

    key: Key
    value: Value
    layer: str
    source: str

    @property
    def name(self) -> str:
        return keys.dotted(self.key)


@dataclass(frozen=True)
class Resolved:
    """The answer to "where does this process log to MLflow?"."""

    environment: str
    environment_source: str
    environments: tuple[str, ...]  # every known environment of the project
    root: Path
    files: tuple[Path, ...]
    settings: Mapping[str, Setting]
    history: Mapping[str, tuple[Candidate, ...]]  # every layer's word on every key, highest first
    variables: Mapping[str, str]  # what `run` sets for the command
    unset: tuple[str, ...]  # inherited variables `run` removes (empty MLFLOW_*, X_FILE)
    unapplied: tuple[tuple[str, str], ...]  # (kedro-mlflow key, file): accepted, not applied (SPEC §10)

    def relative(self, source: str) -> str:
        """A source for people: a path inside the project relative to its root; others as they are."""
        path = Path(source)
        if path.is_absolute() and path.is_relative_to(self.root):
            return str(path.relative_to(self.root))
        return source


def resolve(
    env: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, str] | Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env_files: Sequence[str | os.PathLike[str]] | None = None,
) -> Resolved:
    """Resolve the settings of the project around ``cwd``; no side effects.

    ``overrides`` is the command line's ``--set``: a mapping or ``KEY=VALUE``
    strings. ``environ`` stands for the process environment (default:
    ``os.environ``, only read).
    """
    environ = dict(os.environ if environ is None else environ)
    here = working_directory(cwd, project_dir or environ.get(PROJECT_DIR_VARIABLE))
    project = _project(here, project_dir, environ)
    explicit = bool(env_files)
    dotenv_paths = [here / Path(p) for p in env_files] if env_files else [project.root / ".env"]
    dotenv_files = read_dotenv(dotenv_paths, environ, explicit=explicit)
    dotenv = [binding for _, bindings in dotenv_files for binding in bindings]
    environment, chosen_by = select_environment(
        project,
        [
            ("--env", env),
            (ENV_VARIABLE, environ.get(ENV_VARIABLE)),
            (f"{ENV_VARIABLE} in .env", _last(dotenv, ENV_VARIABLE)),
        ],
    )
    files = settings_files(project, environment)
    lower: list[Layer] = [Defaults(), *files]
    said = [(layer, layer.contributions()) for layer in lower]
    _refuse_interpolated_uris(c for _, found in said for c in found)
    env_names = frozenset(c.key[1] for _, found in said for c in found if c.key[0] == "env" and len(c.key) == 2)
    # Each `.env` file is a layer of its own: later wins, and an empty value says nothing (SPEC §3).
    for _, bindings in dotenv_files:
        dotenv_layer = Variables("dotenv", bindings, env_names, take_all=True, root=project.root)
        said.append((dotenv_layer, dotenv_layer.contributions()))
    env_names |= {name for name, _, _ in dotenv} | {artifact_root.VARIABLE}  # set in the environment, it is kept
    process_env = Variables("process_env", variables_of(environ), env_names, take_all=False, root=project.root)
    upper: list[Layer] = [process_env, CommandLine(_assignments(overrides))]
    said.extend((layer, layer.contributions()) for layer in upper)
    settings, history = _merge(said, project.root, environ)
    return Resolved(
        environment=environment,
        environment_source=chosen_by,
        environments=project.environments,
        root=project.root,
        files=(*(f.path for f in files), *(path for path, _ in dotenv_files)),
        settings=MappingProxyType(settings),
        history=MappingProxyType(history),
        variables=MappingProxyType(exports.child_variables(settings, environment)),
        unset=_unset(environ, process_env),
        unapplied=tuple((name, str(f.path)) for f in files for name in f.unapplied()),
    )


def project_of(project_dir: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Project:
    """The project ``resolve`` would read, without reading it (for `check` when resolution fails)."""
    here = working_directory(None, project_dir or environ.get(PROJECT_DIR_VARIABLE))
    return _project(here, project_dir, environ)


def settings_files(project: Project, environment: str | None) -> list[SettingsFile]:
    """The settings files of ``environment`` (None: only those every environment reads), lowest first."""
    named = (
        ("base_file", project.base_file),
        ("env_file", project.env_files.get(environment or "")),
        ("local_file", project.local_file),
    )
    return [SettingsFile(name, path) for name, path in named if path is not None]


def _refuse_interpolated_uris(contributions: Iterable[Contribution]) -> None:
    """A settings file's URI holding ``${…}`` (OmegaConf's syntax, common in kedro-mlflow files) is an error.

    Nothing evaluates it there (Dynaconf evaluates ``@format``, not ``${…}``), and
    anchored to the root it would silently become a folder named ``${oc.env:…}``.
    """
    for contribution in contributions:
        value, key = contribution.value, contribution.key
        if key in keys.URI_KEYS and isinstance(value, str) and "${" in value:
            variable = exports.variable_name(key) or f"{keys.SERVER_PREFIX}{key[-1].upper()}"
            raise ConfigError(
                f"{contribution.source}: `{keys.dotted(key)}` holds a ${{…}} interpolation, "
                "which settings files do not evaluate",
                hint=f"write the URI itself; {variable} in the environment wins over every file anyway",
            )


def _unset(environ: Mapping[str, str], process_env: Variables) -> tuple[str, ...]:
    """Inherited variables the child must not get: empty MLFLOW_* (MLflow fails on them), and X_FILE (SPEC §9)."""
    empty = {name for name, value in environ.items() if keys.is_mlflow_variable(name) and not value}
    return tuple(sorted(empty | set(process_env.file_references())))


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


def _project(here: Path, project_dir: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Project:
    if project_dir is not None:
        return find_project(here, os.fspath(project_dir), "--project-dir")
    return find_project(here, environ.get(PROJECT_DIR_VARIABLE) or None, PROJECT_DIR_VARIABLE)


def _last(bindings: Sequence[tuple[str, str | None, str]], name: str) -> str | None:
    values = [value for variable, value, _ in bindings if variable == name and value]
    return values[-1] if values else None


def _assignments(overrides: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{key}={value}" for key, value in overrides.items()]
    return list(overrides)


def _merge(
    said: Sequence[tuple[Layer, Sequence[Contribution]]], root: Path, environ: Mapping[str, str]
) -> tuple[dict[str, Setting], dict[str, tuple[Candidate, ...]]]:
    """Later layers win; mappings merge key by key; an empty value says nothing."""
    history: dict[Key, list[Candidate]] = {}
    winners: dict[Key, Candidate] = {}
    for layer, found in said:
        for contribution in found:
            candidate = Candidate(layer.name, contribution.source, contribution.value)
            history.setdefault(contribution.key, []).append(candidate)
            if keys.is_empty(candidate.value):
                continue
            # A value replaces whatever stood at, above or below its key (a scalar over a mapping).
            for other in [k for k in winners if _overlaps(k, contribution.key)]:
                del winners[other]
            winners[contribution.key] = candidate
    settings = {
        key: Setting(key, _anchored(key, c.value, root, environ), c.layer, c.source) for key, c in winners.items()
    }
    tracking = settings.get(("mlflow_tracking_uri",))
    if tracking is not None and uris.is_file_store(str(tracking.value)) and _ALLOW_FILE_STORE not in settings:
        # MLflow >= 3.13 refuses file stores without it (SPEC §6).
        derived = Candidate("derived", "file: tracking store", "true")
        settings[_ALLOW_FILE_STORE] = Setting(_ALLOW_FILE_STORE, "true", derived.layer, derived.source)
        history.setdefault(_ALLOW_FILE_STORE, []).append(derived)
    if tracking is not None and artifact_root.applies(str(tracking.value)) and artifact_root.KEY not in settings:
        # MLflow's client would put new experiments' artifacts in ./mlruns of the working directory.
        derived = Candidate("derived", "sqlite: tracking store", artifact_root.default(root))
        settings[artifact_root.KEY] = Setting(artifact_root.KEY, derived.value, derived.layer, derived.source)
        history.setdefault(artifact_root.KEY, []).append(derived)
    return (
        {keys.dotted(key): settings[key] for key in sorted(settings)},
        {keys.dotted(key): tuple(reversed(history[key])) for key in sorted(history)},
    )


_ALLOW_FILE_STORE: Key = ("mlflow_allow_file_store",)


def _anchored(key: Key, value: Value, root: Path, environ: Mapping[str, str]) -> Value:
    if key in keys.URI_KEYS and isinstance(value, str):
        return uris.anchor(value, root, environ)
    if key in keys.PATH_KEYS and isinstance(value, str):
        return uris.absolute(value, root, environ)
    return value


def _overlaps(a: Key, b: Key) -> bool:
    return a != b and (a[: len(b)] == b or b[: len(a)] == a)
