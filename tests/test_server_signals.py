"""Issue 20 §5, issue 26 §4: whatever signal ends `layered-mlflow server`, nothing it started outlives it.

Each test starts a real `mlflow server` with basic-auth and MLflow's job runner
(uvicorn, the runner, its huey consumers), its environment marked with a token
of the test's own, and sends one signal to `server`'s PID alone, while MLflow
starts or once it answers. Afterwards no process carrying the token is left
and the port is free. When `server` exec'd mlflow, a SIGKILL or a SIGHUP left
about a dozen processes holding the port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import COMMAND, Project
from tests.servers import answers, free_port, is_listening, started
from tests.test_tracking_server import environment

pytestmark = [pytest.mark.server, pytest.mark.mlflow]
MARK = "SERVER_SIGNAL_TEST_MARK"  # inherited by everything the server starts, whatever its session
GONE_WITHIN = 120.0  # seconds: a bound for a loaded machine, not a measure


def marked(token: str) -> dict[int, str]:
    """PID and command line of every live process whose environment holds ``token``."""
    found: dict[int, str] = {}
    needle = f"{MARK}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile, or another user's
    return found


def _uvicorn_started(token: str) -> Callable[[], bool]:
    """Ready while MLflow starts: it has spawned uvicorn, which may not answer yet."""
    return lambda: any("uvicorn" in cmdline for cmdline in marked(token).values())


@pytest.mark.parametrize("moment", ["starting", "running"])
@pytest.mark.parametrize(
    "number",
    [
        pytest.param(signal.SIGTERM, id="SIGTERM"),
        pytest.param(signal.SIGINT, id="SIGINT"),
        pytest.param(signal.SIGHUP, id="SIGHUP"),
        pytest.param(signal.SIGKILL, id="SIGKILL"),
    ],
)
def test_nothing_outlives_server(project: Project, number: signal.Signals, moment: str) -> None:
    """One signal to `server`'s PID, during start-up or once up: every process it started ends, the port is free."""
    port, token = free_port(), uuid.uuid4().hex
    project.write(
        "settings/mlflow.yml",
        f"""\
        server:
          port: {port}
          workers: 1
          backend_store_uri: sqlite:///mlflow.db
          app_name: basic-auth
          auth:
            database_uri: sqlite:///users.db
        """,
    )
    project.write(
        ".env",
        "MLFLOW_AUTH_ADMIN_USERNAME=admin\nMLFLOW_AUTH_ADMIN_PASSWORD=admin-canary-pw\n"
        "MLFLOW_FLASK_SERVER_SECRET_KEY=flask-canary-key\n",
    )
    env = environment(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="true", **{MARK: token})
    ready = answers(port, "/health") if moment == "running" else _uvicorn_started(token)
    log = project.root.parent / "server.log"
    try:
        with started([COMMAND, "server"], log, ready, cwd=project.root, env=env) as server:
            assert len(marked(token)) > 2, marked(token)  # more than server and its keeper: MLflow's own
            server.process.send_signal(number)
            server.process.wait(timeout=GONE_WITHIN)
            deadline = time.monotonic() + GONE_WITHIN
            while (marked(token) or is_listening(port)) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert marked(token) == {}, server.output()
            assert not is_listening(port), server.output()
    finally:
        for pid in marked(token):  # whatever a failure left, by PID: the test's own processes only
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
