"""A secret as a file (SPEC §11): ``{from: …, as: file}`` gives the variable a path to a file holding the value.

The file is an anonymous memory file (``memfd``), readable by the user alone (0600), never on a disk and never in
the project, reached as ``/proc/<pid>/fd/<n>`` of this process. `run` execs the command into this process, with
the file still open: the command and everything it starts read it at that path for as long as the command runs,
and the kernel frees it when the command ends, however it ends (SIGKILL too). `configure()` keeps it open in the
notebook's process; `server` in the `layered-mlflow server` process, which outlives the server it starts.
"""

from __future__ import annotations

import os

from layered_mlflow.errors import ConfigError


def held(content: str, name: str) -> str:
    """The path of a new memory file holding ``content`` (byte-exact), open in this process and those it execs."""
    try:
        descriptor = os.memfd_create(f"layered-mlflow-{name}", 0)  # no MFD_CLOEXEC: it must outlive exec
    except (AttributeError, OSError) as exc:  # not Linux (no memfd), or a kernel without it
        raise ConfigError(
            f"{name}: a secret as a file needs Linux's memory files, which are not available here",
            hint=f"write {name}'s value itself, or an X_FILE path to a file of your own",
        ) from exc
    os.fchmod(descriptor, 0o600)
    data = memoryview(os.fsencode(content))
    while data:
        data = data[os.write(descriptor, data) :]
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.set_inheritable(descriptor, True)
    return f"/proc/{os.getpid()}/fd/{descriptor}"
