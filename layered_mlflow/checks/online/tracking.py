"""`check --online`: reaching the tracking store within a bounded time, without importing mlflow.

MLflow's own client retries for minutes (247 s against a refused port, 20
minutes against a server that never answers); a check must answer in seconds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from layered_mlflow.checks.online.client_auth import file_credentials
from layered_mlflow.checks.online.refused import Refused
from layered_mlflow.mlflow_names import variables as mlflow_vars
from layered_mlflow.problems import ERROR, NOTE, Problem
from layered_mlflow.secrets.masking import Secrets, printable

_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}
# One API call: /health answers even where MLflow's Host check refuses every API call.
_API_PATH = "/api/2.0/mlflow/experiments/search?max_results=1"


def reach(variables: Mapping[str, str], timeout: float, secrets: Secrets) -> Problem:
    """Whether the tracking store answers, as a note (it does) or an error (it does not)."""
    uri = variables.get("MLFLOW_TRACKING_URI", "")
    scheme = uri.split(":", 1)[0].split("+")[0].lower()
    shown = secrets.mask("MLFLOW_TRACKING_URI", uri)
    from layered_mlflow.checks.online import local as local_stores

    probes: dict[str, Callable[[], str]] = {
        "http": lambda: _http(uri, variables, timeout, secrets),
        "https": lambda: _http(uri, variables, timeout, secrets),
        "sqlite": lambda: local_stores.sqlite(uri),
        "file": lambda: local_stores.folder(uri),
    }
    if scheme in _PORTS:
        probes[scheme] = lambda: _tcp(uri, _PORTS[scheme], timeout)
    if scheme not in probes:
        return Problem(NOTE, f"{shown}: not checked online ({scheme} stores are not probed)")
    answer = within(probes[scheme], timeout)
    if answer is None:
        return Problem(ERROR, f"{shown}: no answer within {timeout:g} s", "is the server up, and listening there?")
    if isinstance(answer, Exception):
        return _failure(shown, answer, timeout)
    return Problem(NOTE, f"{shown}: {answer}")


def within(probe: Callable[[], str], timeout: float) -> str | Exception | None:
    """``probe()``'s answer, or what it raised, or None when it has not answered within ``timeout`` seconds."""
    outcome: list[str | Exception] = []

    def run() -> None:
        try:
            outcome.append(probe())
        except Exception as exc:  # the caller reports it, whatever it is
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    return outcome[0] if outcome else None


def _failure(shown: str, exc: Exception, timeout: float) -> Problem:
    """What went wrong, from what is known: an exception's text may quote a header or the URI's password."""
    import http.client
    import socket
    import ssl

    if isinstance(exc, Refused):
        return Problem(ERROR, f"{shown}: {exc}", exc.hint)
    if isinstance(exc, ConnectionRefusedError):
        return Problem(ERROR, f"{shown}: connection refused", "is the server running, on that host and port?")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return Problem(ERROR, f"{shown}: no answer within {timeout:g} s", "is the server up, and listening there?")
    if isinstance(exc, socket.gaierror):
        return Problem(ERROR, f"{shown}: cannot resolve the host name")
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason if isinstance(exc.reason, str) and exc.reason.isupper() else None
        return Problem(ERROR, f"{shown}: TLS failed" + (f" ({reason})" if reason else ""), _TLS_HINT)
    if isinstance(exc, http.client.RemoteDisconnected):
        return Problem(ERROR, f"{shown}: the server closed the connection without answering")
    if isinstance(exc, http.client.HTTPException):
        return Problem(ERROR, f"{shown}: the answer is not HTTP ({type(exc).__name__})", "is this the server's port?")
    if isinstance(exc, OSError) and exc.errno:
        return Problem(ERROR, f"{shown}: {os.strerror(exc.errno).lower()}")
    return Problem(ERROR, f"{shown}: the check failed ({type(exc).__name__})")


_TLS_HINT = "check MLFLOW_TRACKING_SERVER_CERT_PATH (or MLFLOW_TRACKING_INSECURE_TLS for a test server)"


def _http(uri: str, variables: Mapping[str, str], timeout: float, secrets: Secrets) -> str:
    """One API call, as MLflow's client makes it; redirects are reported, not followed with the credentials."""
    import json

    parts = urlsplit(uri)
    headers = _auth(parts, variables)
    response, body = get(uri, _API_PATH, variables, timeout, headers)
    host = parts.netloc.rpartition("@")[2]
    if response.status == 200:
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Refused("HTTP 200, but not MLflow's API (a login page or a proxy?)", "check the tracking URI")
        return "reached the tracking server: its API answered"
    if 300 <= response.status < 400:
        # The server's own words: they may reflect the credentials, and hold control characters.
        target = printable(echoed(uri, variables, secrets).scrub(response.getheader("Location") or "?"))
        raise Refused(
            f"the server redirects (HTTP {response.status}) to {target}",
            "point the tracking URI there: credentials are not sent on to another address",
        )
    if response.status == 403 and "Invalid Host header" in body:
        raise Refused(
            f"the server refuses the Host header {host!r} (HTTP 403) on every API call",
            f"start it with --allowed-hosts {host} (server.allowed_hosts)",
        )
    if response.status in (401, 403) and "Authorization" not in headers:
        raise Refused(
            f"the server asks for credentials (HTTP {response.status}), and none were sent",
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN, or a `token` "
            "section) in .env or the environment; ~/.mlflow/credentials is read too",
        )
    if response.status in (401, 403):
        raise Refused(
            f"the server refused the credentials (HTTP {response.status})",
            "check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN",
        )
    raise Refused(f"the API answered HTTP {response.status}", "is this an MLflow tracking server?")


