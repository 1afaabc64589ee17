"""Tokens that expire (SPEC §11): the names of what the command gets for the `token` section.

The command gets ``MLFLOW_TRACKING_AUTH=layered-mlflow`` and the variables below (resolution/derived.py);
layered-mlflow's auth provider (integrations/auth_provider.py), which MLflow calls for every
request, reads them in the command's process (token_sources.py reads the token).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

PROVIDER = "layered-mlflow"  # the entry point's name, and MLFLOW_TRACKING_AUTH's value
AUTH = "MLFLOW_TRACKING_AUTH"
FILE = "LAYERED_MLFLOW_AUTH_FILE"
COMMAND = "LAYERED_MLFLOW_AUTH_COMMAND"  # a JSON array: the argv
TTL = "LAYERED_MLFLOW_AUTH_TTL"
DEFAULT_TTL = 300
URIS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")  # the token goes to their origins alone (SPEC §11)
_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host (lower case), port


def origin(url: str) -> Origin | None:
    """The scheme, host and port of an http(s) URL; None for another URL or one without a host."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a port number: no request goes there
        return None
    if scheme not in _PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _PORTS[scheme]


def allowed(variables: Mapping[str, str]) -> frozenset[Origin]:
    """The origins of the tracking and registry URIs: the only ones the token is sent to."""
    return frozenset(filter(None, (origin(variables.get(name, "")) for name in URIS)))
