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
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from layered_mlflow.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from layered_mlflow.resolve import Resolved

    _Fetch = Callable[[str, Mapping[str, str]], str]  # a reference's value, fetched with these variables
    _One = Callable[[str, Mapping[str, str], str, float], str]  # (reference, environment, where, deadline)

BOUND = 10.0  # seconds for every fetch of one command together
_KEY_PAIR = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})
_CREDENTIAL_CODES = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
)
_SELF_FETCHED = (
    "{name} is itself a reference, so it is fetched with the AWS credentials that remain without it "
    "(AWS_PROFILE, the machine's role): give one, or write {name}'s value"
)
_AWS_UNREACHED = "is the endpoint reachable from here (AWS_ENDPOINT_URL, a proxy, the network)?"
OP_WAITS = "`op` waits for a sign-in or the desktop app's approval: run `op signin`, or set OP_SERVICE_ACCOUNT_TOKEN"
_VALUE = operator.attrgetter("value")
_STARTS = ("aws-s", "op://")  # how every reference starts
_REFERENCE = re.compile(r"aws-sm:[^\s#]+(#\S+)?|aws-ssm:\S+|op://[^/\s]+/[^/\s]+/\S+")


class FetchError(ConfigError):
    """A reference that cannot be fetched: the command is not started."""


def is_reference(value: object) -> bool:
    """``aws-sm:NAME``, ``aws-sm:NAME#FIELD``, ``aws-ssm:NAME``, ``op://VAULT/ITEM/FIELD``: the whole value."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


def fetched(resolved: Resolved, environ: Mapping[str, str], bound: float = BOUND) -> Resolved:
    """``resolved`` with every reference replaced by what it refers to; ``environ`` is what the command inherits.

    ``bound`` is the seconds for every fetch together (`check --online --timeout 2`: less than BOUND).

    AWS is reached with the command's own variables (the `env` section, `.env`, the
    environment), so that AWS_DEFAULT_REGION or AWS_ENDPOINT_URL in the settings work.
    """
    texts = filter(str.__instancecheck__, map(_VALUE, resolved.settings.values()))
    if not any(map(str.startswith, texts, itertools.repeat(_STARTS))):
        return resolved  # most often: none of thousands of values starts like a reference, seen without a loop of ours
    wanted = {name: s.value for name, s in resolved.settings.items() if is_reference(s.value)}
    from layered_mlflow import exports

    where = {ref: _where(resolved, name) for name, ref in reversed(wanted.items()) if isinstance(ref, str)}
    environment = exports.child_environment(environ, resolved)
    values = _bounded(lambda fetch: _fetch_all(fetch, where, environment), where, bound)
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


def fetched_variables(variables: Mapping[str, str], bound: float = BOUND) -> dict[str, str]:
    """Each of ``variables`` that is a reference, with what it refers to: a worker's own environment (SPEC §13).

    Fetched as for `run`, with ``variables`` as the environment: the AWS variables' own references first,
    one request per distinct reference, ``bound`` seconds in all.
    """
    where: dict[str, str] = {}
    for name, value in variables.items():
        if is_reference(value):
            where.setdefault(value, f"{name} (the worker's environment)")
    if not where:
        return {}
    values = _bounded(lambda fetch: _fetch_all(fetch, where, variables), where, bound)
    return {name: values[value] for name, value in variables.items() if value in where}


def _fetch_all(fetch: _Fetch, where: Mapping[str, str], environment: Mapping[str, str]) -> None:
    """The AWS variables' own references first, with the credentials that remain; then every other one, with
    the AWS variables resolved, as the command will use them. No fetch is handed an unresolved reference."""
    own = {name: value for name, value in environment.items() if name.startswith("AWS_") and value in where}
    remaining, resolved = _without_references(environment), dict(environment)
    for name, reference in own.items():
        try:
            resolved[name] = fetch(reference, remaining)
        except FetchError as exc:
            refused = any(f"{code})" in exc.message or exc.message.endswith(code) for code in _CREDENTIAL_CODES)
            raise FetchError(exc.message, _SELF_FETCHED.format(name=name) if refused else exc.hint) from None
    for reference in where:
        fetch(reference, resolved)


def _without_references(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` less its AWS variables that are references, and less the whole key pair if half of it is."""
    unresolved = {name for name, value in environment.items() if name.startswith("AWS_") and is_reference(value)}
    if unresolved & _KEY_PAIR:
        unresolved |= _KEY_PAIR  # an access key id without its secret (or a session token without both) is no key
    return {name: value for name, value in environment.items() if name not in unresolved}


def secret_arns(where: Mapping[str, str], environment: Mapping[str, str], bound: float = BOUND) -> dict[str, str]:
    """The ARN of each ``aws-sm:NAME`` reference of ``where`` (reference → the key it is for, for messages):
    one DescribeSecret each, no value fetched, ``bound`` seconds in all (`env --format ecs`, SPEC §13)."""
    from layered_mlflow import fetchers

    plain = _without_references(environment)
    return _bounded(lambda fetch: [fetch(reference, plain) for reference in where], where, bound, fetchers.secret_arn)


def _bounded(
    work: Callable[[_Fetch], object], where: Mapping[str, str], bound: float, one: _One | None = None
) -> dict[str, str]:
    """``work`` fetching each distinct reference once (with ``one``, else its value), in a worker the command
    stops waiting for after ``bound`` s."""
    from layered_mlflow import fetchers

    one = one or fetchers.fetch

    deadline = time.monotonic() + bound
    values: dict[str, str] = {}
    failures: list[BaseException] = []
    current: list[str] = []

    def fetch(reference: str, environment: Mapping[str, str]) -> str:
        if reference not in values:
            current.append(reference)
            values[reference] = one(reference, environment, where[reference], deadline)
        return values[reference]

    def run() -> None:
        try:
            work(fetch)
        except BaseException as exc:  # handed to the main thread, whatever it is
            failures.append(exc)

    import threading  # only for a reference to fetch: every `run` imports this module

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(bound)
    if failures:
        raise failures[0]
    if worker.is_alive():
        reference = current[-1]
        raise FetchError(
            f"{where[reference]} = {reference}: no answer within {bound:g} s (timeout)",
            hint=OP_WAITS if reference.startswith("op://") else _AWS_UNREACHED,
        )
    return values


def _where(resolved: Resolved, name: str) -> str:
    """The key, and where its reference was written: ``mlflow_tracking_password (settings/mlflow.yml)``."""
    setting = resolved.settings[name]
    if setting.layer == "process_env":
        return f"{setting.source} (environment)"
    return f"{name} ({resolved.relative(setting.source)})"
