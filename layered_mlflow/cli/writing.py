"""Writing a few files into a project all or nothing, and never outside it (`init`, SPEC §7).

Every path is checked before the first byte is written: a symbolic link (which
would carry the write elsewhere), a FIFO (which would block), a folder in the
way. Each file is then written to a temporary name beside it and renamed over
its target, so a failure leaves no half-written file and no partial project.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from layered_mlflow.errors import LayeredMlflowError

_NOTHING = "nothing was written"


def refuse_unsafe(root: Path, paths: Sequence[Path]) -> None:
    """Exit 2 unless each of ``paths`` can be written as a regular file inside ``root``."""
    real_root = root.resolve()
    for path in paths:
        name = path.relative_to(root)
        try:
            folder = path.parent.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop
            raise LayeredMlflowError(f"{name.parent}: cannot follow its symbolic link; {_NOTHING}") from None
        if not folder.is_relative_to(real_root):
            raise LayeredMlflowError(
                f"{name.parent} is a symbolic link to {folder}, outside the project; {_NOTHING}",
                hint="init writes only inside the project root: make it a folder of its own",
            )
        if os.path.lexists(path.parent) and not path.parent.is_dir():
            raise LayeredMlflowError(f"{path.parent}: is in the way of {path.name}; {_NOTHING}")
        _refuse_special(path, name)


def _refuse_special(path: Path, name: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LayeredMlflowError(f"{name}: cannot read it ({exc.strerror}); {_NOTHING}") from None
    if stat.S_ISLNK(mode):
        raise LayeredMlflowError(
            f"{name} is a symbolic link; init replaces no link and writes through none; {_NOTHING}",
            hint="remove the link (or replace it with a copy of its target) and rerun",
        )
    if stat.S_ISDIR(mode):
        raise LayeredMlflowError(f"{path}: is in the way of {path.name}; {_NOTHING}")
    if not stat.S_ISREG(mode):
        raise LayeredMlflowError(f"{name} is not a regular file; {_NOTHING}", hint="remove it and rerun")


def read_existing(path: Path, name: str) -> bytes:
    """The bytes of a regular file (``b""`` when missing), refused without blocking when it is not one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise LayeredMlflowError(f"{name}: cannot read it ({exc.strerror}); {_NOTHING}") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LayeredMlflowError(f"{name} is not a regular file; {_NOTHING}", hint="remove it and rerun")
        try:
            return file.read()
        except OSError as exc:
            raise LayeredMlflowError(f"{name}: cannot read it ({exc.strerror}); {_NOTHING}") from None


def write_all(root: Path, files: Sequence[tuple[Path, bytes]]) -> None:
    """Write every file or none: each to a temporary name beside it, then all renamed into place."""
    made = sorted({path.parent for path, _ in files if not path.parent.exists()})
    staged: list[tuple[Path, Path]] = []
    target = root
    try:
        for target in made:
            target.mkdir()
        for target, data in files:
            staged.append((_staged(target, data), target))
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):  # not empty: what else was put there meanwhile stays
                folder.rmdir()
        raise LayeredMlflowError(f"{target}: cannot write it ({exc.strerror}); {_NOTHING}") from None
    for temporary, path in staged:
        os.replace(temporary, path)


def _staged(path: Path, data: bytes) -> Path:
    """``data`` in a new file beside ``path``, with ``path``'s permissions if it exists."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        mode: int | None = stat.S_IMODE(os.lstat(path).st_mode)
    except FileNotFoundError:
        mode = None
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return temporary
