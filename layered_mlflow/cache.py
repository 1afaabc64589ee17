"""A cache of parsed settings files in the user's cache folder, so that a warm start skips Dynaconf (SPEC §3).

Parsing is the costly part of a start: importing Dynaconf is some 45 ms, and its
pure-Python YAML parser takes seconds for a megabyte. An entry holds what
``read_settings_file`` returned for a file's exact bytes, and is used only when
everything that result depends on is unchanged: the bytes themselves (a digest,
so an edit within the same second and of the same size is seen), Dynaconf's
version, this tool's version and the modules that read the file, and Python's
(the entry is ``marshal``'s format). A file whose values Dynaconf evaluates from
outside it (``@format``, ``@jinja``, ``@get``, ``@read_file``: the environment,
other files) is never stored, nor is anything from ``.env``, the environment or
a secret reference: those never pass through here. Entries are one per settings
file path, 0600 in a 0700 folder, written atomically, checked by a digest of
their own before use; any failure to read or write one is silent.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from layered_mlflow import reading

OFF_VARIABLE = "LAYERED_MLFLOW_NO_CACHE"
_MAGIC = b"layered-mlflow cache 1\n"
_DIGEST = 32
# What read_settings_file's result depends on besides the file: an editable install changes them in place.
_READERS = ("settings_files.py", "yaml_limits.py", "kedro.py", "reading.py")


def read_settings_file(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """``settings_files.read_settings_file(path, environ)``, from the cache when it holds this file's bytes."""
    folder = folder_of(environ)
    if folder is None:
        return _parse(path, environ, None)
    data = reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT)
    key = hashlib.sha256(_versions() + b"\0" + data).digest()
    entry = folder / hashlib.sha256(os.fsencode(os.path.abspath(path))).hexdigest()
    found = _load(entry, key)
    if found is not None:
        return found
    return _parse(path, environ, (entry, key))


def folder_of(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/layered-mlflow``, else ``~/.cache/layered-mlflow``; None when off or there is no home."""
    if environ.get(OFF_VARIABLE) == "1":
        return None
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG specification: a relative value is to be ignored
        home = environ.get("HOME", "")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base, "layered-mlflow")


def _parse(path: Path, environ: Mapping[str, str], store: tuple[Path, bytes] | None) -> dict[str, Any]:
    from layered_mlflow import settings_files

    outside: list[str] = []
    parsed = settings_files.read_settings_file(path, environ, outside)
    if store is not None and not outside:
        _store(*store, parsed)
    return parsed


def _versions() -> bytes:
    import layered_mlflow

    parts = [layered_mlflow.__version__, sys.version, _dynaconf_version()]
    here = Path(__file__).parent
    for name in _READERS:
        status = os.stat(here / name)
        parts.append(f"{name} {status.st_mtime_ns} {status.st_size}")
    return "\n".join(parts).encode()


def _dynaconf_version() -> str:
    """Dynaconf's version from its VERSION file, found without importing it or scanning distributions."""
    from importlib.util import find_spec

    spec = find_spec("dynaconf")
    origin = spec.origin if spec is not None else None
    if origin is None:
        return "absent"
    try:
        with open(os.path.join(os.path.dirname(origin), "VERSION"), encoding="utf-8") as stream:
            return f"{origin} {stream.read().strip()}"
    except OSError:  # a Dynaconf without the file: its package's own file stands for its version
        status = os.stat(origin)
        return f"{origin} {status.st_mtime_ns} {status.st_size}"


def _load(entry: Path, key: bytes) -> dict[str, Any] | None:
    try:
        with open(entry, "rb") as stream:
            raw = stream.read()
    except OSError:
        return None
    head = len(_MAGIC)
    payload = raw[head + 2 * _DIGEST :]
    if raw[:head] != _MAGIC or raw[head : head + _DIGEST] != key:
        return None
    if raw[head + _DIGEST : head + 2 * _DIGEST] != hashlib.sha256(payload).digest():
        return None  # torn or tampered: parse the file instead
    try:
        found = marshal.loads(payload)  # noqa: S302 (our own bytes, in a 0700 folder, checked by digest)
    except (EOFError, ValueError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def _store(entry: Path, key: bytes, parsed: dict[str, Any]) -> None:
    try:
        payload = marshal.dumps(parsed)
    except ValueError:  # a value marshal cannot hold (a YAML date): not cached, read each time
        return
    temporary = entry.with_name(f".{entry.name}.{os.getpid()}")
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(_MAGIC + key + hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, entry)
    except OSError:  # a read-only file system, a full disk, a folder of someone else's: no cache
        from contextlib import suppress

        with suppress(OSError):
            os.unlink(temporary)
