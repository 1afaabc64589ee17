"""layered-mlflow's ``mlflow.request_auth_provider`` entry point: a fresh bearer token on every request.

MLflow calls ``get_auth()`` for every request when ``MLFLOW_TRACKING_AUTH`` names
this provider (mlflow/utils/rest_utils.py, ``http_request``), and hands what it
returns to requests as ``auth=``. So the token is read here, in the training
process, from the variables `run` set (tokens.py): the file again when it
changed, the command again after its TTL, and either again after a 401; the
last good token is kept while its source fails (token_sources.py).

The token goes only to the scheme, host and port of the resolved tracking and registry URIs (SPEC §11): a
request MLflow sends elsewhere (a URI a script chose, another server's artifacts) goes without it.

Imported by MLflow only, in the command's process: it may import mlflow and requests.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider

from layered_mlflow.secrets import token_sources, tokens

_RETRIED = "_layered_mlflow_retried"


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``, read from ``source``, for a request to one of ``origins`` only; a 401
    reads it again and resends once."""

    def __init__(self, source: token_sources.Source, origins: frozenset[tokens.Origin]) -> None:
        self.source = source
        self.origins = origins

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if tokens.origin(request.url or "") not in self.origins:
            return request  # another server: it gets no token of ours
        request.headers["Authorization"] = f"Bearer {self.source.token()}"
        request.register_hook("response", self._after)
        return request

    def _after(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        sent = response.request
        if response.status_code != 401 or getattr(sent, _RETRIED, False):
            return response
        self.source.expire()
        token = self.source.token()
        if sent.headers.get("Authorization") == f"Bearer {token}":
            return response  # the same token again: the server means it
        retry = sent.copy()
        retry.headers["Authorization"] = f"Bearer {token}"
        setattr(retry, _RETRIED, True)
        response.content  # noqa: B018 (read the body, so the connection goes back to the pool)
        response.close()
        again: requests.Response = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again


class LayeredMlflowAuthProvider(RequestAuthProvider):
    """The provider MLflow finds by the entry point's name, ``layered-mlflow``."""

    def __init__(self) -> None:
        self._auth: BearerAuth | None = None
        self._read_from: tuple[str | None, ...] = ()

    def get_name(self) -> str:
        return tokens.PROVIDER

    def get_auth(self) -> BearerAuth:
        # Called for every request: five lookups when nothing changed (a notebook may configure() again).
        read_from = tuple(os.environ.get(name) for name in (tokens.FILE, tokens.COMMAND, tokens.TTL, *tokens.URIS))
        if self._auth is None or read_from != self._read_from:
            source = token_sources.source_of(os.environ)
            if source is None:
                raise token_sources.TokenError(
                    f"{tokens.AUTH}={tokens.PROVIDER} but no token section: "
                    f"run the command with `layered-mlflow run` (it sets {tokens.FILE} or {tokens.COMMAND})"
                )
            self._auth, self._read_from = BearerAuth(source, tokens.allowed(os.environ)), read_from
        return self._auth
