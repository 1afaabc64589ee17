"""Building the ``mlflow server`` command of ``server`` and ``ui`` from the ``server`` section (SPEC §5, §7)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError, did_you_mean
from layered_mlflow.mlflow_names import server_options
from layered_mlflow.mlflow_names import variables as mlflow_vars
from layered_mlflow.resolution import uris
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import mask_text, secrets_of
from layered_mlflow.server import auth_config
from layered_mlflow.server import settings as server_settings
from layered_mlflow.server.ports import option_value

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "5000"
DEFAULT_BACKEND = "sqlite:///mlflow.db"
_ANY_ADDRESS = ("0.0.0.0", "::")  # noqa: S104 (recognised, not bound to)


class ServerCommand(NamedTuple):
    """What ``server``/``ui`` exec: the argv, in the project root, with ``resolved``'s variables."""

    argv: tuple[str, ...]
    resolved: Resolved  # its variables include what the server itself needs
    backend: str
    url: str
    stores: Mapping[str, str]  # how each store the server opens was given (`server.backend_store_uri`): its URI
    auth: str | None = None  # MLflow's auth configuration, handed over when the server starts

    @property
    def cwd(self) -> Path:
        # MLflow's own relative defaults (./mlartifacts, ./mlruns) must land in the root, as ours do.
        return self.resolved.root


def server_command(resolved: Resolved, mlflow_args: Sequence[str] = (), *, ui: bool = False) -> ServerCommand:
    """``mlflow server`` for ``resolved``; ``ui`` serves the local tracking store with one worker."""
    options = _options(resolved)
    problems = [*server_settings.invalid(resolved), *server_settings.refused(resolved, server_settings.apps())]
    if problems:
        raise ConfigError("; ".join(problems), hint="check lists every problem: layered-mlflow check")
    given = {key: _value(resolved, key) for key in options}
    artifacts_only = server_settings.is_on(resolved, "artifacts_only")
    # An artifacts-only server must not be given a backend store, not even our default.
    backend = _tracking_store(resolved) if ui else given["backend_store_uri"] or _default_backend(resolved)
    if not (artifacts_only and given["backend_store_uri"] is None):
        given["backend_store_uri"] = backend
    given["host"] = host = given["host"] or DEFAULT_HOST
    given["port"] = port = _integer(given["port"]) or DEFAULT_PORT
    given["workers"] = "1" if ui else _integer(given["workers"])
    for key in keys.SERVER_LISTS:
        if key in given:
            given[key] = _joined(given[key])
    argv = [sys.executable, "-m", "mlflow", "server"]
    # A value holding a secret (a database password) would be on the command line, which every user of the
    # machine reads in /proc/<pid>/cmdline and `ps`: it goes in the variable `mlflow server` reads it from.
    scrub, hidden = secrets_of(resolved).scrub, {}
    for key, text in given.items():
        if text is not None and scrub(text) != text:
            hidden[_variable(key)] = text
        else:
            argv += _option(options[key], text)
    argv += mlflow_args  # last, so that an option given here wins over the settings
    stores = {f"`server.{key}`": given[key] or "" for key in keys.SERVER_STORES}
    for key in keys.SERVER_STORES:
        flag = _flag(key)
        passed = option_value(mlflow_args, [flag])
        if passed is not None:
            del stores[f"`server.{key}`"]
            stores[f"{flag} (after --)"] = passed
    generated = auth_config.applies(resolved) and auth_config.generated(resolved)
    if generated:
        stores["`server.auth.database_uri`"] = auth_config.database_uri(resolved)
    return ServerCommand(
        tuple(argv),
        _with_server_variables(resolved, backend, hidden),
        backend,
        _url(host, port),
        {given: uri for given, uri in stores.items() if uri},
        auth_config.config_text(resolved) if generated else None,
    )


def _options(resolved: Resolved) -> Mapping[str, server_options.Option]:
    """The installed `mlflow server`'s options, refusing a key of the section that is none of them.

    Where its source was not read, or does not define a key, the click command itself is asked,
    imported for it (seconds): an option of MLflow's is never refused for being unknown here.
    """
    options = server_options.installed() or server_options.from_click()
    for name, setting in resolved.settings.items():
        if setting.key[:2] == ("server", "auth") and len(setting.key) == 3 and setting.key[2] not in keys.AUTH_KEYS:
            raise ConfigError(
                f"unknown key `{name}` (from {resolved.relative(setting.source)}); "
                f"`server.auth` knows {', '.join(keys.AUTH_KEYS)}",
                hint="the admin's credentials are MLFLOW_AUTH_ADMIN_USERNAME and MLFLOW_AUTH_ADMIN_PASSWORD",
            )
        if setting.key[0] != "server" or len(setting.key) != 2:
            continue
        key = setting.key[1]
        # A variable in the wrong place (`server.mlflow_*`) is no option: `check` warns about it.
        if key in options or key.startswith("mlflow_"):
            continue
        options = server_options.from_click()
        if key in options:
            continue
        raise ConfigError(
            f"unknown key `{name}` (from {resolved.relative(setting.source)}); "
            f"the server section knows {', '.join(options)}",
            hint=did_you_mean(key, options, spell="server.{}".format)
            or f"pass other `mlflow server` options after --: layered-mlflow server -- --{key.replace('_', '-')} …",
        )
    return options


