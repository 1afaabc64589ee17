"""Reading the files a user points at: regular files only, of a bounded size, every failure one ConfigError.

A settings file, a `.env` or an ``X_FILE`` target may be anything a path can
name: a FIFO (opening it blocks until a writer comes), ``/dev/zero`` (reading
it never ends), a directory, a dangling link. Each is refused by name before
a byte is read, so no input can hang the tool or fill its memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from layered_mlflow.errors import ConfigError, shown

MIB = 1024 * 1024
# Far above any real file, far below what would strain a machine: a larger file is the wrong file.
SETTINGS_LIMIT = 4 * MIB  # a settings file (YAML or JSON)
DOTENV_LIMIT = 4 * MIB  # a `.env` file
VALUE_LIMIT = 1 * MIB  # an X_FILE target: one variable's value

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_bytes(path: Path, label: str, limit: int, missing_hint: str | None = None) -> bytes:
    """The content of ``path``, a regular file of at most ``limit`` bytes; ``label`` names it in errors."""
    where = shown(label)
    try:
        _refuse_special(os.stat(path).st_mode, where)  # before opening: opening a FIFO blocks
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        problem = "no such file (a dangling symbolic link)" if os.path.lexists(path) else "no such file"
        raise ConfigError(f"{where}: {problem}", hint=missing_hint) from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it ({exc.strerror})") from None
    try:
        return read_descriptor(descriptor, label, limit)
    finally:
        os.close(descriptor)


def read_descriptor(descriptor: int, label: str, limit: int) -> bytes:
    """The content of the open file ``descriptor``, if it is a regular file of at most ``limit`` bytes.

    Open it with ``O_NONBLOCK``: opening a FIFO otherwise blocks before this can refuse it.
    """
    where = shown(label)
    try:
        status = os.fstat(descriptor)
        _refuse_special(status.st_mode, where)  # it may have been replaced since a stat of its path
        _refuse_size(status.st_size, limit, where)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(descriptor, limit + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            _refuse_size(size, limit, where)  # the file grows while it is read
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it ({exc.strerror})") from None
    return b"".join(chunks)


def read_text(path: Path, label: str, limit: int, missing_hint: str | None = None) -> str:
    """``read_bytes`` decoded as UTF-8 (a leading BOM dropped); bytes that are not name their line."""
    return decode(read_bytes(path, label, limit, missing_hint), label)


def decode(raw: bytes, label: str) -> str:
    """``raw`` as UTF-8 (a leading BOM dropped); bytes that are not name their line of ``label``."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{shown(label)}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x})", hint="save the file as UTF-8"
        ) from None


def _refuse_special(mode: int, where: str) -> None:
    for test, kind in _KINDS:
        if test(mode):
            raise ConfigError(f"{where}: is {kind}, not a regular file", hint="name a regular file")


def _refuse_size(size: int, limit: int, where: str) -> None:
    if size > limit:
        raise ConfigError(
            f"{where}: larger than {limit // MIB} MiB, the most layered-mlflow reads from such a file",
            hint="is it the right file?",
        )
