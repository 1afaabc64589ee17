"""Validation that gathers every problem before reporting any (SPEC §5, §7 `check`)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from layered_mlflow import keys, uris
from layered_mlflow.errors import LayeredMlflowError
from layered_mlflow.exports import variable_name
from layered_mlflow.masking import secrets_of
from layered_mlflow.mlflow_vars import mlflow_variables
from layered_mlflow.resolve import Resolved, Setting

ERROR, WARNING, NOTE = "error", "warning", "note"
_BOOLEANS = ("true", "false", "1", "0")
_LEVELS = ("CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "NOTSET")
# MLflow refuses more (its _MLFLOW_HTTP_REQUEST_*_LIMIT defaults).
_LIMITS = {"mlflow_http_request_max_retries": 10, "mlflow_http_request_backoff_factor": 120}
_STORE_SCHEMES = (
    "file",
    "sqlite",
    "postgresql",
    "mysql",
    "mssql",
    "http",
    "https",
    "databricks",
    "databricks-uc",
    "uc",
)
_ARTIFACT_SCHEMES = (
    *("file", "s3", "gs", "wasbs", "abfss", "hdfs", "viewfs", "ftp", "sftp", "dbfs"),
    *("mlflow-artifacts", "http", "https", "runs", "models", "oci"),
)
_STORE_KEYS = (
    *(("mlflow_tracking_uri",), ("mlflow_registry_uri",), ("server", "backend_store_uri")),
    *(("server", "registry_store_uri"), ("mlflow_backend_store_uri",), ("mlflow_registry_store_uri",)),
)


@dataclass(frozen=True)
class Problem:
    level: str  # error, warning or note
    message: str  # names the key and where it was set; never a secret
    hint: str | None = None

    def line(self) -> str:
        return f"{self.level}: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


def check(resolved: Resolved) -> list[Problem]:
    """Every problem of ``resolved``: unknown keys, values MLflow would reject, URIs."""
    return [
        *unknown_keys(resolved),
        *_values(resolved),
        *_combinations(resolved),
        *_uris(resolved),
        *(
            Problem(NOTE, f"{name} is set but empty in the environment; `run` removes it from the command's")
            for name in resolved.unset
            if not name.endswith("_FILE")  # an X_FILE read for X: what it is for, no problem
        ),
        *(
            Problem(
                NOTE, f"{name} ({resolved.relative(source)}) is a kedro-mlflow key; layered-mlflow does not apply it"
            )
            for name, source in resolved.unapplied
        ),
    ]


@dataclass(frozen=True)
class Outcome:
    text: str
    exit_code: int  # 0 clean (notes and warnings allowed), 1 problems, 2 settings that do not load


def run_checks(
    resolve: Callable[[str | None], Resolved], environments: Sequence[str | None], strict: bool, timeout: float | None
) -> Outcome:
    """Check each environment (``None``: the active one), reaching the store when ``timeout`` is given."""
    lines: list[str] = []
    codes = [0]
    for name in environments:
        try:
            resolved = resolve(name)
        except LayeredMlflowError as exc:
            if name is None:
                raise  # the active environment alone: the usual one-line error
            lines.append(f"{name}: error: {exc.message}" + (f" (hint: {exc.hint})" if exc.hint else ""))
            codes.append(2)
            continue
        problems = check(resolved)
        if timeout is not None:
            from layered_mlflow.online import reach

            problems.append(reach(resolved.variables, timeout, secrets_of(resolved)))
        if strict:
            problems = [Problem(ERROR, p.message, p.hint) if p.level == WARNING else p for p in problems]
        errors = sum(p.level == ERROR for p in problems)
        warnings = sum(p.level == WARNING for p in problems)
        lines.append(f"{resolved.environment}: {_count(errors, 'error')}, {_count(warnings, 'warning')}")
        lines.extend(f"  {p.line()}" for p in problems)
        codes.append(1 if errors else 0)
    return Outcome("\n".join(lines), max(codes))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def unknown_keys(resolved: Resolved) -> Iterator[Problem]:
    """Names that do nothing: not an MLflow variable, not a layered-mlflow key (warnings)."""
    known = mlflow_variables()
    for setting in resolved.settings.values():
        head = setting.key[0]
        if head.startswith("mlflow_") and known and head.upper() not in known:
            close = difflib.get_close_matches(head.upper(), known, n=1, cutoff=0.8)
            hint = f"did you mean {_as_written(setting, close[0])}?" if close else None
            yield Problem(
                WARNING, f"{_where(resolved, setting)} is not an MLflow variable; it is exported but unused", hint
            )
        elif head not in (*keys.SECTIONS, *keys.NAME_LISTS) and not head.startswith("mlflow_"):
            close = difflib.get_close_matches(head, [*keys.SECTIONS, "mlflow_tracking_uri"], n=1, cutoff=0.7)
            hint = f"did you mean {close[0]}?" if close else "MLflow variables start with mlflow_"
            yield Problem(WARNING, f"{_where(resolved, setting)} is not a layered-mlflow key; it is ignored", hint)
        elif head == "server" and len(setting.key) == 2 and setting.key[1] not in keys.SERVER_KEYS:
            close = difflib.get_close_matches(setting.key[1], keys.SERVER_KEYS, n=1)
            hint = f"did you mean server.{close[0]}?" if close else f"the keys are {', '.join(keys.SERVER_KEYS)}"
            if not setting.key[1].startswith("mlflow_"):  # kedro-mlflow's, translated elsewhere
                yield Problem(WARNING, f"{_where(resolved, setting)} is not a `server` key", hint)


def _values(resolved: Resolved) -> Iterator[Problem]:
    known, secrets = mlflow_variables(), secrets_of(resolved)
    for setting in resolved.settings.values():
        name = variable_name(setting.key)
        if name is None or not name.startswith("MLFLOW_") or not isinstance(setting.value, str):
            continue
        value, kind = setting.value, known.get(name, "str")
        shown = secrets.mask(name, value)
        if kind == "bool" and value.lower() not in _BOOLEANS:
            yield Problem(
                ERROR, f"{_where(resolved, setting)} = {shown!r} is not a boolean", "MLflow accepts true, false, 1 or 0"
            )
        elif kind in ("int", "float") and not _converts(value, int if kind == "int" else float):
            yield Problem(
                ERROR, f"{_where(resolved, setting)} = {shown!r} is not {'an integer' if kind == 'int' else 'a number'}"
            )
        elif setting.key[0] in _LIMITS and _converts(value, int) and not 0 <= int(value) <= _LIMITS[setting.key[0]]:
            limit = _LIMITS[setting.key[0]]
            yield Problem(ERROR, f"{_where(resolved, setting)} = {shown} is outside MLflow's range 0..{limit}")
        elif name == "MLFLOW_LOGGING_LEVEL" and value.upper() not in _LEVELS:
            yield Problem(
                ERROR, f"{_where(resolved, setting)} = {shown!r} is not a logging level", ", ".join(_LEVELS[2:7])
            )
        elif name == "MLFLOW_RUN_CONTEXT" and not _is_json_object(value):
            yield Problem(ERROR, f"{_where(resolved, setting)} is not a JSON object; MLflow would drop it silently")


def _combinations(resolved: Resolved) -> Iterator[Problem]:
    def get(key: str) -> Setting | None:
        return resolved.settings.get(key)

    insecure, cert = get("mlflow_tracking_insecure_tls"), get("mlflow_tracking_server_cert_path")
    if insecure and cert and str(insecure.value).lower() in ("true", "1"):
        yield Problem(
            ERROR, f"{_where(resolved, insecure)} is true while {_where(resolved, cert)} is set; MLflow refuses both"
        )
    token, user, password = (
        get("mlflow_tracking_token"),
        get("mlflow_tracking_username"),
        get("mlflow_tracking_password"),
    )
    if token and user and password:
        yield Problem(
            WARNING,
            f"{_where(resolved, token)} is ignored: MLflow uses {_where(resolved, user)} and its password first",
        )
    name, experiment_id = get("mlflow_experiment_name"), get("mlflow_experiment_id")
    if name and experiment_id:
        yield Problem(
            WARNING,
            f"both {_where(resolved, name)} and {_where(resolved, experiment_id)} are set; MLflow fails if they differ",
            "keep one of them",
        )


def _uris(resolved: Resolved) -> Iterator[Problem]:
    for setting in resolved.settings.values():
        if setting.key not in keys.URI_KEYS or not isinstance(setting.value, str):
            continue
        scheme = setting.value.split(":", 1)[0].lower() if ":" in setting.value else setting.value
        store = setting.key in _STORE_KEYS
        if scheme.split("+")[0] not in (_STORE_SCHEMES if store else _ARTIFACT_SCHEMES):
            yield Problem(ERROR, f"{_where(resolved, setting)} has an unknown scheme {scheme!r}")
        elif store and scheme == "postgresql":
            yield Problem(
                WARNING,
                f"{_where(resolved, setting)} names no driver: SQLAlchemy 2.1 then wants psycopg 3",
                "write postgresql+psycopg2:// (or install psycopg)",
            )
        elif setting.key == ("mlflow_tracking_uri",) and uris.is_file_store(setting.value):
            yield Problem(
                NOTE,
                f"{_where(resolved, setting)} is a file store, which MLflow keeps in maintenance mode",
                "sqlite:///mlflow.db is a drop-in local store",
            )


def _where(resolved: Resolved, setting: Setting) -> str:
    """The key as its layer spelled it, and where: ``MLFLOW_X (environment)``, ``x (settings/mlflow.yml)``."""
    if setting.layer == "process_env":
        return f"{setting.source} (environment)"
    written = variable_name(setting.key) if setting.layer == "dotenv" else None
    return f"{written or setting.name} ({resolved.relative(setting.source)})"


def _as_written(setting: Setting, variable: str) -> str:
    return variable if setting.layer in ("process_env", "dotenv") else variable.lower()


def _converts(value: str, kind: type) -> bool:
    try:
        kind(value)
    except ValueError:
        return False
    return True


def _is_json_object(value: str) -> bool:
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False
