"""Building the ``mlflow server`` command of ``server`` and ``ui`` from the ``server`` section (SPEC §5, §7)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from layered_mlflow import keys, mlflow_vars, server_settings, uris
from layered_mlflow.errors import ConfigError, did_you_mean
from layered_mlflow.masking import mask_text
from layered_mlflow.resolve import Resolved

# Each key of the `server` section and the `mlflow server` option it becomes.
OPTIONS = {key: "--" + key.replace("_", "-") for key in keys.SERVER_KEYS}
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "5000"
DEFAULT_BACKEND = "sqlite:///mlflow.db"
_ANY_ADDRESS = ("0.0.0.0", "::")  # noqa: S104 (recognised, not bound to)


@dataclass(frozen=True)
class ServerCommand:
    """What ``server``/``ui`` exec: the argv, in the project root, with ``resolved``'s variables."""

    argv: tuple[str, ...]
    resolved: Resolved  # its variables include what the server itself needs
    backend: str
    url: str

    @property
    def cwd(self) -> Path:
        # MLflow's own relative defaults (./mlartifacts, ./mlruns) must land in the root, as ours do.
        return self.resolved.root


def server_command(resolved: Resolved, mlflow_args: Sequence[str] = (), *, ui: bool = False) -> ServerCommand:
    """``mlflow server`` for ``resolved``; ``ui`` serves the local tracking store with one worker."""
    _refuse_unknown_keys(resolved)
    problems = server_settings.invalid(resolved)
    if problems:
        raise ConfigError("; ".join(problems), hint="check lists every problem: layered-mlflow check")
    backend = _tracking_store(resolved) if ui else _value(resolved, "backend_store_uri") or _default_backend(resolved)
    host = _value(resolved, "host") or DEFAULT_HOST
    port = _integer(resolved, "port") or DEFAULT_PORT
    workers = "1" if ui else _integer(resolved, "workers")
    argv = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend]
    for key in keys.SERVER_STORES[1:]:  # all but the backend, given above
        argv += _option(key, _value(resolved, key))
    serve = _boolean(resolved, "serve_artifacts")
    if serve is not None:
        argv.append("--serve-artifacts" if serve else "--no-serve-artifacts")
    argv += ["--host", host, "--port", port, *_option("workers", workers)]
    argv += _option("allowed_hosts", _allowed_hosts(resolved))
    argv += mlflow_args  # last, so that an option given here wins over the settings
    return ServerCommand(tuple(argv), _with_server_variables(resolved, backend), backend, _url(host, port))


def _refuse_unknown_keys(resolved: Resolved) -> None:
    for name, setting in resolved.settings.items():
        if setting.key[0] != "server" or len(setting.key) != 2:
            continue
        key = setting.key[1]
        # A variable in the wrong place (`server.mlflow_*`) is no option: `check` warns about it.
        if key in OPTIONS or key.startswith("mlflow_"):
            continue
        raise ConfigError(
            f"unknown key `{name}` (from {resolved.relative(setting.source)}); "
            f"the server section knows {', '.join(OPTIONS)}",
            hint=did_you_mean(key, OPTIONS, spell="server.{}".format)
            or f"pass other `mlflow server` options after --: layered-mlflow server -- --{key.replace('_', '-')} …",
        )


def _value(resolved: Resolved, key: str) -> str | None:
    """The section's value; for a store `mlflow server` also reads from a variable, an injected one stands."""
    text = server_settings.text_of(resolved, key)
    if text is None and key in keys.SERVER_STORES:
        setting = resolved.settings.get(f"mlflow_{key}")
        text = None if setting is None or not isinstance(setting.value, str) else setting.value
    return text


def _allowed_hosts(resolved: Resolved) -> str | None:
    """A YAML list, or a comma-separated string (from a variable, or a file that wrote one)."""
    hosts = (_value(resolved, "allowed_hosts") or "").split(",")
    return ",".join(host.strip() for host in hosts if host.strip()) or None


def _integer(resolved: Resolved, key: str) -> str | None:
    text = _value(resolved, key)
    return None if text is None else str(int(text.strip()))  # validated by server_settings.invalid


def _boolean(resolved: Resolved, key: str) -> bool | None:
    text = _value(resolved, key)
    return None if text is None else mlflow_vars.boolean(text.strip())


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


def _with_server_variables(resolved: Resolved, backend: str) -> Resolved:
    """``resolved``, with MLFLOW_ALLOW_FILE_STORE for a file backend unless it is set (SPEC §6)."""
    if not uris.is_file_store(backend) or "mlflow_allow_file_store" in resolved.settings:
        return resolved
    variables = {**resolved.variables, "MLFLOW_ALLOW_FILE_STORE": "true"}
    return dataclasses.replace(resolved, variables=MappingProxyType(variables))


def _option(key: str, value: str | None) -> list[str]:
    return [] if value is None else [OPTIONS[key], value]


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
