"""Fetching every secret reference of one command: each distinct reference once, bounded in all (SPEC §11).

The AWS variables' own references are fetched first, with the credentials that remain; every other one with
them resolved. A failure names the key, the reference and the service's error code, never a value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from layered_mlflow.secrets import fetchers
from layered_mlflow.secrets.references import OP_WAITS, FetchError, is_reference

_Fetch = Callable[[str, Mapping[str, str]], str]  # a reference's value, fetched with these variables
_One = Callable[[str, Mapping[str, str], str, float], str]  # (reference, environment, where, deadline)

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
_UNREACHED = {  # what to look at when a store gave no answer in time, by how its references start
    "op://": OP_WAITS,
    "aws-": "is the endpoint reachable from here (AWS_ENDPOINT_URL, a proxy, the network)?",
    "vault:": "is VAULT_ADDR reachable from here (a proxy, the network)?",
    "gcp-sm:": "is Secret Manager reachable from here (a proxy, the network)?",
    "azure-kv:": "is the vault reachable from here (a proxy, the network)?",
    "sops:": "`sops` may wait for a key: a PGP agent's passphrase, a cloud KMS",
}


def fetch_all(where: Mapping[str, str], environment: Mapping[str, str], bound: float, root: Path) -> dict[str, str]:
    """The value of each reference of ``where`` (reference -> the key and where it was written, for messages).

    ``environment`` is the command's: AWS is reached with its variables, so that AWS_DEFAULT_REGION or
    AWS_ENDPOINT_URL in the settings work. ``bound`` is the seconds for every fetch together. ``root`` is the
    project's, where a `sops:` file's path starts.
    """
    return _bounded(
        lambda fetch: _fetch_all(fetch, where, environment),
        where,
        bound,
        lambda reference, environment, where, deadline: fetchers.fetch(reference, environment, where, deadline, root),
    )


def fetch_variables(variables: Mapping[str, str], bound: float, root: Path) -> dict[str, str]:
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
    values = fetch_all(where, variables, bound, root)
    return {name: values[value] for name, value in variables.items() if value in where}


def secret_arns(where: Mapping[str, str], environment: Mapping[str, str], bound: float) -> dict[str, str]:
    """The ARN of each ``aws-sm:NAME`` reference of ``where`` (reference -> the key it is for, for messages):
    one DescribeSecret each, no value fetched, ``bound`` seconds in all (`env --format ecs`, SPEC §13)."""
    plain = _without_references(environment)

    def each(fetch: _Fetch) -> None:
        for reference in where:
            fetch(reference, plain)

    return _bounded(each, where, bound, fetchers.secret_arn)


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


def _bounded(work: Callable[[_Fetch], None], where: Mapping[str, str], bound: float, one: _One) -> dict[str, str]:
    """``work`` fetching each distinct reference once with ``one``, in a worker the command stops waiting for
    after ``bound`` s."""
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
            hint=next(hint for start, hint in _UNREACHED.items() if reference.startswith(start)),
        )
    return values
