"""A cache of parsed settings files in the user's cache folder, so that a warm start skips Dynaconf (SPEC §3).

Parsing is the costly part of a start: importing Dynaconf is some 45 ms, and its
pure-Python YAML parser takes seconds for a megabyte. An entry holds what
``read_settings_file`` returned for a file's exact bytes, and is used only when
everything that result depends on is unchanged: the bytes themselves (kept in
the entry and compared whole, so an edit within the same second and of the same
size is seen, and no two files can collide), Dynaconf's version, this tool's
version and the modules that read the file, and Python's (the entry is
``marshal``'s format). A file whose values Dynaconf evaluates from
outside it (``@format``, ``@jinja``, ``@get``, ``@read_file``: the environment,
other files) is never stored, nor is anything from ``.env``, the environment or
a secret reference: those never pass through here. Entries are one per settings
file path, 0600 in a 0700 folder, written atomically, checked by a CRC of their
own before use; any failure to read or write one is silent. (Comparing bytes
instead of digests keeps hashlib, a twentieth of a warm start, out.)
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from layered_mlflow import reading

OFF_VARIABLE = "LAYERED_MLFLOW_NO_CACHE"
_MAGIC = b"layered-mlflow cache 2\n"
_HEADER = len(_MAGIC) + 8 + 4  # then the length of the key, the payload's CRC-32, the key, the payload
# What read_settings_file's result depends on besides the file: an editable install changes them in place.
_READERS = ("settings_files.py", "yaml_limits.py", "kedro.py", "reading.py")


def read_settings_file(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """``settings_files.read_settings_file(path, environ)``, from the cache when it holds this file's bytes."""
    folder = folder_of(environ)
    if folder is None:
        return _parse(path, environ, None)
    data = _read(path)
    key = _versions() + b"\0" + data
    where = os.fsencode(os.path.abspath(path))
    # Two paths may share a name: each then only overwrites the other's entry, never serves it.
    entry = folder / f"{zlib.crc32(where):08x}{zlib.adler32(where):08x}"
    found = _load(entry, key)
    if found is not None:
        return found
    return _parse(path, environ, (entry, key, data))


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


def _parse(path: Path, environ: Mapping[str, str], store: tuple[Path, bytes, bytes] | None) -> dict[str, Any]:
    from layered_mlflow import settings_files

    outside: list[str] = []
    parsed = settings_files.read_settings_file(path, environ, outside)
    if store is None or outside:
        return parsed
    entry, key, data = store
    if _read(path) == data:  # unchanged since the key was read, or one text's values would be filed under another's
        _store(entry, key, parsed)
    return parsed


def _read(path: Path) -> bytes:
    return reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT)


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
    if len(raw) < _HEADER or not raw.startswith(_MAGIC):
        return None
    size, crc = int.from_bytes(raw[len(_MAGIC) : _HEADER - 4], "big"), raw[_HEADER - 4 : _HEADER]
    payload = raw[_HEADER + size :]
    if raw[_HEADER : _HEADER + size] != key or crc != zlib.crc32(payload).to_bytes(4, "big"):
        return None  # another file's bytes or versions; or torn, altered: parse the file instead
    try:
        found = marshal.loads(payload)  # noqa: S302 (our own bytes, in a 0700 folder, checked by CRC)
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
            stream.write(_MAGIC + len(key).to_bytes(8, "big") + zlib.crc32(payload).to_bytes(4, "big") + key + payload)
        os.replace(temporary, entry)
    except OSError:  # a read-only file system, a full disk, a folder of someone else's: no cache
        from contextlib import suppress

        with suppress(OSError):
            os.unlink(temporary)
