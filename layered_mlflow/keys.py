"""The names of settings: key paths, the variables that spell them, and their values (SPEC §5)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Collection, Mapping
from typing import Any

from layered_mlflow.errors import ConfigError, did_you_mean
from layered_mlflow.mlflow_names import server_options

# A key is a path: ("mlflow_tracking_uri",), ("tags", "team"), ("env", "AWS_DEFAULT_REGION").
# Tag names may hold dots (`mlflow.runName`), so a path is a tuple, not a dotted string.
Key = tuple[str, ...]
# What a layer says for a key: a string, a list (`server.allowed_hosts`), or None ("says nothing").
Value = str | tuple[str, ...] | None

SECTIONS = ("env", "tags", "server", "token", "experiment")
RUN_CONTEXT = "MLFLOW_RUN_CONTEXT"  # where the `tags` section reaches MLflow
# The `server` section's keys are the installed `mlflow server`'s options, each of the kind MLflow's click
# option gives it (server_options.py). Written here is only what those options do not say: which texts are
# stores, anchored to the root as URIs, which a folder anchored as a path, and which take a list.
SERVER_SPECIAL = {
    "backend_store_uri": "uri",
    "read_replica_backend_store_uri": "uri",
    "registry_store_uri": "uri",
    "default_artifact_root": "uri",
    "artifacts_destination": "uri",
    "workspace_store_uri": "uri",
    "expose_prometheus": "path",  # a folder MLflow creates
    "allowed_hosts": "list",
    "cors_allowed_origins": "list",
}
SERVER_LISTS = tuple(k for k, kind in SERVER_SPECIAL.items() if kind == "list")
# `server.auth`: MLflow's basic-auth configuration (SPEC §12), not an option of `mlflow server`.
# Its keys are those of the [mlflow] section MLflow's auth config loader reads (mlflow/server/auth/config.py),
# less the admin's credentials, which are secrets: MLFLOW_AUTH_ADMIN_USERNAME / _PASSWORD.
AUTH_KEYS = (
    *("database_uri", "default_permission", "read_database_uri", "authorization_function"),
    *("grant_default_workspace_access", "workspace_cache_max_size", "workspace_cache_ttl_seconds"),
    *("auth_cache_max_size", "auth_cache_ttl_seconds"),
)
# `experiment`: what `layered-mlflow experiment` and configure() give the experiment they create.
EXPERIMENT_KEYS = ("artifact_location", "tags", "restore_if_deleted")
# `secrets` and `required` (SPEC §11) are top-level lists: an environment file's list replaces the base's.
NAME_LISTS = ("secrets", "required")
# The `token` section (SPEC §11): `command` is an argv, run without a shell.
TOKEN_KEYS = ("file", "command", "ttl")
LIST_KEYS: frozenset[Key] = frozenset(
    {
        *(("server", k) for k in SERVER_LISTS),
        ("token", "command"),
        *((name,) for name in NAME_LISTS),
    }
)
# The `server` options that name a store, and those of them that are artifact locations; `mlflow server`
# also reads the first four from a variable (`MLFLOW_BACKEND_STORE_URI`).
SERVER_STORES = tuple(k for k, kind in SERVER_SPECIAL.items() if kind == "uri")
SERVER_ARTIFACT_STORES = ("default_artifact_root", "artifacts_destination")
SERVER_VARIABLE_STORES = ("backend_store_uri", "registry_store_uri", *SERVER_ARTIFACT_STORES)
# Keys whose value is a tracking or model-registry store (a database or a server), not an artifact location.
DATABASE_KEYS: frozenset[Key] = frozenset(
    {
        ("mlflow_tracking_uri",),
        ("mlflow_registry_uri",),
        *(("server", k) for k in SERVER_STORES if k not in SERVER_ARTIFACT_STORES),
        ("mlflow_backend_store_uri",),
        ("mlflow_registry_store_uri",),
    }
)
URI_KEYS: frozenset[Key] = DATABASE_KEYS | {
    *(("server", k) for k in SERVER_ARTIFACT_STORES),
    *((f"mlflow_{k}",) for k in SERVER_ARTIFACT_STORES),
    ("server", "auth", "database_uri"),
    ("server", "auth", "read_database_uri"),
    ("experiment", "artifact_location"),
}
# Mappings inside a section: `server.auth.database_uri`, `experiment.tags.team`.
NESTED_KEYS: frozenset[Key] = frozenset({("server", "auth"), ("experiment", "tags")})
# Plain paths, anchored to the root like the URIs (`expose_prometheus: metrics`, `token.file`); so are the
# `server` options MLflow itself takes as a path (server_options.path_keys).
PATH_KEYS: frozenset[Key] = frozenset(
    {*(("server", k) for k, kind in SERVER_SPECIAL.items() if kind == "path"), ("token", "file")}
)
TAGS_PREFIX = "LAYERED_MLFLOW_TAGS__"
SERVER_PREFIX = "LAYERED_MLFLOW_SERVER__"
TOKEN_PREFIX = "LAYERED_MLFLOW_TOKEN__"  # noqa: S105 (a prefix of names, no secret)
VARIABLE_NAME = "[A-Za-z_][A-Za-z0-9_]*"  # a regular expression; the JSON Schema reuses it
_VARIABLE_NAME = re.compile(VARIABLE_NAME)


def dotted(key: Key) -> str:
    """How a key is written for people: ``tags.team``, ``mlflow_tracking_uri``."""
    return ".".join(key)


def is_variable_name(name: str) -> bool:
    return _VARIABLE_NAME.fullmatch(name) is not None


def not_a_variable_name(names: Collection[str]) -> str | None:
    """The first of ``names`` that is no variable name, if one is; thousands of names as fast as str's methods.

    An ASCII identifier is exactly a variable name: ``[A-Za-z_][A-Za-z0-9_]*``.
    """
    if all(map(str.isascii, names)) and all(map(str.isidentifier, names)):
        return None
    return next(name for name in names if not is_variable_name(name))


def is_mlflow_variable(name: str) -> bool:
    """``MLFLOW_TRACKING_URI`` spells the key ``mlflow_tracking_uri``; ``MLFLOW_foo``, ``MLFLOW_X;Y`` spell nothing.

    An inherited name that is no variable name is the inherited rest, never a key: `env` would print it.
    """
    return name.startswith("MLFLOW_") and len(name) > 7 and name == name.upper() and is_variable_name(name)


def variable_name(key: Key) -> str | None:
    """The variable a key exports as: ``MLFLOW_X`` for ``mlflow_x``, ``X`` for ``env.X``."""
    if key[0] == "env" and len(key) == 2:  # asked first: an `env` section may hold thousands
        return key[1]
    if len(key) == 1 and key[0].startswith("mlflow_"):
        return key[0].upper()
    return None


def key_of_variable(name: str, env_names: frozenset[str] | set[str]) -> Key | None:
    """The key a variable of the environment or `.env` sets, if any."""
    if is_mlflow_variable(name):
        return (name.lower(),)
    if name.startswith(TAGS_PREFIX) and len(name) > len(TAGS_PREFIX):
        return ("tags", name[len(TAGS_PREFIX) :])
    if name.startswith(SERVER_PREFIX) and len(name) > len(SERVER_PREFIX):
        return ("server", *name[len(SERVER_PREFIX) :].lower().split("__", 1))  # SERVER__AUTH__DATABASE_URI
    if name.startswith(TOKEN_PREFIX) and len(name) > len(TOKEN_PREFIX):
        return ("token", name[len(TOKEN_PREFIX) :].lower())
    if name in env_names:
        return ("env", name)
    return None


def parse_key(text: str) -> Key | None:
    """A key as people write it (``--set``, ``explain``): ``MLFLOW_X``, ``tags.team``, ``server.port``."""
    section, dot, rest = text.partition(".")
    if dot:
        if section.lower() not in SECTIONS or not rest:
            return None
        section = section.lower()
        if section == "env" and not is_variable_name(rest):
            return None
        if section in ("server", "experiment"):  # `server.auth.database_uri`, `experiment.tags.team`
            head, _, name = rest.partition(".")
            return (section, head.lower(), *([name.lower() if section == "server" else name] if name else []))
        return (section, rest.lower() if section == "token" else rest)
    if not is_variable_name(text) or text.lower() in SECTIONS:  # a section takes NAME=value entries
        return None
    return (text.lower(),)


AS_FILE = "{{from: {}, as: file}}"  # a secret as a file (SPEC §11), as the value is kept and printed


def as_file(value: Any) -> str | None:
    """``{from: VALUE_OR_REFERENCE, as: file}`` as the string kept for it (``AS_FILE``); None for another value."""
    if isinstance(value, Mapping) and value.keys() == {"from", "as"} and value["as"] == "file":
        held = _scalar(value["from"]) if not isinstance(value["from"], (Mapping, list, tuple)) else None
        return AS_FILE.format(held) if held else None
    return None


def render(value: Any) -> Value:
    """A settings-file value as the string a child process gets; lists stay lists."""
    if isinstance(value, (list, tuple)):
        return tuple(_item(item) for item in value)
    return _scalar(value)


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):  # most values: asked first
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    # A YAML date or time: its parser imported datetime to make it, so `run` need not import it to ask.
    datetime = sys.modules.get("datetime")
    if datetime is not None and isinstance(value, (datetime.date, datetime.time)):
        return str(value.isoformat())
    return str(value)


def _item(value: Any) -> str:
    """A list's item: a scalar as it would be alone, a nested list or mapping as JSON.

    JSON grows with the data; the text of a nested tuple would escape its
    quotes again at every level, doubling its size each time.
    """
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(value, ensure_ascii=False, default=_scalar)
    return str(_scalar(value))


def from_text(key: Key, text: str | None) -> Value:
    """A raw string (environment, `.env`, ``--set``) for ``key``: byte for byte, lists comma-separated."""
    if not text or key not in LIST_KEYS:
        return text
    return tuple(item.strip() for item in text.split(",") if item.strip())


def is_empty(value: object) -> bool:
    """``null`` and ``''`` mean "this layer says nothing" (SPEC §3)."""
    return value is None or value == ""


def find_key(written: str, named: Collection[str], mlflow_variables: Collection[str]) -> str:
    """The dotted key ``written`` names (``mlflow_x``, ``MLFLOW_X``, ``tags.team``, an ``env`` variable).

    ``named`` are the dotted keys some layer names; ``mlflow_variables`` MLflow's variable names.
    """
    env_names = {name.split(".", 1)[1] for name in named if name.startswith("env.")}
    spelled = [parse_key(written), key_of_variable(written, env_names)]
    candidates = [dotted(key) for key in spelled if key is not None]
    for name in candidates:
        if name in named:
            return name
    server_keys = [f"server.{k}" for k in server_options.installed()]
    for name in candidates:
        if name.upper() in mlflow_variables or name in server_keys:
            return name  # an MLflow variable, or a key of the server section, that no layer sets
    key, equals, _ = written.partition("=")
    if equals:  # `explain MLFLOW_TRACKING_PASSWORD=x`: no key holds `=`, and the value may be a secret
        raise ConfigError(
            f"{key + '=***'!r} is no key: explain takes a key, not KEY=VALUE", hint=f"layered-mlflow explain {key}"
        )
    known = [*named, *(name.lower() for name in mlflow_variables), *server_keys]
    raise ConfigError(
        f"unknown key {written!r}: no layer sets it and it is not an MLflow variable",
        hint=did_you_mean(candidates[0] if candidates else written, known, cutoff=0.7)
        or "`layered-mlflow show` lists the keys",
    )
