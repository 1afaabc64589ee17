"""Anchoring tracking, registry and store URIs to the project root (SPEC §6)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Bare words MLflow reads as a URI, not as a folder.
_BARE_URIS = frozenset({"databricks", "databricks-uc", "uc"})


def anchor(uri: str, root: Path, environ: Mapping[str, str]) -> str:
    """``uri`` with any relative path resolved against ``root``; other URIs unchanged."""
    if uri in _BARE_URIS:
        return uri
    if uri.startswith("sqlite:///"):
        return _anchor_sqlite(uri, root, environ)
    if uri.startswith("file:") and not uri.startswith("file://"):
        return _path_uri(uri[len("file:") :], root, environ)
    if _SCHEME.match(uri):
        return uri
    return _path_uri(uri, root, environ)


def is_file_store(uri: str) -> bool:
    return uri.startswith("file:")


def _path_uri(path: str, root: Path, environ: Mapping[str, str]) -> str:
    return Path(absolute(path, root, environ)).as_uri()


def _anchor_sqlite(uri: str, root: Path, environ: Mapping[str, str]) -> str:
    rest = uri[len("sqlite:///") :]
    path, question, query = rest.partition("?")
    if path.startswith("/") or path in ("", ":memory:") or path.startswith("file:"):
        return uri
    return f"sqlite:///{absolute(path, root, environ)}{question}{query}"


def absolute(path: str, root: Path, environ: Mapping[str, str]) -> str:
    """A folder or file path resolved against ``root`` (``~`` is the home folder)."""
    if path == "~" or path.startswith("~/"):
        path = os.path.join(_home(environ), path[2:])  # not home + path: a home of `/` would give `//`
    return os.path.normpath(os.path.join(root, path))


def _home(environ: Mapping[str, str]) -> str:
    if environ.get("HOME"):
        return environ["HOME"]
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:  # a container user with no passwd entry
        return "/"


def file_uri_path(uri: str) -> str:
    """The local path of a ``file:`` URI."""
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(uri).path)
