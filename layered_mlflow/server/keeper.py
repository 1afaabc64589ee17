"""Running `mlflow server` so that nothing it starts outlives `server`, whatever ends it (issue 20 §5, 26 §4).

`mlflow server` starts uvicorn and its workers, a job runner, huey consumers,
and jobs in sessions of their own. When `server` exec'd it, as `run` execs its
command, a SIGKILL (or a SIGHUP to its PID alone) left all of them running,
holding the port, with nobody to stop them. Exec cannot help: nothing survives
a SIGKILL to clean up after it. So three processes take part:

    layered-mlflow server   this process: stays in the caller's process group, where a terminal's
     │                      Ctrl-C and hangup arrive, and forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT;
     └─ keeper              forked: a session of its own, so a signal to the caller's group passes it
         │                  by, and a child subreaper (Linux), so every orphan of the tree is its child;
         └─ mlflow server   its own process group, and all it starts.

The keeper holds the read end of a pipe whose write end only this process has:
however this process ends, SIGKILL included, the keeper reads end-of-file and
stops the tree. When mlflow server ends, the keeper stops whatever it left.
Stopping is SIGTERM to everything (MLflow's own clean shutdown), a bounded
wait, then SIGKILL until no descendant is left. The keeper exits as mlflow
server did, and so does this process (a signal's death as 128+n, as a shell
shows it).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from layered_mlflow.server import auth_config

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
GRACE = 10.0  # seconds between SIGTERM and SIGKILL: uvicorn's workers finish their requests
_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def serve(argv: Sequence[str], environment: Mapping[str, str], cwd: Path, auth: str | None) -> NoReturn:
    """Run ``argv`` (mlflow server) in ``cwd`` until it ends, then exit as it did; ``auth``: its auth config."""
    handed = None if auth is None else auth_config.hand_over(auth)  # the keeper has it, as a fork
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()  # else the keeper, a fork, would write them again
    gone, held = os.pipe()  # neither end is inherited by mlflow server (os.pipe's are not inheritable)
    keeper = os.fork()
    if keeper == 0:
        code = 70
        try:
            os.close(held)
            code = _keep(argv, environment, cwd, handed, gone)
        except Exception as exc:  # a fork must never return into the command line's code
            os.write(2, f"layered-mlflow: error: cannot start mlflow server ({exc})\n".encode())
        finally:
            os._exit(code)
    os.close(gone)
    for number in FORWARDED:
        signal.signal(number, lambda received, _: _send(keeper, received))
    _, status = os.waitpid(keeper, 0)
    raise SystemExit(_exit_code(status))


def _keep(argv: Sequence[str], environment: Mapping[str, str], cwd: Path, handed: int | None, gone: int) -> int:
    """The keeper: start mlflow server, forward signals to it, and stop the whole tree when it or the parent ends."""
    os.setsid()
    _become_subreaper()
    started: list[int] = []  # mlflow server's PID, once there is one
    pending: list[int] = []  # signals that came before it

    def forward(received: int, _: FrameType | None) -> None:
        if started:
            _send(started[0], received)
        else:
            pending.append(received)

    for number in FORWARDED:
        signal.signal(number, forward)
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)  # a child's end interrupts the select below
    signal.signal(signal.SIGCHLD, lambda *_: None)
    if handed is not None:
        environment = {**environment, auth_config.VARIABLE: auth_config.path(handed)}
    child = subprocess.Popen(argv, env=dict(environment), cwd=cwd, start_new_session=True)  # noqa: S603
    started.append(child.pid)
    for received in pending:
        _send(child.pid, received)
    status = None
    while status is None:
        ready, _, _ = select.select([gone, woken], [], [])
        if woken in ready:
            os.read(woken, 4096)
        status = _reaped(child.pid)
        if status is None and gone in ready and not os.read(gone, 1):
            break  # the parent is gone: stop everything
    _stop_all(child.pid)
    return 0 if status is None else _exit_code(status)  # None: the parent is gone, and nobody asks


def _exit_code(status: int) -> int:
    """A wait status as a shell shows it: the exit code, or 128+n for a death by signal n."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _become_subreaper() -> None:
    """Linux's PR_SET_CHILD_SUBREAPER: an orphan of the tree is reparented to the keeper, not to init.

    Elsewhere the keeper stops mlflow server's process group alone (MLflow's jobs leave it).
    """
    prctl = getattr(ctypes.CDLL(None), "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reaped(pid: int) -> int | None:
    """Reap every child that has ended (orphans of the tree among them); ``pid``'s wait status if it has."""
    found = None
    while True:
        try:
            done, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if done == 0:
            return found
        if done == pid:
            found = status


def _stop_all(group: int) -> None:
    """SIGTERM to mlflow server's group and every descendant; after GRACE seconds SIGKILL, until none is left."""
    _signal_all(group, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while _any_left(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    while True:
        _signal_all(group, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)  # as a subreaper, each descendant becomes a child when its parent dies
        except ChildProcessError:
            return


def _any_left(group: int) -> bool:
    _reaped(0)
    try:
        os.killpg(group, 0)
    except OSError:
        return bool(_children())
    return True


def _signal_all(group: int, number: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(group, number)
    for pid in _children():
        _send(pid, number)


def _children() -> list[int]:
    """The keeper's children as Linux lists them (none elsewhere)."""
    found: list[int] = []
    for listing in glob.glob("/proc/self/task/*/children"):
        with contextlib.suppress(OSError):
            found += map(int, Path(listing).read_text().split())
    return found


def _send(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)