def get(
    uri: str, path: str, variables: Mapping[str, str], timeout: float, headers: Mapping[str, str] | None = None
) -> tuple[Any, str]:
    """GET ``path`` of the tracking server at ``uri`` as MLflow's client would (with ``headers``, when they are
    already worked out); the response and its body."""
    import http.client

    parts = urlsplit(uri)
    port = _port(parts)
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", port, timeout=timeout, context=_tls(variables)
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", port, timeout=timeout)
    try:
        sent = dict(_auth(parts, variables) if headers is None else headers)
        connection.request("GET", parts.path.rstrip("/") + path, headers=sent)
        response = connection.getresponse()
        return response, response.read(1 << 20).decode("utf-8", "replace")
    finally:
        connection.close()


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:  # its text quotes what it took for the port: a piece of the password
        raise Refused(
            "the URI's host and port do not parse",
            "percent-encode #, / and ? in its password (%23, %2F, %3F)",
        ) from None


def _credentials(parts: SplitResult, variables: Mapping[str, str]) -> tuple[str, str, str]:
    """Username, password and token as MLflow's client takes them: variables first, then the URI's user-info."""
    from layered_mlflow.secrets.token_sources import TokenError, current_token

    saved = file_credentials(variables)  # ~/.mlflow/credentials, after the variables
    user = variables.get("MLFLOW_TRACKING_USERNAME") or saved[0] or unquote(parts.username or "")
    password = variables.get("MLFLOW_TRACKING_PASSWORD") or saved[1] or unquote(parts.password or "")
    try:
        rotating = current_token(variables)  # the `token` section's, as the auth provider would send it
    except TokenError as exc:
        raise Refused(str(exc), "check the `token` section") from None
    return user, password, rotating or variables.get("MLFLOW_TRACKING_TOKEN", "")


def _auth(parts: SplitResult, variables: Mapping[str, str]) -> dict[str, str]:
    """The Authorization MLflow's client sends: username and password, else a token, else the URI's user-info."""
    user, password, token = _credentials(parts, variables)
    headers = {"Accept": "application/json"}
    if variables.get("MLFLOW_WORKSPACE"):
        headers["X-MLFLOW-WORKSPACE"] = variables["MLFLOW_WORKSPACE"]  # mlflow/utils/workspace_utils.py's name
    if user and password:
        headers["Authorization"] = "Basic " + _basic(user, password)
    elif token:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in token):
            raise Refused(
                "MLFLOW_TRACKING_TOKEN holds a control character, which no HTTP header can carry "
                "(MLflow's client fails on every request)",
                "remove it: a secret file saved with Windows line endings ends in \\r",
            )
        headers["Authorization"] = f"Bearer {token}"
    return headers


def echoed(uri: str, variables: Mapping[str, str], secrets: Secrets) -> Secrets:
    """``secrets``, and each credential sent to ``uri`` in the forms a server (or a proxy) may echo back.

    What scrubs a server's own words: `check --online`'s, `experiment`'s.
    """
    try:
        forms = _forms(_credentials(urlsplit(uri), variables))
    except (Refused, ValueError):  # the token cannot be read, the URI does not parse: then nothing was sent
        forms = []
    return Secrets(secrets.names, (*forms, *secrets.values))


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _forms(credentials: tuple[str, str, str]) -> list[str]:
    """Each credential as a server may echo it: as sent, percent-encoded, and the basic-auth blob; longest first."""
    from urllib.parse import quote

    user, password, token = credentials
    blob = _basic(user, password) if user and password else ""
    forms = {form for value in (password, token, blob) if value for form in (value, quote(value))}
    return sorted(forms, key=len, reverse=True)


def _tls(variables: Mapping[str, str]) -> Any:
    import ssl

    context = ssl.create_default_context(cafile=variables.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None)
    if variables.get("MLFLOW_TRACKING_CLIENT_CERT_PATH"):  # MLflow hands it to requests as `cert`: one PEM file
        context.load_cert_chain(variables["MLFLOW_TRACKING_CLIENT_CERT_PATH"])
    if mlflow_vars.boolean(variables.get("MLFLOW_TRACKING_INSECURE_TLS", "")):
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def _tcp(uri: str, default_port: int, timeout: float) -> str:
    import socket

    parts = urlsplit(uri)
    with socket.create_connection((parts.hostname or "localhost", _port(parts) or default_port), timeout=timeout):
        return "the database server accepts connections (the driver and credentials are not checked)"
