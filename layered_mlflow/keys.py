"""The names of settings: key paths, the variables that spell them, and their values (SPEC §5)."""

from __future__ import annotations

import datetime
import re
from typing import Any

# A key is a path: ("mlflow_tracking_uri",), ("tags", "team"), ("env", "AWS_DEFAULT_REGION").
# Tag names may hold dots (`mlflow.runName`), so a path is a tuple, not a dotted string.
Key = tuple[str, ...]
# What a layer says for a key: a string, a list (`server.allowed_hosts`), or None ("says nothing").
Value = str | tuple[str, ...] | None

SECTIONS = ("env", "tags", "server", "token")
# The `server` section's keys: each is the `mlflow server` option of the same name (`--backend-store-uri`).
SERVER_KEYS = (
    *("backend_store_uri", "registry_store_uri", "default_artifact_root", "artifacts_destination"),
    *("serve_artifacts", "host", "port", "workers", "allowed_hosts"),
)
# `secrets` and `required` (SPEC §11) are top-level lists: an environment file's list replaces the base's.
NAME_LISTS = ("secrets", "required")
# The `token` section (SPEC §11): `command` is an argv, run without a shell.
TOKEN_KEYS = ("file", "command", "ttl")
LIST_KEYS: frozenset[Key] = frozenset(
    {("server", "allowed_hosts"), ("token", "command"), *((name,) for name in NAME_LISTS)}
)
URI_KEYS: frozenset[Key] = frozenset(
    {
        ("mlflow_tracking_uri",),
        ("mlflow_registry_uri",),
        ("server", "backend_store_uri"),
        ("server", "registry_store_uri"),
        ("server", "default_artifact_root"),
        ("server", "artifacts_destination"),
        # The variables `mlflow server` reads for the same options.
        ("mlflow_backend_store_uri",),
        ("mlflow_registry_store_uri",),
        ("mlflow_default_artifact_root",),
        ("mlflow_artifacts_destination",),
    }
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


def is_mlflow_variable(name: str) -> bool:
    """``MLFLOW_TRACKING_URI`` spells the key ``mlflow_tracking_uri``; ``MLFLOW_foo`` spells nothing."""
    return name.startswith("MLFLOW_") and len(name) > 7 and name == name.upper()


def key_of_variable(name: str, env_names: frozenset[str] | set[str]) -> Key | None:
    """The key a variable of the environment or `.env` sets, if any."""
    if is_mlflow_variable(name):
        return (name.lower(),)
    if name.startswith(TAGS_PREFIX) and len(name) > len(TAGS_PREFIX):
        return ("tags", name[len(TAGS_PREFIX) :])
    if name.startswith(SERVER_PREFIX) and len(name) > len(SERVER_PREFIX):
        return ("server", name[len(SERVER_PREFIX) :].lower())
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
        return (section, rest.lower() if section in ("server", "token") else rest)
    if not is_variable_name(text) or text.lower() in SECTIONS:  # a section takes NAME=value entries
        return None
    return (text.lower(),)


def render(value: Any) -> Value:
    """A settings-file value as the string a child process gets; lists stay lists."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(str(render(item)) for item in value)
    return str(value)


def from_text(key: Key, text: str | None) -> Value:
    """A raw string (environment, `.env`, ``--set``) for ``key``: byte for byte, lists comma-separated."""
    if not text or key not in LIST_KEYS:
        return text
    return tuple(item.strip() for item in text.split(",") if item.strip())


def is_empty(value: Value) -> bool:
    """``null`` and ``''`` mean "this layer says nothing" (SPEC §3)."""
    return value is None or value == ""
