"""A secret as a file (SPEC §11): `{from: …, as: file}` gives the variable a path to a file that dies with the command.

The command is run as a user runs it; the test reads the path the command got, from outside, while the command
runs, and looks again once it has ended: normally, with an error, by SIGTERM and by SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import COMMAND, Project

PEM = "-----BEGIN CERTIFICATE-----\nMIIB-canary-line\n-----END CERTIFICATE-----\n"
FETCHED = '{"type": "service_account", "private_key": "canary-fetched-key"}'
# Prints the path and what it holds (JSON), then ends as asked: exit CODE, or wait for a signal.
_REPORT = (
    "import json, os, sys, time, subprocess\n"
    "path = os.environ[sys.argv[1]]\n"
    "child = subprocess.run([sys.executable, '-c', 'import sys; print(open(sys.argv[1]).read(), end=\"\")', path],"
    " capture_output=True, text=True).stdout\n"  # a process the command starts reads it too
    "print(json.dumps({'path': path, 'content': open(path).read(), 'child': child}), flush=True)\n"
    "if sys.argv[2] == 'wait':\n"
    "    time.sleep(60)\n"
    "sys.exit(int(sys.argv[2]) if sys.argv[2] != 'wait' else 0)\n"
)


def _op_on_path(tmp_path: Path) -> dict[str, str]:
    """A stand-in for 1Password's `op read --no-newline REF` (test_references.py's), printing FETCHED."""
    folder = tmp_path / "bin"
    folder.mkdir()
    op = folder / "op"
    op.write_text(f"#!/bin/sh\nprintf '%s' '{FETCHED}'\n")
    op.chmod(op.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(_empty(tmp_path / "tmp"))}


def _empty(folder: Path) -> Path:
    folder.mkdir()
    return folder


SETTINGS = (
    "mlflow_tracking_client_cert_path:\n"
    f"  from: {json.dumps(PEM)}\n"
    "  as: file\n"
    "env:\n"
    "  GOOGLE_APPLICATION_CREDENTIALS: {from: op://ml/gcp/key, as: file}\n"
)


def _start(
    project: Project, env: dict[str, str], variable: str, end: str
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    argv = [COMMAND, "run", "--", sys.executable, "-c", _REPORT, variable, end]
    process = subprocess.Popen(
        argv, cwd=project.root, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.communicate()
    report: dict[str, str] = json.loads(line)
    return process, report


@pytest.mark.parametrize(
    ("variable", "content"),
    [
        pytest.param("MLFLOW_TRACKING_CLIENT_CERT_PATH", PEM, id="literal-mlflow-key"),
        pytest.param("GOOGLE_APPLICATION_CREDENTIALS", FETCHED, id="reference-env-entry"),
    ],
)
@pytest.mark.parametrize("end", ["0", "3", "SIGTERM", "SIGKILL"])
def test_the_file_holds_the_secret_and_dies_with_the_command(
    project: Project, tmp_path: Path, variable: str, content: str, end: str
) -> None:
    """The command, and a process it starts, read the value byte for byte from a 0600 file outside the project
    and outside any folder on disk; once the command ends, however it ends, the path leads nowhere."""
    project.write("settings/mlflow.yml", SETTINGS)
    env = _op_on_path(tmp_path)
    process, report = _start(project, env, variable, end if end.isdigit() else "wait")
    path = report["path"]
    assert report["content"] == content
    assert report["child"] == content
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not Path(path).resolve().is_relative_to(project.root)
    assert path.startswith(f"/proc/{process.pid}/fd/")  # the command's own: no other process keeps it
    if not end.isdigit():
        process.send_signal(getattr(signal, end))
    process.communicate(timeout=60)
    assert process.returncode == (int(end) if end.isdigit() else -getattr(signal, end))
    assert not os.path.exists(path)
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert not any(content in p.read_text(errors="replace") for p in project.root.rglob("*") if p.is_file())


def test_printing_commands_show_the_reference_and_mask_the_content(project: Project, tmp_path: Path) -> None:
    """`show`, `env` and `explain` print `{from: REFERENCE, as: file}` as written, and a literal's content never."""
    project.write("settings/mlflow.yml", SETTINGS)
    env = _op_on_path(tmp_path)
    for args in (
        ("show",),
        ("env",),
        ("explain", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("run", "--dry-run", "--", "true"),
    ):
        result = project.cli(*args, env=env)
        assert result.returncode == 0, result
        assert "{from: op://ml/gcp/key, as: file}" in result.stdout, result
        assert "canary" not in result.stdout + result.stderr, result


def test_configure_gives_the_notebook_a_file_it_can_read(project: Project, tmp_path: Path) -> None:
    """configure() in a notebook's process: the variable is a path the notebook (and what it starts) reads."""
    project.write("settings/mlflow.yml", SETTINGS)
    script = (
        "import os, layered_mlflow, json\n"
        f"layered_mlflow.configure(project_dir={str(project.root)!r})\n"
        "print(json.dumps([open(os.environ[n]).read() for n in "
        "('MLFLOW_TRACKING_CLIENT_CERT_PATH', 'GOOGLE_APPLICATION_CREDENTIALS')]))\n"
    )
    env = {**os.environ, **_op_on_path(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [PEM, FETCHED]


def test_a_failed_fetch_names_the_reference_inside(project: Project, tmp_path: Path) -> None:
    """A reference inside `{from: …}` that cannot be fetched is the usual one-line error, and nothing starts."""
    project.write("settings/mlflow.yml", "env:\n  GOOGLE_APPLICATION_CREDENTIALS: {from: op://ml/gcp/key, as: file}\n")
    marker = tmp_path / "started"
    result = project.cli("run", "--", "touch", str(marker), env={"PATH": str(_empty(tmp_path / "bin"))})
    assert result.returncode == 2, result
    assert result.stderr.startswith(
        "layered-mlflow: error: env.GOOGLE_APPLICATION_CREDENTIALS (settings/mlflow.yml) = op://ml/gcp/key: "
    )
    assert not marker.exists()
