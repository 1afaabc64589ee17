"""kedro-mlflow's ``mlflow.yml`` read as layered-mlflow settings (SPEC §10).

kedro-mlflow nests its keys (``server.mlflow_tracking_uri``,
``tracking.experiment.name``, ``ui.port``). A file's kedro-mlflow sections are
translated to our keys before the file is flattened, so no other module knows
that shape. Keys without a counterpart are accepted and returned as unapplied,
for ``check`` to list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from layered_mlflow.errors import ConfigError, did_you_mean
from layered_mlflow.keys import SERVER_SPECIAL, Key, dotted
from layered_mlflow.mlflow_names import server_options
from layered_mlflow.problems import NOTE, WARNING, Problem

# kedro-mlflow's key -> ours.
MAPPING: Mapping[Key, Key] = {
    ("server", "mlflow_tracking_uri"): ("mlflow_tracking_uri",),
    ("server", "mlflow_registry_uri"): ("mlflow_registry_uri",),
    ("tracking", "experiment", "name"): ("mlflow_experiment_name",),
    ("tracking", "run", "id"): ("mlflow_run_id",),  # each node its own process, all in one run
    ("tracking", "run", "name"): ("tags", "mlflow.runName"),
    ("ui", "host"): ("server", "host"),
    ("ui", "port"): ("server", "port"),
    ("tracking", "experiment", "create_experiment_kwargs", "artifact_location"): ("experiment", "artifact_location"),
    ("tracking", "experiment", "restore_if_deleted"): ("experiment", "restore_if_deleted"),
}
# kedro-mlflow's mappings whose every entry is ours under another prefix.
PREFIXES: Mapping[Key, Key] = {("tracking", "experiment", "create_experiment_kwargs", "tags"): ("experiment", "tags")}
# kedro-mlflow's schema (kedro_mlflow/config/kedro_mlflow_config.py, every model `extra = "forbid"`):
# its leaves, and the mappings that take any key. Anything else there kedro-mlflow refuses.
_SCHEMA: frozenset[Key] = frozenset(
    {
        *(("server", name) for name in ("mlflow_tracking_uri", "mlflow_registry_uri", "credentials")),
        *(("server", "request_header_provider", name) for name in ("type", "pass_context", "init_kwargs")),
        *(("tracking", "disable_tracking", name) for name in ("pipelines", "disable_autologging")),
        *(("tracking", "experiment", name) for name in ("name", "restore_if_deleted")),
        *(("tracking", "experiment", "create_experiment_kwargs", name) for name in ("artifact_location", "tags")),
        *(("tracking", "run", name) for name in ("id", "name", "nested")),
        *(("tracking", "params", "dict_params", name) for name in ("flatten", "recursive", "sep")),
        ("tracking", "params", "long_params_strategy"),
        ("ui", "port"),
        ("ui", "host"),
    }
)
_OPEN: frozenset[Key] = frozenset(
    {
        ("server", "request_header_provider", "init_kwargs"),
        ("tracking", "experiment", "create_experiment_kwargs", "tags"),
    }
)
# The mappings of the schema, entered to reach its leaves.
_INTERIOR: frozenset[Key] = frozenset(key[:n] for key in _SCHEMA | set(MAPPING) for n in range(1, len(key)))
# Our `server` section shares none of these names, so one of them marks kedro-mlflow's `server`.
_SERVER_KEYS = frozenset({"mlflow_tracking_uri", "mlflow_registry_uri", "credentials", "request_header_provider"})
# `{{ python_package }}`: a placeholder that kedro (or cookiecutter) fills in when it creates a
# project. Go templates (`{{.ID}}`) do not match: they may be legitimate `env` values.
PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][\w.]*\s*\}\}")


def _our_server_keys() -> frozenset[str]:
    """Our own `server` keys, which may sit beside kedro-mlflow's; any other key there is outside its schema."""
    return frozenset({*server_options.installed(), *SERVER_SPECIAL, "auth"})


class Translation(NamedTuple):
    settings: dict[str, Any]  # in layered-mlflow's shape
    unapplied: tuple[str, ...]  # kedro-mlflow keys, dotted, with a value layered-mlflow does not apply
    unknown: tuple[str, ...] = ()  # keys, dotted, in kedro-mlflow's sections but outside its schema


def translate(data: Mapping[str, Any], source: str) -> Translation:
    """``data`` with its kedro-mlflow sections (``server``, ``tracking``, ``ui``) turned into our keys."""
    sections = [name for name in ("server", "tracking", "ui") if _is_kedro_section(name, data.get(name))]
    settings = {name: value for name, value in data.items() if name not in sections}
    unapplied, unknown = [], []
    for section in sections:
        body = data[section]
        if section == "server":  # our own `server` keys (port, workers, …) may sit beside kedro-mlflow's
            # None of kedro-mlflow's is ours: MLflow's options are read (some 20 ms) only for another name.
            own = _our_server_keys() if not _SERVER_KEYS.issuperset(body) else frozenset()
            ours = {name: value for name, value in body.items() if name in own}
            if ours:
                settings["server"] = ours
            body = {name: value for name, value in body.items() if name not in own}
        for path, value in _entries((section,), body):
            prefix = next((p for p in PREFIXES if path[: len(p)] == p and len(path) > len(p)), None)
            if path in MAPPING:
                _put(settings, MAPPING[path], value, path, source)
            elif prefix is not None:
                _put(settings, (*PREFIXES[prefix], *path[len(prefix) :]), value, path, source)
            elif path not in _SCHEMA and not _is_open(path):
                unknown.append(dotted(path))  # whatever its value: kedro-mlflow refuses the key itself
            elif value not in (None, "", []):  # an empty value says nothing: nothing is lost
                unapplied.append(dotted(path))
    return Translation(settings, tuple(unapplied), tuple(unknown))


