"""``gcp-sm:projects/P/secrets/S[/versions/V]``: Google Cloud Secret Manager, through its official client (the
`gcp` extra).

Credentials are Application Default Credentials, found as every Google client finds them
(``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default login``, the machine's service
account), from the command's variables. The version is ``latest`` unless named. A private endpoint is the one
``gcloud`` uses: ``CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER``. The value's CRC32C is checked.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from layered_mlflow.secrets.references import FetchError
from layered_mlflow.secrets.stores.common import HTTP_VARIABLES, client, decoded, remaining, variables

ENDPOINT = "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER"
_VARIABLES = ("GOOGLE_", "GCE_", "CLOUDSDK_", "NO_GCE_CHECK", *HTTP_VARIABLES)  # what google-auth reads
_HINTS = {
    "NOT_FOUND": "check the project, the secret's name and its version",
    "PERMISSION_DENIED": "the credentials may not read it: grant roles/secretmanager.secretAccessor",
    "UNAUTHENTICATED": "the credentials are not valid (expired?): gcloud auth application-default login",
    "FAILED_PRECONDITION": "the version is disabled or destroyed: name an enabled one, or latest",
}
_NO_CREDENTIALS = "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS"


def name(reference: str) -> str:
    """The secret version's resource name: ``latest`` unless the reference names one."""
    path = reference.removeprefix("gcp-sm:")
    return path if "/versions/" in path else f"{path}/versions/latest"


def fetch(reference: str, environment: Mapping[str, str], where: str, deadline: float) -> str:
    secretmanager = client("google.cloud.secretmanager", "google-cloud-secret-manager", "gcp", where, reference)
    import requests  # the REST transport's
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    endpoint = environment.get(ENDPOINT, "").rstrip("/").removesuffix("/v1")
    try:
        with variables(environment, _VARIABLES):
            service = secretmanager.SecretManagerServiceClient(
                transport="rest", client_options={"api_endpoint": endpoint} if endpoint else None
            )
            answer = service.access_secret_version(name=name(reference), timeout=remaining(deadline), retry=None)
    except auth.DefaultCredentialsError:
        raise FetchError(f"{where} = {reference}: no Google credentials found", hint=_NO_CREDENTIALS) from None
    except (auth.RefreshError, auth.TransportError) as exc:
        code = type(exc).__name__
        raise FetchError(f"{where} = {reference}: Google's credentials cannot be refreshed ({code})") from None
    except api.GoogleAPICallError as exc:
        status = _status(exc)
        raise FetchError(f"{where} = {reference}: Secret Manager answered {status}", hint=_HINTS.get(status)) from None
    except (api.GoogleAPIError, requests.RequestException) as exc:  # a timeout, a refused connection: no answer
        code = "timeout" if "Timeout" in type(exc).__name__ else type(exc).__name__
        hint = f"is Secret Manager reachable from here (a proxy, the network, {ENDPOINT})?"
        raise FetchError(f"{where} = {reference}: cannot reach Secret Manager ({code})", hint=hint) from None
    data = bytes(answer.payload.data)
    if "data_crc32c" in answer.payload and answer.payload.data_crc32c != crc32c(data):
        raise FetchError(f"{where} = {reference}: the value arrived damaged (its CRC32C differs)", hint="fetch again")
    return decoded(data, where, reference)


def _status(exc: Any) -> str:
    """Google's status (``PERMISSION_DENIED``) from the error's body, else the HTTP status."""
    try:
        status = exc.response.json()["error"]["status"]
    except (AttributeError, KeyError, TypeError, ValueError):
        status = None
    if isinstance(status, str) and status.isupper():
        return status
    return exc.grpc_status_code.name if exc.grpc_status_code is not None else f"HTTP {exc.code}"


@functools.cache
def _table() -> tuple[int, ...]:
    """CRC32C's byte table (Castagnoli's polynomial, reflected)."""
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


def crc32c(data: bytes) -> int:
    """The CRC32C Secret Manager sends with a value (a secret is at most 64 KiB: a table is quick enough)."""
    table, crc = _table(), 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
