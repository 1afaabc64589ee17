"""`server.auth` as MLflow's basic-auth configuration, in a file only the server process has (SPEC §12).

MLflow reads the configuration from the path in ``MLFLOW_AUTH_CONFIG_PATH``
(``configparser.read``, in the server process and again in each worker it
starts). An anonymous in-memory file (``memfd``) held open by `server`'s keeper
(layered_mlflow/keeper.py) is reachable as ``/proc/<keeper>/fd/<n>`` for as long
as the server runs, by it and its workers: nothing is written to the project or
to /tmp, and nothing is left when the server stops.
"""

from __future__ import annotations

import os

from layered_mlflow import keys, server_settings, uris
from layered_mlflow.errors import ConfigError
from layered_mlflow.resolve import Resolved

APP = "basic-auth"
VARIABLE = "MLFLOW_AUTH_CONFIG_PATH"
# MLflow's own defaults (mlflow/server/auth/basic_auth.ini), the database anchored to the root.
_DEFAULTS = {"default_permission": "READ", "database_uri": "sqlite:///basic_auth.db"}


def applies(resolved: Resolved) -> bool:
    return server_settings.text_of(resolved, "app_name") == APP


def generated(resolved: Resolved) -> bool:
    """Whether the configuration is ours to write: not when MLFLOW_AUTH_CONFIG_PATH names a file of one's own."""
    own = resolved.settings.get("mlflow_auth_config_path")
    if own is None:
        return True
    written = [name for name in resolved.settings if name.startswith("server.auth.")]
    if written:
        raise ConfigError(
            f"`{written[0]}` and MLFLOW_AUTH_CONFIG_PATH ({resolved.relative(own.source)}) both configure basic-auth",
            hint="keep the server.auth section, or the file, not both",
        )
    return False


def config_text(resolved: Resolved) -> str:
    """The ``[mlflow]`` section MLflow's loader reads; the admin's credentials stay in their variables."""
    values = {**_DEFAULTS, "database_uri": uris.anchor(_DEFAULTS["database_uri"], resolved.root, {})}
    for key in keys.AUTH_KEYS:
        text = server_settings.text_of(resolved, f"auth.{key}")
        if text is not None:
            values[key] = text
    lines = ["[mlflow]"]
    for key, text in values.items():
        if "\n" in text or "\r" in text:
            raise ConfigError(f"`server.auth.{key}` holds a line break, which MLflow's auth config cannot carry")
        lines.append(f"{key} = {text.replace('%', '%%')}")  # configparser reads %% as %
    return "\n".join(lines) + "\n"


def database_uri(resolved: Resolved) -> str:
    """Where the users and permissions are kept."""
    written = server_settings.text_of(resolved, "auth.database_uri")
    return written if written is not None else uris.anchor(_DEFAULTS["database_uri"], resolved.root, {})


def hand_over(text: str) -> int:
    """A descriptor of an anonymous file holding ``text``; ``path`` names it in a process that has it."""
    if not hasattr(os, "memfd_create"):
        raise ConfigError(
            "`server.app_name: basic-auth` needs Linux here: the auth config is handed over in memory",
            hint=f"elsewhere, start `mlflow server --app-name basic-auth` with {VARIABLE} of your own",
        )
    descriptor = os.memfd_create("mlflow-auth-config", os.MFD_CLOEXEC)  # the server reads it by path
    with open(descriptor, "wb", closefd=False) as stream:
        stream.write(text.encode())
    return descriptor


def path(descriptor: int) -> str:
    """The name under which other processes of the user (the server's workers) read this process's ``descriptor``."""
    return f"/proc/{os.getpid()}/fd/{descriptor}"