def problems(translation: Translation, shown: str) -> list[Problem]:
    """What `check` says of a file's kedro-mlflow keys: accepted and not applied, or ones kedro-mlflow refuses."""
    return [
        *(
            Problem(NOTE, f"{name} ({shown}) is a kedro-mlflow key; layered-mlflow does not apply it")
            for name in translation.unapplied
        ),
        *(
            Problem(WARNING, f"{name} ({shown}) is not a kedro-mlflow key; kedro-mlflow refuses it", unknown_hint(name))
            for name in translation.unknown
        ),
    ]


def unknown_hint(name: str) -> str:
    """The keys kedro-mlflow takes beside the unknown ``name`` (dotted), the closest first if one is close."""
    *parent, written = name.split(".")
    if parent == ["server"] and (elsewhere := misplaced_hint(written)) is not None:
        return elsewhere
    siblings = sorted({key[len(parent)] for key in _SCHEMA if list(key[: len(parent)]) == parent})
    where = f"under {'.'.join(parent)}" if parent else "at the top"
    known = f"kedro-mlflow's keys {where}: {', '.join(siblings)}"
    close = did_you_mean(written, siblings)
    return f"{close} {known}" if close else known


def _is_kedro_section(name: str, value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    return name != "server" or not _SERVER_KEYS.isdisjoint(value)


def _is_open(path: Key) -> bool:
    return any(path[: len(open_)] == open_ for open_ in _OPEN)


def _entries(prefix: Key, value: Mapping[str, Any]) -> Iterator[tuple[Key, Any]]:
    """Each key of kedro-mlflow's sections with its value: mappings of the schema are entered, others are not."""
    for name, item in value.items():
        path = (*prefix, name)
        inner = _is_open(path) or any(path[: len(p)] == p for p in PREFIXES) or path in _INTERIOR
        if isinstance(item, Mapping) and inner:
            yield from _entries(path, item)
        else:
            yield path, item


def _put(settings: dict[str, Any], ours: Key, value: Any, written: Key, source: str) -> None:
    """Set ``ours`` to ``value``; null falls through, as in kedro-mlflow, and so never conflicts."""
    if isinstance(value, (Mapping, list)):
        kind = "a list" if isinstance(value, list) else "a mapping"
        raise ConfigError(
            f"{source}: `{dotted(written)}` is {kind}, but it needs a single value",
            hint="write it as a string, number or boolean",
        )
    *parents, name = ours
    target = settings
    for parent in parents:
        child = {} if target.get(parent) is None else target[parent]
        if not isinstance(child, Mapping):
            return  # a malformed section: flattening reports it
        target[parent] = dict(child)  # a copy: the caller's data stays as read
        target = target[parent]
    if value is not None and target.get(name) is not None:
        raise ConfigError(
            f"{source}: `{dotted(written)}` (kedro-mlflow's) and `{dotted(ours)}` say the same thing",
            hint="keep one of them",
        )
    if value is not None or name not in target:
        target[name] = value


def placeholder_error(path: Path, text: str, placeholder: str, line: int | None = None) -> ConfigError:
    """An unfilled ``{{ name }}``, on ``line`` (1-based) or else the first line that holds it."""
    if line is None:
        lines = [n for n, written in enumerate(text.splitlines(), 1) if placeholder in _code(written)]
        line = lines[0] if lines else None
    where = f"{path}:{line}" if line else str(path)
    return ConfigError(
        f"{where}: {placeholder} is a template placeholder that was never filled in",
        hint="kedro fills it in when it creates a project; write the value itself, for example `name: my_project`",
    )


def placeholder_on(line: str) -> str | None:
    """The unfilled placeholder on a line of YAML, outside its comment."""
    found = PLACEHOLDER.search(_code(line))
    return found.group() if found else None


def _code(line: str) -> str:
    """A YAML line without its comment (good enough to tell a placeholder from a remark about one)."""
    return "" if line.lstrip().startswith("#") else line.split(" #", 1)[0]


# Variables written in kedro-mlflow's `server` mapping that kedro-mlflow keeps elsewhere.
_ELSEWHERE = {"mlflow_experiment_name": "tracking.experiment.name"}


def misplaced_hint(server_key: str) -> str | None:
    """Where kedro-mlflow keeps a variable found in a `server` mapping, if it keeps it somewhere else."""
    elsewhere = _ELSEWHERE.get(server_key)
    if elsewhere is None:
        return None
    return f"kedro-mlflow keeps it under {elsewhere}; or write {server_key} at the top"
