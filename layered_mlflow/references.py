"""Secret references (SPEC §11): ``aws-sm:``, ``aws-ssm:`` and ``op://`` values, fetched only when needed.

A reference is resolved after merging, for the winning value only; the
commands that only print (`show`, `explain`, `env`, `--dry-run`) never call
``fetched``. Fetching is bounded in all, one request per distinct reference,
and a failure names the key, the reference and the service's error code.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from layered_mlflow.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from layered_mlflow.resolve import Resolved

BOUND = 10.0  # seconds for every fetch of one command together
_VALUE = operator.attrgetter("value")
_STARTS = ("aws-s", "op://")  # how every reference starts
_REFERENCE = re.compile(r"aws-sm:[^\s#]+(#\S+)?|aws-ssm:\S+|op://[^/\s]+/[^/\s]+/\S+")


class FetchError(ConfigError):
    """A reference that cannot be fetched: the command is not started."""


def is_reference(value: object) -> bool:
    """``aws-sm:NAME``, ``aws-sm:NAME#FIELD``, ``aws-ssm:NAME``, ``op://VAULT/ITEM/FIELD``: the whole value."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


def fetched(resolved: Resolved, environ: Mapping[str, str]) -> Resolved:
    """``resolved`` with every reference replaced by what it refers to; ``environ`` is what the command inherits.

    AWS is reached with the command's own variables (the `env` section, `.env`, the
    environment), so that AWS_DEFAULT_REGION or AWS_ENDPOINT_URL in the settings work.
    """
    texts = filter(str.__instancecheck__, map(_VALUE, resolved.settings.values()))
    if not any(map(str.startswith, texts, itertools.repeat(_STARTS))):
        return resolved  # most often: none of thousands of values starts like a reference, seen without a loop of ours
    wanted = {name: s.value for name, s in resolved.settings.items() if is_reference(s.value)}
    from layered_mlflow import exports, fetchers

    where = {ref: _where(resolved, name) for name, ref in reversed(wanted.items()) if isinstance(ref, str)}
    environment = exports.child_environment(environ, resolved)
    values = _bounded(lambda ref: fetchers.fetch(ref, environment, where[ref]), where)
    settings = {
        name: s._replace(value=values[s.value]) if name in wanted and isinstance(s.value, str) else s
        for name, s in resolved.settings.items()
    }
    named = (resolved.layout, resolved.environment, resolved.environment_source)
    return resolved._replace(
        settings=MappingProxyType(settings),
        variables=MappingProxyType(exports.child_variables(settings, exports.environment_variables(*named))),
        fetched=frozenset(wanted),
    )


def _bounded(fetch: Callable[[str], str], where: Mapping[str, str]) -> dict[str, str]:
    """Each distinct reference fetched once, in a worker the command stops waiting for after BOUND seconds."""
    values: dict[str, str] = {}
    failures: list[BaseException] = []
    current: list[str] = []

    def work() -> None:
        for reference in where:
            current.append(reference)
            try:
                values[reference] = fetch(reference)
            except BaseException as exc:  # handed to the main thread, whatever it is
                failures.append(exc)
                return

    import threading  # only for a reference to fetch: every `run` imports this module

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(BOUND)
    if failures:
        raise failures[0]
    if worker.is_alive():
        reference = current[-1]
        raise FetchError(
            f"{where[reference]} = {reference}: no answer within {BOUND:g} s (timeout)",
            hint="is the endpoint reachable from here (AWS_ENDPOINT_URL, a proxy, the network)?",
        )
    return values


def _where(resolved: Resolved, name: str) -> str:
    """The key, and where its reference was written: ``mlflow_tracking_password (settings/mlflow.yml)``."""
    setting = resolved.settings[name]
    if setting.layer == "process_env":
        return f"{setting.source} (environment)"
    return f"{name} ({resolved.relative(setting.source)})"
