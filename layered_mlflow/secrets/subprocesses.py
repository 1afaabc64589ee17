"""Running a helper command (`token.command`, `op read`) within a bound, and leaving no process behind.

``subprocess.run(timeout=…)`` kills the command alone: a shell script's ``sleep``
or a background child it started lives on, holding the pipe open, and waiting
for the pipe's end waits for it. Here the command gets a process group of its
own, its output is read until the command itself has ended (not until every
holder of the pipe has), and then the whole group is killed, on time or not.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

_PAUSE = 0.02  # seconds between looks at whether the command has ended, while it prints nothing


class TimedOut(Exception):
    """The command had not ended within the bound; it was killed with its whole process group."""


class Finished(NamedTuple):
    returncode: int
    stdout: bytes  # at most ``limit`` + 1 bytes: one more than the limit says it printed too much
    stderr: bytes


def run(argv: Sequence[str], timeout: float, limit: int, env: Mapping[str, str] | None = None) -> Finished:
    """``argv`` (no shell) in its own process group; what it printed, each stream kept up to ``limit`` + 1 bytes.

    Raises OSError when it cannot start, TimedOut when it has not ended within ``timeout`` seconds.
    """
    process = subprocess.Popen(  # noqa: S603 (an argv from the settings, without a shell)
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
        start_new_session=True,
    )
    try:
        out, err = _read_until_ended(process, time.monotonic() + timeout, limit)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the leader is not reaped yet: its group id is still its own
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return Finished(process.returncode, out, err)


def _read_until_ended(process: subprocess.Popen[bytes], deadline: float, limit: int) -> tuple[bytes, bytes]:
    out, err = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        for stream, kept in ((process.stdout, out), (process.stderr, err)):
            if stream is not None:
                os.set_blocking(stream.fileno(), False)
                selector.register(stream, selectors.EVENT_READ, kept)
        while True:
            ended = _has_ended(process)
            left = deadline - time.monotonic()
            if left <= 0:
                if not ended:
                    raise TimedOut
                return bytes(out), bytes(err)  # a child it left still prints: what came in time is its output
            # Once it has ended, only what is already in the pipes: a child it left may hold them open forever.
            ready = selector.select(0 if ended else min(left, _PAUSE)) if selector.get_map() else []
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                kept_bytes: bytearray = key.data
                kept_bytes += chunk[: max(0, limit + 1 - len(kept_bytes))]
            if ended and not ready:
                return bytes(out), bytes(err)
            if not selector.get_map() and not ended:
                time.sleep(min(max(left, 0), _PAUSE))


def _has_ended(process: subprocess.Popen[bytes]) -> bool:
    """Whether the command has exited, without reaping it: its process group id stays its own until then."""
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True
