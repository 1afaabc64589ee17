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
a secret reference: those never pass through here. The file is read once: an
entry's key and its parse are of the same bytes, so a file rewritten while it is
read cannot file one text's values under another's (issue 26). Entries are one
per settings file path, 0600 in a 0700 folder, written atomically, checked by a
CRC of their own before use; any failure to read or write one is silent.
(Comparing bytes instead of digests keeps hashlib, a twentieth of a warm start, out.)

Whose entries are trusted (SPEC §2): a cache folder may be shared (an
``XDG_CACHE_HOME`` under /tmp), and a planted entry would choose a victim's
tracking URI or ``PYTHONSTARTUP``. The folder and each entry are used only if
the running user owns them and no one else may write them, as checked on the
open descriptor (``fstat``), never through a symbolic link (``O_NOFOLLOW``);
entries are read by the bounded, regular-files-only reader, so a FIFO, a device
or a huge file is no entry. Anything else is ignored, as silently as an
unwritable cache.
"""

from __future__ import annotations

import functools
import marshal
import os
import stat
import sys
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from layered_mlflow._version import __version__
from layered_mlflow.errors import ConfigError
from layered_mlflow.sources import reading, settings_file

OFF_VARIABLE = "LAYERED_MLFLOW_NO_CACHE"
# The readers whose parses are kept: a settings/ file through Dynaconf, a Kedro conf/ file through PyYAML,
# a Kedro project's pyproject.toml through tomllib (importing it is some 10 ms).
SETTINGS, KEDRO, PYPROJECT = b"settings", b"kedro", b"pyproject"
# An environment in which the cache is off: for a caller that was given none.
NO_CACHE: Mapping[str, str] = MappingProxyType({OFF_VARIABLE: "1"})
_MAGIC = b"layered-mlflow cache 3\n"
_HEADER = len(_MAGIC) + 8 + 4  # then the length of the key, the payload's CRC-32, the key, the payload
# The key holds a whole settings file, and the payload its values (aliases expanded within yaml_limits' bounds).
_ENTRY_LIMIT = 4 * reading.SETTINGS_LIMIT
# What read_settings_file's result depends on besides the file: the code that reads files, and the vocabulary
# below it in the layer order (an editable install changes them in place). Folders, not names: a module moved
# or added there keys the cache too.
_READERS = ("sources", "mlflow_names", ".", "layouts/kedro")


def read_settings_file(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """``settings_file.read_settings_file(path, environ)``, from the cache when it holds this file's bytes."""
    return read_through(path, environ, SETTINGS, lambda data: _parse(path, data, environ))


def read_through(
    path: Path, environ: Mapping[str, str], kind: bytes, parse: Callable[[bytes], tuple[dict[str, Any], bool]]
) -> dict[str, Any]:
    """``parse`` of the file's bytes, from the cache when it holds ``kind``'s parse of those very bytes.

    ``parse`` returns the values, and whether one was evaluated from outside the file (then never stored).
    ``kind`` names the reader (``SETTINGS``, ``KEDRO``): one file's bytes read by two readers are two entries.
    """
    data = reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT)  # once: the key and the parse are of it
    where = folder_of(environ)
    if where is None:
        return parse(data)[0]
    key = kind + b" " + _versions() + b"\0" + data  # the reader and the versions; after the first NUL, the file
    path_bytes = os.fsencode(os.path.abspath(path))
    # Two paths may share a name: each then only overwrites the other's entry, never serves it.
    name = f"{zlib.crc32(path_bytes):08x}{zlib.adler32(path_bytes):08x}"
    folder = _open_folder(where, create=False)
    try:
        found = None if folder is None else _load(folder, name, key)
        if found is not None:
            return found
        parsed, evaluated_outside = parse(data)
        if not evaluated_outside:
            folder = _open_folder(where, create=True) if folder is None else folder
            if folder is not None:
                _store(folder, name, key, parsed)
        return parsed
    finally:
        if folder is not None:
            os.close(folder)


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


