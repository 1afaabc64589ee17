"""The kinds of layer of SPEC §3, each returning what it says and where it said it.

Their order, names and titles are ``precedence.LAYERS``; a layer is given its name there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError, UsageError
from layered_mlflow.keys import Key, Value
from layered_mlflow.problems import Problem
from layered_mlflow.sources import file_variables
from layered_mlflow.sources import kedro_mlflow_shape as shape
from layered_mlflow.sources.cache import read_settings_file
from layered_mlflow.sources.dotenv_files import Binding


class Setting(NamedTuple):
    """What a layer says for a key: the value, the layer's name and the exact origin (a path, a variable, ``--set``).

    The one that wins a key is the key's resolved setting (``Resolved.settings``): one record a key from the
    layer to the command, which for an `env` section of 20,000 entries is the greater part of the work.
    """

    key: Key
    value: Value
    layer: str
    source: str

    @property
    def name(self) -> str:
        return keys.dotted(self.key)


class Layer(Protocol):
    @property
    def name(self) -> str: ...

    def contributions(self) -> list[Setting]: ...


class Defaults(NamedTuple):
    name: str

    def contributions(self) -> list[Setting]:
        return [Setting(("mlflow_tracking_uri",), "mlruns", self.name, "built-in default")]


class SettingsFile:
    """``settings/mlflow.yml``, ``settings/mlflow.<env>.yml`` or ``settings/mlflow.local.yml``.

    A file in kedro-mlflow's shape is translated to our keys first (SPEC §10).
    It is read once, when a layer first asks: a layer, not a record.
    """

    def __init__(self, name: str, path: Path, environ: Mapping[str, str]) -> None:
        self.name, self.path = name, path
        self.environ = environ  # what `@format`/`@jinja` see as `env`

    def contributions(self) -> list[Setting]:
        return _flatten(self._read.settings, self.name, str(self.path))

    def problems(self, shown: str) -> list[Problem]:
        """What `check` says of the file's kedro-mlflow keys (SPEC §10); ``shown`` is the file for people."""
        return shape.problems(self._read, shown)

    @functools.cached_property
    def _read(self) -> shape.Translation:
        return shape.translate(read_settings_file(self.path, self.environ), str(self.path))


class Variables(NamedTuple):
    """Variables from `.env` files or the process environment.

    Every `.env` variable reaches the child (``take_all``); of the process
    environment only those that spell a key, or that the ``env`` section names.
    ``X_FILE`` supplies ``X`` from a file instead (SPEC §9), and is itself no
    variable of the child; a relative path is read from ``root``.
    """

    name: str
    variables: Sequence[Binding]
    env_names: frozenset[str]
    take_all: bool
    root: Path

    def contributions(self) -> list[Setting]:
        references = self.file_references()
        found = []
        for variable, text, where in self.variables:
            if variable in references:
                found.append(self._from_file(variable, text, references[variable]))
                continue
            key = keys.key_of_variable(variable, self.env_names)
            if key is None and self.take_all:
                key = ("env", variable)
            if key is not None:
                found.append(Setting(key, keys.from_text(key, text), self.name, where))
        return found

    def file_references(self) -> dict[str, Key]:
        """Each ``X_FILE`` here that supplies a key, and that key; ``X`` set in this layer too is an error."""
        values = {variable: text for variable, text, _ in self.variables}  # the last binding of a name wins
        references = {}
        for variable, _, where in self.variables:
            key = file_variables.supplied_key(variable, self.env_names)
            if key is None:
                continue
            if values[variable] and values.get(variable.removesuffix(file_variables.SUFFIX)):
                # A process-environment variable is its own origin; a `.env` one names its file.
                place = "the process environment" if where == variable else where
                raise file_variables.both_set_error(variable, place)
            references[variable] = key
        return references

    def _from_file(self, variable: str, path: str | None, key: Key) -> Setting:
        value = file_variables.read_value(variable, path, self.root) if path else None
        # The origin is X_FILE itself, so that `show` says which file to look at.
        return Setting(key, keys.from_text(key, value), self.name, variable)


