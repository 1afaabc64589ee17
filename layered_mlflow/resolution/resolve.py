"""Merging the layers in order into one immutable result, with provenance (SPEC §3)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError
from layered_mlflow.keys import Key
from layered_mlflow.layouts.base import Layout
from layered_mlflow.layouts.discovery import locate, refuse_untrusted, select_environment
from layered_mlflow.mlflow_names import server_options
from layered_mlflow.problems import WARNING, Problem
from layered_mlflow.resolution import exports, merging, precedence, uris
from layered_mlflow.resolution.derived import settings as derived_settings
from layered_mlflow.secrets.masking import Secrets, environment_secrets, scrubbed
from layered_mlflow.sources.dotenv_files import read_dotenv
from layered_mlflow.sources.layers import Layer, Setting, SettingsFile, Variables


class Resolved(NamedTuple):
    """The answer to "where does this process log to MLflow?"."""

    layout: Layout  # the project: its root, its environments, how it keeps its settings
    environment: str
    environment_source: str
    files: tuple[Path, ...]
    settings: Mapping[str, Setting]
    history: Mapping[str, tuple[Setting, ...]]  # every layer's word on every key, highest first
    variables: Mapping[str, str]  # what `run` sets for the command
    unset: tuple[str, ...]  # inherited variables `run` removes (empty MLFLOW_*, X_FILE)
    file_problems: tuple[Problem, ...]  # what reading the settings files found, notes first (SPEC §10)
    fetched: frozenset[str] = frozenset()  # keys whose secret reference was fetched (resolution/fetched.py)

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def environment_shown(self) -> str:
        """The environment for people: its name, or "base only" when none is named (a Kedro loader without one)."""
        return self.environment or "base only"

    @property
    def environments(self) -> tuple[str, ...]:
        """Every known environment of the project."""
        return self.layout.environments

    def where(self, setting: Setting) -> str:
        """The key as its layer spelled it, and where: ``MLFLOW_X (environment)``, ``x (settings/mlflow.yml)``."""
        if setting.layer == precedence.PROCESS_ENV.name:
            return f"{setting.source} (environment)"
        written = keys.variable_name(setting.key) if precedence.kind(setting.layer).spells_variables else None
        return f"{written or setting.name} ({self.relative(setting.source)})"

    def relative(self, source: str) -> str:
        """A source for people: a path inside the project relative to its root; others as they are."""
        return _relative(self.root, source)


def _relative(root: Path, source: str) -> str:
    path = Path(source)
    if path.is_absolute() and path.is_relative_to(root):
        return str(path.relative_to(root))
    return source


def resolve(
    env: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, str] | Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env_files: Sequence[str | os.PathLike[str]] | None = None,
    env_given_as: str = "the env argument",
) -> Resolved:
    """Resolve the settings of the project around ``cwd``; no side effects.

    ``overrides`` is the command line's ``--set``: a mapping or ``KEY=VALUE``
    strings. ``environ`` stands for the process environment (default:
    ``os.environ``, only read). ``env_given_as`` is how messages name ``env``
    (the command line's ``--env``).
    """
    environ = dict(os.environ if environ is None else environ)
    here, layout, named = locate(project_dir, environ, cwd)
    dotenv_paths = [here / Path(p) for p in env_files] if env_files else [layout.root / ".env"]
    if not env_files and not named:  # the project's own `.env`, found as it was (SPEC §2)
        refuse_untrusted(layout.root, dotenv_paths, layout.found)
    dotenv_files = read_dotenv(dotenv_paths, environ, explicit=bool(env_files))
    told = {  # by the `.env` files: each name's value, and the file, as messages show it
        name: (value, str(path.relative_to(layout.root)) if path.is_relative_to(layout.root) else str(path))
        for name, (value, path) in precedence.dotenv_said_where(dotenv_files).items()
    }
    try:
        environment, chosen_by = select_environment(layout, env, environ, told, env_given_as)
    except ConfigError as exc:  # it quotes the name, which `${MLFLOW_TRACKING_PASSWORD}` in `.env` may have made
        raise _scrubbed(exc, environ, told) from None
    inputs = precedence.Inputs(layout, environment, dotenv_files, environ, _assignments(overrides))
    said = precedence.build(inputs)
    settings, history = _merge(said, layout.root, environ)
    return Resolved(
        layout=layout,
        environment=environment,
        environment_source=chosen_by,
        files=(*(layer.path for layer, _ in said if isinstance(layer, SettingsFile)), *(p for p, _ in dotenv_files)),
        settings=MappingProxyType(settings),
        history=history,
        variables=MappingProxyType(
            exports.child_variables(settings, exports.environment_variables(layout, environment, chosen_by))
        ),
        unset=_unset(environ, said),
        file_problems=_file_problems(said, layout.root),
    )


def _file_problems(said: Sequence[tuple[Layer, Sequence[Setting]]], root: Path) -> tuple[Problem, ...]:
    """What reading the settings files found, every file's notes before any warning."""
    found = [
        problem
        for layer, _ in said
        if isinstance(layer, SettingsFile)
        for problem in layer.problems(_relative(root, str(layer.path)))
    ]
    return tuple(sorted(found, key=lambda problem: problem.level == WARNING))


def _scrubbed(error: ConfigError, environ: Mapping[str, str], dotenv: Mapping[str, tuple[str, str]]) -> ConfigError:
    """``error`` with the secret values of the environment and of the `.env` files masked."""
    said = {name: value for name, (value, _) in dotenv.items()}
    known = Secrets(values=scrubbed([*environment_secrets(environ), *environment_secrets(said)]))
    hint = known.scrub_values(error.hint) if error.hint else None
    return ConfigError(known.scrub_values(error.message), hint)


def _unset(environ: Mapping[str, str], said: Sequence[tuple[Layer, list[Setting]]]) -> tuple[str, ...]:
    """Inherited variables the child must not get: empty MLFLOW_* (MLflow fails on them), and X_FILE (SPEC §9)."""
    empty = {name for name, value in environ.items() if keys.is_mlflow_variable(name) and not value}
    references = {
        name
        for layer, _ in said
        if isinstance(layer, Variables) and layer.name == precedence.PROCESS_ENV.name
        for name in layer.file_references()
    }
    return tuple(sorted(empty | references))


def _assignments(overrides: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{key}={value}" for key, value in overrides.items()]
    return list(overrides)


def _merge(
    said: Sequence[tuple[Layer, Sequence[Setting]]], root: Path, environ: Mapping[str, str]
) -> tuple[dict[str, Setting], Mapping[str, tuple[Setting, ...]]]:
    """Later layers win; mappings merge key by key; an empty value says nothing."""
    standing = merging.winners(found for _, found in said)
    for key in _anchored_keys(standing):  # a few keys, rather than a test of every key
        setting = standing.get(key)
        if setting is not None and isinstance(setting.value, str):
            standing[key] = setting._replace(value=_anchored(key, setting.value, root, environ))
    command = standing.get(_TOKEN_COMMAND)
    if command is not None and isinstance(command.value, tuple) and command.value and "/" in command.value[0]:
        # A program named by a path (`bin/get-token`), not looked up on PATH: from the root, like token.file.
        program = uris.absolute(str(command.value[0]), root, environ)
        standing[_TOKEN_COMMAND] = command._replace(value=(program, *command.value[1:]))
    derived = derived_settings(standing, root)
    standing.update((setting.key, setting) for setting in derived)
    ordered = sorted(standing, key=_ORDER)
    return {".".join(key): standing[key] for key in ordered}, _History(said, derived)  # keys.dotted, inline


class _History(Mapping[str, tuple[Setting, ...]]):
    """Every layer's word on every key, highest first: worked out when first asked, which `run` never does."""

    def __init__(self, said: Sequence[tuple[Layer, Sequence[Setting]]], derived: Sequence[Setting]) -> None:
        self._said, self._derived = said, derived

    @functools.cached_property
    def _built(self) -> dict[str, tuple[Setting, ...]]:
        history: dict[Key, list[Setting]] = {}
        for setting in [*(setting for _, found in self._said for setting in found), *self._derived]:
            history.setdefault(setting.key, []).append(setting)
        return {keys.dotted(key): tuple(reversed(history[key])) for key in sorted(history, key=_ORDER)}

    def __getitem__(self, name: str) -> tuple[Setting, ...]:
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)

    def __repr__(self) -> str:
        return repr(self._built)


_TOKEN_COMMAND: Key = ("token", "command")
_ANCHORED = keys.URI_KEYS | keys.PATH_KEYS  # the keys whose values are anchored to the root
# The keys' own order (a tuple's, part by part) as one string each: NUL sorts below every character a name
# holds. Sorting 20,000 strings is several times faster than sorting as many tuples.
_ORDER = "\0".join


def _anchored_keys(standing: Mapping[Key, Setting]) -> tuple[Key, ...] | frozenset[Key]:
    """The keys anchored to the root; MLflow's own path options only where a `server` section is (read, ~1 ms)."""
    if any(key[0] == "server" for key in standing):
        return (*_ANCHORED, *server_options.path_keys())
    return _ANCHORED


def _anchored(key: Key, value: str, root: Path, environ: Mapping[str, str]) -> str:
    """A URI anchored to the root (``mlruns``, ``sqlite:///mlflow.db``), or a plain path made absolute."""
    if key in keys.URI_KEYS:
        return uris.anchor(value, root, environ)
    return uris.absolute(value, root, environ)
