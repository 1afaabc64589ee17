"""SPEC §8: output that cannot be written ends the command as `cat` ends, never with a traceback or exit 70."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import COMMAND, Project

COMMANDS = [
    pytest.param(("show",), id="show"),
    pytest.param(("show", "--format", "json"), id="show-json"),
    pytest.param(("env",), id="env"),
    pytest.param(("explain", "mlflow_tracking_uri"), id="explain"),
    pytest.param(("check",), id="check"),
    pytest.param(("run", "--dry-run", "--", "true"), id="dry-run"),
]


def _started(project: Project, args: tuple[str, ...], stdout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args], cwd=project.root, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False, timeout=120
    )


@pytest.mark.parametrize("args", COMMANDS)
def test_reader_gone_is_a_silent_sigpipe(project: Project, args: tuple[str, ...]) -> None:
    """Into a pipe nobody reads (`| head -c0`): killed by SIGPIPE like `cat` (141 in a shell), nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before the command starts, so its first write certainly fails
    try:
        done = _started(project, args, write_end)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (-signal.SIGPIPE, ""), done


@pytest.mark.parametrize("args", COMMANDS)
def test_full_disk_is_one_line(project: Project, args: tuple[str, ...]) -> None:
    """Into /dev/full: one line naming the failure, exit 2, and no complaint from the interpreter's exit."""
    with Path("/dev/full").open("w") as full:
        done = _started(project, args, full.fileno())
    assert done.returncode == 2, done
    assert done.stderr == "layered-mlflow: error: cannot write the output: No space left on device\n", done


def test_closed_stdout_is_one_line(project: Project) -> None:
    """With stdout closed (`>&-`), `show` says it cannot write instead of succeeding with nothing printed."""
    done = subprocess.run(
        ["sh", "-c", f"exec {COMMAND} show >&-"], cwd=project.root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done
    assert done.stderr == "layered-mlflow: error: cannot write the output: Bad file descriptor\n", done
