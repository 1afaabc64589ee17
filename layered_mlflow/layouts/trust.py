"""Whose files are trusted (SPEC §2): a project found from the working directory, not one another user chose.

git's rule since CVE-2022-24765, for the same attack: another user plants
`settings/mlflow.yml` or `.env` in a folder everyone can write (`/tmp`), and a
victim's job below it gets their tracking URI, ``LD_PRELOAD`` or ``PYTHONPATH``.
A file the project would read, the folders between it and the root, and the
root itself (when a layout marks it) are used only if the running user or root
owns them and not every user can write them (a group-writable team folder is
fine). A project named by ``--project-dir`` or its variable is trusted whole.

Checked on the paths, following links (what is read is the link's target), at
discovery: before any settings file or `.env` is read (only the Kedro marker,
``pyproject.toml``, is parsed to find the root), in one place, at one ``stat``
per file. A file swapped after the check needs write access to a checked
folder, which only the trusted have (a link's target outside the project aside).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path


def untrusted(root: Path, files: Iterable[Path], root_found: bool) -> tuple[Path, str] | None:
    """The first of ``files``, the folders between them and ``root``, and ``root`` itself when ``root_found``
    (a layout marks it), that another user owns or every user can write; and why, for people."""
    checked: set[Path] = set()
    for path in files:
        folders = list(path.parents)
        below_root = folders[: folders.index(root)] if root in folders else []
        for item in (path, *below_root):
            if item not in checked:
                checked.add(item)
                if why := _why(item):
                    return item, why
    why = _why(root) if root_found else None
    return (root, why) if why else None


def _why(path: Path) -> str | None:
    try:
        status = os.stat(path)
    except OSError:  # missing, or a dangling link: the reader names it if it is read
        return None
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISDIR(status.st_mode)):  # a FIFO, /dev/zero (0666): the reader
        return None  # refuses it by what it is, the clearer word
    if status.st_uid not in (os.geteuid(), 0):
        return f"is owned by another user ({_user(status.st_uid)})"
    if status.st_mode & stat.S_IWOTH:
        return f"is writable by every user (owner {_user(status.st_uid)})"
    return None


def _user(uid: int) -> str:
    import pwd  # here: only a refusal names a user

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no account: the uid alone
        return f"uid {uid}"