def _parse(path: Path, data: bytes, environ: Mapping[str, str]) -> tuple[dict[str, Any], bool]:
    """The parse of ``data``, and whether a value was evaluated from outside the file (never stored)."""
    outside: list[str] = []
    return settings_file.parse_settings_file(path, data, environ, outside), bool(outside)


def _open_folder(where: Path, create: bool) -> int | None:
    """The cache folder, open, if it is the running user's alone; else None (no cache, silently)."""
    try:
        if create:
            where.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # missing, a link, a read-only file system, a folder it may not enter
        return None
    if _is_private(os.fstat(folder)):
        return folder
    os.close(folder)
    return None


def _is_private(status: os.stat_result) -> bool:
    """Owned by the running user, and neither its group nor anyone else may write it."""
    return status.st_uid == os.geteuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@functools.cache  # once a process: every file read through the cache is keyed by them
def _versions() -> bytes:
    parts = [__version__, sys.version, _dynaconf_version(), _module_stamp("yaml")]
    package = Path(__file__).parent.parent
    for folder in _READERS:
        try:
            with os.scandir(package / folder) as entries:
                for entry in sorted(entries, key=lambda entry: entry.name):
                    if entry.name.endswith(".py"):
                        status = entry.stat()
                        parts.append(f"{folder}/{entry.name} {status.st_mtime_ns} {status.st_size}")
        except OSError:  # a folder moved or unreadable: its own part of the key, never an error
            parts.append(f"{folder} unreadable")
    return "\n".join(parts).encode()


def _dynaconf_version() -> str:
    """Dynaconf's version from its VERSION file, found without importing it or scanning distributions."""
    origin = _origin("dynaconf")
    if origin is None:
        return "absent"
    try:
        with open(os.path.join(os.path.dirname(origin), "VERSION"), encoding="utf-8") as stream:
            return f"{origin} {stream.read().strip()}"
    except OSError:  # a Dynaconf without the file: its package's own file stands for its version
        return _module_stamp("dynaconf")


def _module_stamp(name: str) -> str:
    """A package's ``__init__`` file, its time and size, standing for its version (PyYAML's), without importing it."""
    origin = _origin(name)
    if origin is None:
        return f"{name} absent"
    status = os.stat(origin)
    return f"{origin} {status.st_mtime_ns} {status.st_size}"


def _origin(name: str) -> str | None:
    from importlib.util import find_spec

    spec = find_spec(name)
    return spec.origin if spec is not None else None


def _load(folder: int, name: str, key: bytes) -> dict[str, Any] | None:
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except OSError:  # none yet, or a symbolic link
        return None
    try:
        if not _is_private(os.fstat(descriptor)):
            return None
        raw = reading.read_descriptor(descriptor, name, _ENTRY_LIMIT)  # a FIFO, a device, a huge file: refused
    except (OSError, ConfigError):
        return None
    finally:
        os.close(descriptor)
    if len(raw) < _HEADER or not raw.startswith(_MAGIC):
        return None
    size, crc = int.from_bytes(raw[len(_MAGIC) : _HEADER - 4], "big"), raw[_HEADER - 4 : _HEADER]
    payload = raw[_HEADER + size :]
    if raw[_HEADER : _HEADER + size] != key or crc != zlib.crc32(payload).to_bytes(4, "big"):
        return None  # another file's bytes or versions; or torn, altered: parse the file instead
    try:
        found = marshal.loads(payload)  # noqa: S302 (our own bytes, in our own 0700 folder, checked by CRC)
    except (EOFError, ValueError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def _store(folder: int, name: str, key: bytes, parsed: dict[str, Any]) -> None:
    try:
        payload = marshal.dumps(parsed)
    except ValueError:  # a value marshal cannot hold (a YAML date): not cached, read each time
        return
    entry = _MAGIC + len(key).to_bytes(8, "big") + zlib.crc32(payload).to_bytes(4, "big") + key + payload
    if len(entry) > _ENTRY_LIMIT:  # it would never be read back
        return
    temporary = f".{name}.{os.getpid()}"
    try:
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder
        )
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(entry)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:  # a full disk, a name taken: no cache
        from contextlib import suppress

        with suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
