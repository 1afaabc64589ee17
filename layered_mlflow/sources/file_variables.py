"""``X_FILE=/run/secrets/x`` supplies ``X`` from a file, as orchestrators mount secrets (SPEC §9)."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError, shown
from layered_mlflow.keys import Key
from layered_mlflow.sources import reading

SUFFIX = "_FILE"
# MLflow's own variables whose names end in _FILE: settings in their own right, never references.
# tests/test_file_variables.py compares this with the installed MLflow.
MLFLOW_OWN = frozenset({"MLFLOW_GATEWAY_RESOLVE_API_KEY_FROM_FILE"})


def supplied_key(name: str, env_names: Collection[str]) -> Key | None:
    """The key ``name`` (``X_FILE``) supplies, or None if ``name`` is an ordinary variable.

    Only MLflow variables and variables named in the `env` section qualify:
    ``SSL_CERT_FILE`` and its kind mean a path to the programs that read them.
    """
    if not name.endswith(SUFFIX) or name in MLFLOW_OWN:
        return None
    target = name.removesuffix(SUFFIX)
    if keys.is_mlflow_variable(target):
        return (target.lower(),)
    if target in env_names:
        return ("env", target)
    return None


def read_value(variable: str, path_text: str, root: Path) -> str:
    """The content of the file ``variable`` names, less one trailing newline; byte-exact otherwise.

    A relative path is read from the project root, as relative URIs are
    anchored there: the result must not depend on the working directory.
    """
    label = f"{variable}={path_text}"
    data = reading.read_bytes(root / path_text, label, reading.VALUE_LIMIT, _HINT.format(variable=variable))
    if b"\0" in data:
        raise ConfigError(
            f"{shown(label)}: the file holds a NUL byte, which no environment variable can",
            hint="store the secret as text",
        )
    # Bytes, not text: the value reaches the child exactly, whatever its encoding.
    return os.fsdecode(data.removesuffix(b"\n"))


def both_set_error(variable: str, place: str) -> ConfigError:
    """``X`` and ``X_FILE`` in one layer: ambiguous, and neither value is printed."""
    target = variable.removesuffix(SUFFIX)
    return ConfigError(
        f"both {target} and {variable} are set in {place}",
        hint=f"set one of them: {variable} names a file that holds the value of {target}",
    )


_HINT = "mount the secret at that path, or unset {variable}"