class CommandLine(NamedTuple):
    """``--set KEY=VALUE``, repeatable, later wins."""

    name: str
    assignments: Sequence[str]

    def contributions(self) -> list[Setting]:
        found = []
        for assignment in self.assignments:
            written, equals, text = assignment.partition("=")
            key = keys.parse_key(written.strip())
            if not equals or key is None:
                raise malformed_assignment(assignment)
            found.append(Setting(key, keys.from_text(key, text), self.name, "--set"))
        return found


def malformed_assignment(assignment: str) -> UsageError:
    """A ``--set`` that is not KEY=VALUE. Without ``=`` it may be a value, so only a sure key is echoed."""
    written, equals, _ = assignment.partition("=")
    if equals:
        return UsageError(
            f"--set {written!r}: expected KEY=VALUE with KEY like mlflow_tracking_uri, "
            "tags.NAME, env.VARIABLE or server.NAME",
            hint="for example --set tags.team=vision",
        )
    found = re.match(r"[A-Za-z0-9_.]+", assignment)
    name = found.group() if found else ""
    if name.upper().startswith("MLFLOW_") or ("." in name and keys.parse_key(name) is not None):
        return UsageError(f"--set {name}: expected KEY=VALUE, one argument", hint=f"write --set {name}=VALUE")
    return UsageError(
        "--set: an argument without '=' (not shown: it may be a value)",
        hint="write --set KEY=VALUE as one argument, for example --set tags.team=vision",
    )


def _refuse_interpolated_uris(settings: Iterable[Setting]) -> None:
    """A settings file's URI holding ``${…}`` (OmegaConf's syntax, common in kedro-mlflow files) is an error.

    Nothing evaluates it there (Dynaconf evaluates ``@format``, not ``${…}``), and
    anchored to the root it would silently become a folder named ``${oc.env:…}``.
    """
    for setting in settings:
        value, key = setting.value, setting.key
        if key in keys.URI_KEYS and isinstance(value, str) and "${" in value:
            variable = _variable_of(key)
            raise ConfigError(
                f"{setting.source}: `{keys.dotted(key)}` holds a ${{…}} interpolation, "
                "which settings files do not evaluate",
                hint="write the URI itself"
                + (f"; {variable} in the environment wins over every file anyway" if variable else ""),
            )


def _variable_of(key: Key) -> str | None:
    """The process-environment variable that spells ``key`` (SPEC §5), if one does (`experiment` has none)."""
    if key[0] == "server":  # `server.auth.database_uri` is LAYERED_MLFLOW_SERVER__AUTH__DATABASE_URI
        return keys.SERVER_PREFIX + "__".join(name.upper() for name in key[1:])
    return keys.variable_name(key)


def variables_of(environ: Mapping[str, str]) -> list[Binding]:
    """The process environment as (name, value, where) triples: each variable is its own origin."""
    return [(name, value, name) for name, value in environ.items()]


def _flatten(data: Mapping[str, Any], layer: str, source: str) -> list[Setting]:
    found: list[Setting] = []
    may_hold_uris: list[Setting] = []  # not `env` and `tags`, whose thousands of entries hold no URI key
    for name, value in data.items():
        if name in keys.SECTIONS:
            section = _section(name, value, layer, source)
            found.extend(section)
            if name not in _FREE_NAMES:
                may_hold_uris.extend(section)
        elif name in keys.NAME_LISTS:
            found.append(Setting((name,), _names(value, name, source), layer, source))
        elif name.startswith("mlflow_"):
            value = keys.as_file(value) or value  # {from: …, as: file}: a secret as a file
            _require_scalar(value, (name,), source, "a single value (it is an MLflow variable)")
            found.append(Setting((name,), keys.render(value), layer, source))
            may_hold_uris.append(found[-1])
        elif isinstance(value, Mapping):
            found.extend(_nested((name,), value, layer, source))
        else:  # an unknown key: kept, so that `check` can name it
            found.append(Setting((name,), keys.render(value), layer, source))
    _refuse_interpolated_uris(may_hold_uris)  # once the whole file is read: its other errors come first
    return found


