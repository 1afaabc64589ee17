"""Values MLflow (or what it hands them to) refuses at run time, one variable at a time (SPEC §7 `check`)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from layered_mlflow.errors import did_you_mean
from layered_mlflow.mlflow_names import variables as mlflow_vars

# Each variable, and the private one that holds its limit (mlflow/utils/rest_utils.py, _validate_max_retries).
_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "_MLFLOW_HTTP_REQUEST_MAX_BACKOFF_FACTOR_LIMIT",
}
LIMITS = tuple(_LIMITS.values())  # the variables MLflow reads its limits from
_LEVELS = ("CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "NOTSET")
# requests hands the timeout to urllib3, which refuses 0 and less; CPython's poll() takes it in
# milliseconds in a C int, so above 2147483 s the timeout wraps (to 0 at 2**31 s: every read fails at
# once) and above 9223372036 s `settimeout` raises OverflowError.
_MAX_TIMEOUT = 2147483
_CHOICES: Mapping[str, tuple[str, ...]] = {
    # botocore's Config(s3={"addressing_style": …}) raises InvalidS3AddressingStyleError for others.
    "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE": ("auto", "virtual", "path"),
}
# MLflow's own auth providers: the modules its registry imports them from, and each one's name, written
# in `get_name` or in a constant it returns (`ASSISTANT_DELEGATION_AUTH_NAME = "assistant-delegation"`).
_AUTH_FOLDER = "tracking/request_auth"
_AUTH_MODULES = re.compile(r"^from mlflow\.tracking\.request_auth\.(?P<module>\w+) import", re.MULTILINE)
_BUILT_IN_AUTH = re.compile(r'def get_name\(self\)[^:]*:\s*return (?:"(?P<name>[^"]+)"|(?P<constant>[A-Z_][A-Z0-9_]*))')


class Refusal(NamedTuple):
    reason: str  # follows "NAME (where) = 'value'": "is not a boolean"
    hint: str | None = None


def refusal(name: str, value: str, environ: Mapping[str, str], http: bool) -> Refusal | None:
    """Why MLflow would refuse ``value`` for the variable ``name``; None when it takes it.

    ``environ`` is the command's environment, where MLflow's private limits may be set; MLflow's
    REST client alone holds retries to them, so they count where a store is reached over ``http``.
    """
    kind = mlflow_vars.mlflow_variables().get(name, "str")
    if kind in mlflow_vars.BOOLEANS:
        if mlflow_vars.boolean(value, kind) is None:
            words = "true, false, 1 or 0" if kind == "bool" else "true/false, yes/no, on/off or 1/0"
            return Refusal("is not a boolean", f"MLflow accepts {words}")
        return None
    if kind in ("int", "float"):
        number = _number(value, int if kind == "int" else float)
        if number is None:
            return Refusal("is not an integer" if kind == "int" else "is not a number")
        return _range(name, number, environ if http else None)
    if name in _CHOICES and value not in _CHOICES[name]:
        return Refusal(f"is not one of {', '.join(_CHOICES[name])}")
    if name == "MLFLOW_LOGGING_LEVEL" and value.upper() not in _LEVELS:
        return Refusal("is not a logging level", ", ".join(_LEVELS[2:7]))
    if name == "MLFLOW_RUN_CONTEXT" and not _is_json_object(value):
        return Refusal("is not a JSON object; MLflow would drop it silently")
    if name == "MLFLOW_TRACKING_AUTH" and auth_providers() and value not in auth_providers():
        return _unknown_provider(value)
    return None


def _range(name: str, number: float, limits: Mapping[str, str] | None) -> Refusal | None:
    """``number`` outside the range MLflow takes for ``name``; ``limits`` None: its REST client is not used."""
    low, high, hint = 0.0, None, None
    if name in _LIMITS:
        if limits is None:
            return None
        high, hint = _limit(_LIMITS[name], limits), f"MLflow's limit is {_LIMITS[name]}"
    elif name == "MLFLOW_HTTP_REQUEST_TIMEOUT":
        low, high, hint = 1, _MAX_TIMEOUT, "seconds; every request fails with a timeout outside that range"
    elif name == "MLFLOW_TRACE_SAMPLING_RATIO":
        high = 1.0
    else:
        return None
    if number < low or (high is not None and number > high):
        shown = f"{_figure(low)}..{_figure(high)}" if high is not None else f"{_figure(low)} or more"
        return Refusal(f"is outside MLflow's range {shown}", hint)
    return None


def _figure(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _limit(name: str, environ: Mapping[str, str]) -> float | None:
    """MLflow's own limit: set for the command, else its default in the installed MLflow."""
    written = _number(environ.get(name, ""), int)
    return written if written is not None else mlflow_vars.limit(name)


@functools.cache
def auth_providers() -> frozenset[str]:
    """What ``MLFLOW_TRACKING_AUTH`` may name: MLflow's own providers, and the installed plugins.

    A plugin is known by its entry point's name (MLflow asks the provider itself, which means
    importing it; plugins name both alike). Empty where MLflow's own cannot be read (MLflow laid
    out otherwise): then no name is refused.
    """
    from importlib.metadata import entry_points  # only here: scanning the installed packages costs ~20 ms

    package = mlflow_vars.package()
    built_in = set(_built_in_auth(package / _AUTH_FOLDER)) if package is not None else set()
    if not built_in:
        return frozenset()
    return frozenset({*built_in, *(point.name for point in entry_points(group="mlflow.request_auth_provider"))})


def _built_in_auth(folder: Path) -> Iterator[str]:
    """The names of the providers MLflow's registry (its registry.py) imports and registers itself."""
    for module in _AUTH_MODULES.finditer(mlflow_vars.read(folder / "registry.py")):
        source = mlflow_vars.read(folder / f"{module['module']}.py")
        for match in _BUILT_IN_AUTH.finditer(source):
            if match["name"]:
                yield match["name"]
            elif constant := re.search(rf'^{match["constant"]}\s*=\s*"(?P<name>[^"]+)"', source, re.MULTILINE):
                yield constant["name"]


def _unknown_provider(value: str) -> Refusal:
    known = sorted(auth_providers())
    hint = did_you_mean(value, known) or f"the installed providers are {', '.join(known) or 'none'}"
    return Refusal("is not an installed auth provider: MLflow then sends requests without authentication", hint)


def _number(value: str, kind: type[int] | type[float]) -> float | None:
    try:
        return kind(value)
    except ValueError:
        return None


def _is_json_object(value: str) -> bool:
    try:
        return isinstance(json.loads(value), dict)
    except (ValueError, RecursionError):  # nested past the interpreter's depth: no object MLflow could read
        return False
