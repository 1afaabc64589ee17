"""What the secret stores' fetchers share: their client's import, the variables their client reads, a value's field."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from layered_mlflow.secrets.references import FetchError

# What every HTTP client reads from the environment: proxies and certificate authorities.
HTTP_VARIABLES: tuple[str, ...] = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
HTTP_VARIABLES += ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def client(module: str, package: str, extra: str, where: str, reference: str) -> ModuleType:
    """``module`` (of the distribution ``package``), imported; without it, the ``pip install`` of its extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise FetchError(
            f"{where} = {reference}: fetching it needs {package}, which is not installed",
            hint=f"pip install 'layered-mlflow[{extra}]'",
        ) from None


@contextlib.contextmanager
def variables(environment: Mapping[str, str], prefixes: tuple[str, ...]) -> Iterator[None]:
    """The command's variables that start with ``prefixes`` in ``os.environ`` while a client reads them.

    boto3's, google-auth's and azure-identity's credential chains read ``os.environ`` in many places; there is
    no mapping to hand them instead. The process's own are back afterwards.
    """
    before = {name: value for name, value in os.environ.items() if name.startswith(prefixes)}
    wanted = {name: value for name, value in environment.items() if name.startswith(prefixes)}
    for name in before.keys() - wanted.keys():
        del os.environ[name]
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name in wanted.keys() - before.keys():
            os.environ.pop(name, None)
        os.environ.update(before)


def decoded(data: bytes, where: str, reference: str) -> str:
    """A binary secret as a variable holds it, byte-exact whatever its encoding; a NUL byte no variable can hold."""
    if b"\0" in data:
        raise FetchError(
            f"{where} = {reference}: the secret is binary with a NUL byte, which no environment variable can hold",
            hint="store it as text (base64, for example)",
        )
    return os.fsdecode(data)


def text(value: Any) -> str:
    """A selected value as a variable holds it: a string as it is, any other JSON value as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def selected(document: Any, path: list[str], where: str, reference: str) -> str:
    """The value at ``path`` (keys of mappings, indexes of lists) inside ``document``."""
    value = document
    for depth, part in enumerate(path):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            walked = ".".join(path[:depth]) or "the secret"
            fields = (
                f"its fields are {', '.join(sorted(map(str, value))) or 'none'}" if isinstance(value, dict) else None
            )
            raise FetchError(f"{where} = {reference}: {walked} has no {part!r}", hint=fields)
    return text(value)


def remaining(deadline: float) -> float:
    """Seconds left before ``deadline`` (monotonic), at least a tenth: a client's own timeout."""
    return max(deadline - time.monotonic(), 0.1)
