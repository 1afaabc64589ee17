"""The `required` list (SPEC §11): keys that must have a value before anything starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError
from layered_mlflow.keys import variable_name
from layered_mlflow.resolution.exports import child_environment
from layered_mlflow.sources.file_variables import SUFFIX

if TYPE_CHECKING:
    from layered_mlflow.resolution.resolve import Resolved

KEY = "required"


def missing(resolved: Resolved, environ: Mapping[str, str]) -> list[str]:
    """The names of the `required` list that have no value for the command, as the list writes them.

    A name is a key (``env.AWS_SECRET_ACCESS_KEY``, ``mlflow_tracking_password``,
    ``tags.team``) or a variable (``MLFLOW_TRACKING_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``):
    a variable counts when the command gets it, inherited or resolved.
    """
    listed = resolved.settings.get(KEY)
    names = listed.value if listed is not None and isinstance(listed.value, tuple) else ()
    if not names:
        return []
    environment = child_environment(environ, resolved)
    return [name for name in names if not _has_value(name, resolved, environment)]


def refuse_missing(resolved: Resolved, environ: Mapping[str, str]) -> Resolved:
    """``resolved``, or exit 2 before anything starts, naming every missing key and the ways to give it a value."""
    absent = missing(resolved, environ)
    if absent:
        raise ConfigError(
            f"required {'key has' if len(absent) == 1 else 'keys have'} no value: "
            + "; ".join(f"{name} ({ways(name)})" for name in absent),
            hint="`layered-mlflow check` lists them; `required` in the settings names them",
        )
    return resolved


def ways(name: str) -> str:
    """How ``name`` can be given a value: a settings file's key, a variable, a file, a reference."""
    key = _key(name)
    variable = variable_name(key) if key else None
    written = keys.dotted(key) if key else name
    if variable is None:
        return f"set {written} in a settings file or with --set"
    return (
        f"set {written} in a settings file, {variable} in the environment or .env, "
        f"{variable}{SUFFIX} to a file that holds it, or a reference such as aws-sm:NAME"
    )


def _has_value(name: str, resolved: Resolved, environment: Mapping[str, str]) -> bool:
    key = _key(name)
    if key is None:
        return False
    variable = variable_name(key)
    if variable is not None:
        return bool(environment.get(variable))
    setting = resolved.settings.get(keys.dotted(key))
    return setting is not None and not keys.is_empty(setting.value)


def _key(name: str) -> keys.Key | None:
    """``MLFLOW_X`` and ``mlflow_x`` name a key; any other bare variable name, the `env` entry of that name."""
    if "." in name or name.lower().startswith("mlflow_"):
        return keys.parse_key(name)
    return ("env", name) if keys.is_variable_name(name) else None