def _section(section: str, value: Any, layer: str, source: str) -> list[Setting]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{source}: `{section}` must be a mapping of names to values, not {_kind(value)}",
            hint=f"write `{section}:` followed by indented `NAME: value` lines",
        )
    if section == "server" and len({name.lower() for name in value}) < len(value):
        raise ConfigError(f"{source}: `server` names a key twice (its keys ignore case)", hint="keep one of them")
    lower = section in _LOWER_CASED
    if all(map(_is_str, value.values())) and (section != "env" or keys.not_a_variable_name(value) is None):
        # Entries that are all strings, under good names, are taken as they are in one comprehension: for
        # 20,000 `env` entries, a sixth of resolve(). Any other section is read entry by entry, below, where
        # the first problem in the file's order is the one reported.
        names = map(str.lower, value) if lower else value
        return [
            _setting(((section, name), item, layer, source)) for name, item in zip(names, value.values(), strict=True)
        ]
    found: list[Setting] = []
    for name, item in value.items():
        key = (section, name.lower() if lower else name)
        if section == "env" and not keys.is_variable_name(name):
            raise _not_a_variable(name, source)
        if type(item) is not str:
            if section == "env" and keys.as_file(item):  # {from: …, as: file}: a secret as a file
                item = keys.as_file(item)
            elif key in keys.NESTED_KEYS and isinstance(item, Mapping):
                found.extend(_nested(key, item, layer, source))
                continue
            if key not in keys.LIST_KEYS:
                _require_scalar(item, key, source, "a single value")
            elif isinstance(item, Mapping):
                raise ConfigError(f"{source}: `{keys.dotted(key)}` must be a list, not a mapping")
            item = keys.render(item)
        found.append(_setting((key, item, layer, source)))
    return found


def _not_a_variable(name: str, source: str) -> ConfigError:
    return ConfigError(
        f"{source}: `env` entry {name!r} is not a variable name",
        hint="use letters, digits and underscores, not starting with a digit",
    )


_LOWER_CASED = ("server", "experiment", "token")  # their keys ignore case; env names and tag names do not
_FREE_NAMES = ("env", "tags")  # sections whose entries take any name (a variable's, a tag's)
_is_str = str.__instancecheck__  # isinstance(x, str), for map(): no Python frame a value
# Setting(key, value, layer, source) from one tuple: what Setting(…) does in a Python function around it,
# which costs as much again; thousands of `env` entries happen.
_setting = functools.partial(tuple.__new__, Setting)


def _names(value: Any, name: str, source: str) -> Value:
    """A list of key or variable names (``secrets: [WANDB_ENTITY, env.FOO]``); ``null`` says nothing."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(
            f"{source}: `{name}` must be a list of key or variable names, not {_kind(value)}"
            if not isinstance(value, list)
            else f"{source}: `{name}` must hold only names (strings)",
            hint=f"for example `{name}: [WANDB_ENTITY, env.MY_VARIABLE]`",
        )
    return tuple(value)


def _nested(prefix: Key, value: Mapping[str, Any], layer: str, source: str) -> Iterable[Setting]:
    for name, item in value.items():
        if isinstance(item, Mapping):
            yield from _nested((*prefix, name), item, layer, source)
        else:
            yield Setting((*prefix, name), keys.render(item), layer, source)


def _require_scalar(value: Any, key: Key, source: str, needs: str) -> None:
    if isinstance(value, (Mapping, list, tuple)):
        raise ConfigError(
            f"{source}: `{keys.dotted(key)}` is {_kind(value)}, but it needs {needs}",
            hint="write it as a string, number or boolean",
        )


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a single value ({type(value).__name__})"
