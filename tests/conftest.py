"""Shared fixtures: a clean environment, temporary projects, and the installed command."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Variables from the developer's shell that would change what the tool resolves.
_STRAY_PREFIXES = ("MLFLOW_", "LAYERED_MLFLOW_", "DYNACONF_")
_STRAY_NAMES = ("ENV_FOR_DYNACONF", "KEDRO_ENV", "PROJECT_ROOT")

COMMAND = shutil.which("layered-mlflow", path=os.path.dirname(sys.executable)) or "layered-mlflow"
# Root reads files whatever their mode; without these two capabilities it obeys the mode as any user
# does. (Not uid 65534: that user cannot reach a virtual environment or a checkout inside root's
# private temporary folders, as CI's are.)
DROP_FILE_PRIVILEGES = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
# Telemetry off in every process a test starts: MLflow's (which reads DO_NOT_TRACK, only as "true") and
# Kedro's would reach past 127.0.0.1. MLflow's own MLFLOW_DISABLE_TELEMETRY says the same, but as an MLFLOW_*
# variable of the environment it would be one of the resolved settings every test compares.
NO_TELEMETRY = {"DO_NOT_TRACK": "true", "KEDRO_DISABLE_TELEMETRY": "true"}
# Set here, as pytest imports this file: before any test module imports mlflow, whose telemetry starts at
# import (outside CI it would run in pytest's own process, and leave its session id in the environment every
# test's process inherits). Every process a test starts inherits it; no test can forget it.
os.environ.update(NO_TELEMETRY)
# A child that reports the environment it was given, as JSON on stdout.
PRINT_ENV = [sys.executable, "-c", "import json, os, sys; json.dump(dict(os.environ), sys.stdout)"]


def _is_stray(name: str) -> bool:
    return name.startswith(_STRAY_PREFIXES) or name.endswith("_FOR_DYNACONF") or name in _STRAY_NAMES


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the developer's shell reaches the tool under test, and its cache is the test's own."""
    for name in [name for name in os.environ if _is_stray(name)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@dataclass(frozen=True)
class Result:
    """A finished command; its repr shows everything, so a failed assert explains itself."""

    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:
        return (
            f"$ {' '.join(self.args)}\nexit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )

    def json(self) -> Any:  # a JSON document: its shape is for each test to assert
        return json.loads(self.stdout)


class Project:
    """A temporary project folder, and the installed `layered-mlflow` run inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def write_bytes(self, relative: str, data: bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def cli(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        base_env: Mapping[str, str] | None = None,
        timeout: float = 120,
        unprivileged: bool = False,
    ) -> Result:
        """Run ``layered-mlflow ARGS`` with the clean environment plus ``env``.

        ``unprivileged``: without root's power to read any file, so that file modes count.
        """
        environment = dict(os.environ if base_env is None else base_env)
        environment.update(env or {})
        argv = [COMMAND, *args]
        if unprivileged and os.geteuid() == 0:
            argv = [*DROP_FILE_PRIVILEGES, *argv]
        # A session of its own: on a timeout the whole group goes, not only the direct child (an
        # `mlflow ui` left listening for an hour by one broken test).
        process = subprocess.Popen(
            argv,
            cwd=self.root if cwd is None else cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:  # the timeout, or the test run interrupted
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return Result(argv, process.returncode, stdout, stderr)

    def child_env(self, *args: str, **kwargs: object) -> dict[str, str]:
        """The environment `layered-mlflow [ARGS] run` gives its command."""
        result = self.cli(*args, "run", "--", *PRINT_ENV, **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, result
        environment: dict[str, str] = result.json()
        return environment


def client_query(tracking_uri: str, script: str) -> object:
    """Run ``script`` (which prints JSON) against ``tracking_uri`` in a fresh interpreter."""
    env = {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "PATH": "/usr/bin:/bin",
        **NO_TELEMETRY,  # an environment of its own: the session's does not reach it
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """An empty project folder with a `settings/` folder and no files yet."""
    root = tmp_path / "project"
    (root / "settings").mkdir(parents=True)
    return Project(root)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the times that tests recorded (`record_property("server_startup_s", …)`, `"check_online_s"`)."""
    titles = {
        "server_startup_s": "server start-up (seconds from start to /health OK)",
        "check_online_s": "check --online (seconds)",
        "race_duplicates": "--shared-run races: duplicate runs created, then deleted unused (SPEC §14)",
    }
    for recorded, title in titles.items():
        timings = [
            (value, report.nodeid)
            for report in terminalreporter.stats.get("passed", [])
            for name, value in report.user_properties
            if name == recorded
        ]
        if timings:
            terminalreporter.section(title)
            for seconds, nodeid in timings:
                terminalreporter.write_line(f"{seconds:6.2f}  {nodeid}")