def _value(resolved: Resolved, key: str) -> str | None:
    """The section's value; for a store `mlflow server` also reads from a variable, an injected one stands."""
    text = server_settings.text_of(resolved, key)
    if text is None and key in keys.SERVER_VARIABLE_STORES:
        setting = resolved.settings.get(f"mlflow_{key}")
        text = None if setting is None or not isinstance(setting.value, str) else setting.value
    return text


def _joined(text: str | None) -> str | None:
    """A YAML list, or a comma-separated string (from a variable, or a file that wrote one)."""
    items = (text or "").split(",")
    return ",".join(item.strip() for item in items if item.strip()) or None


def _integer(text: str | None) -> str | None:
    return None if text is None else str(int(text.strip()))  # validated by server_settings.invalid


def _tracking_store(resolved: Resolved) -> str:
    """``ui``'s store: the tracking URI, which must be local."""
    uri = resolved.variables.get("MLFLOW_TRACKING_URI", "")
    if not _is_local(uri):
        raise ConfigError(
            f"`ui` serves a local tracking store, but the tracking URI is {mask_text(uri)!r}",
            hint="open that URI in a browser, or start a server of its own with `layered-mlflow server`",
        )
    return uri


def _default_backend(resolved: Resolved) -> str:
    """The tracking store when it is local, so that the server shows the runs; else a database in the root."""
    uri = resolved.variables.get("MLFLOW_TRACKING_URI", "")
    return uri if _is_local(uri) else uris.anchor(DEFAULT_BACKEND, resolved.root, {})


def _is_local(uri: str) -> bool:
    return uris.is_file_store(uri) or uri.startswith("sqlite:")


def _with_server_variables(resolved: Resolved, backend: str, hidden: Mapping[str, str]) -> Resolved:
    """``resolved`` with the ``hidden`` options' variables, and MLFLOW_ALLOW_FILE_STORE for a file backend
    unless it is set (SPEC §6)."""
    variables = {**resolved.variables, **hidden}
    if uris.is_file_store(backend) and "mlflow_allow_file_store" not in resolved.settings:
        variables["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return resolved._replace(variables=MappingProxyType(variables))


def _flag(key: str) -> str:
    """The option of `mlflow server` that ``server.key`` becomes: ``--backend-store-uri``."""
    return "--" + key.replace("_", "-")


def _variable(key: str) -> str:
    """The variable the installed `mlflow server` reads ``--key`` from when its command line lacks it."""
    from mlflow.cli import server as mlflow_server

    option = next((param for param in mlflow_server.params if param.name == key), None)
    envvar = None if option is None else option.envvar
    names = [envvar] if isinstance(envvar, str) else list(envvar or ())
    if not names:
        raise ConfigError(
            f"`server.{key}` holds a secret, and `mlflow server` reads {_flag(key)} from no variable: "
            "on its command line every user of this machine could read it",
            hint="keep the secret out of this option (a database password can come from ~/.pgpass or PGPASSWORD)",
        )
    return names[0]


def _option(option: server_options.Option, value: str | None) -> list[str]:
    """``--key value``, or a flag: ``--key`` when on, and for a switch its ``--no-…`` form when off."""
    if value is None:
        return []
    if option.kind in ("flag", "switch"):
        on = mlflow_vars.boolean(value.strip())
        return [option.flag] if on else [option.off] if option.off else []
    return [option.flag, value]


def _url(host: str, port: str) -> str:
    """Where a browser on this machine reaches the server."""
    if host in _ANY_ADDRESS:
        host = DEFAULT_HOST
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def describe(command: ServerCommand, ui: bool) -> str:
    """One line for people: what is served, and where to point a browser."""
    if ui:
        return f"serving {mask_text(command.backend)}: open {command.url} in a browser (Ctrl-C stops it)"
    return f"serving {mask_text(command.backend)} at {command.url}"


def default(resolved: Resolved, key: str) -> str | None:
    """What `server` uses for ``server.<key>`` when no layer sets it; None where `mlflow server`'s own applies."""
    if key == "backend_store_uri":
        return _default_backend(resolved)
    return {"host": DEFAULT_HOST, "port": DEFAULT_PORT}.get(key)
