"""SPEC §9, for real: a bare environment, a read-only project tree, and `run` as PID 1.

No Docker daemon is needed: `env -i` gives the bare environment, and (as root)
`unshare` gives the mount and PID namespaces a container runtime would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import COMMAND, Project


def _namespaces_unavailable(*flags: str) -> str | None:
    """Why `unshare FLAGS` cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: unshare and mount create namespaces as a container runtime does"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", *flags, "true"], capture_output=True, check=False)
    return f"unshare {' '.join(flags)} is not permitted here" if probe.returncode else None


def parse_env0(output: bytes) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in output.decode().split("\0") if entry)


@pytest.fixture
def image(project: Project, tmp_path: Path) -> Project:
    """A project as baked into an image: settings for production, a secret mounted beside it."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\ntags:\n  project: demo\n")
    project.write(
        "settings/mlflow.production.yml",
        "mlflow_tracking_uri: https://mlflow.example.com\nmlflow_experiment_name: churn\n",
    )
    secret = tmp_path / "run" / "secrets" / "mlflow-password"
    secret.parent.mkdir(parents=True)
    secret.write_text("pw-from-secret\n")
    return project


@pytest.mark.parametrize(
    ("injected", "tracking_uri"),
    [
        pytest.param({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5999"}, "http://127.0.0.1:5999", id="injected-uri-wins"),
        pytest.param({}, "https://mlflow.example.com", id="uri-from-the-baked-settings"),
    ],
)
def test_bare_container_environment(
    image: Project, tmp_path: Path, injected: dict[str, str], tracking_uri: str
) -> None:
    """`env -i`: only PATH and injected variables, no HOME, no .env, cwd `/`, project named by a variable."""
    orchestrator = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "ENV_FOR_DYNACONF": "production",
        "LAYERED_MLFLOW_PROJECT_DIR": str(image.root),
        "MLFLOW_TRACKING_PASSWORD_FILE": str(tmp_path / "run/secrets/mlflow-password"),
        **injected,
    }
    before = sorted(image.root.rglob("*"))
    argv = ["env", "-i", *(f"{k}={v}" for k, v in orchestrator.items()), COMMAND, "run", "--", "env", "-0"]
    result = subprocess.run(argv, cwd="/", capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    child = parse_env0(result.stdout)
    assert child == {
        "PATH": orchestrator["PATH"],
        "ENV_FOR_DYNACONF": "production",
        "LAYERED_MLFLOW_PROJECT_DIR": str(image.root),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_EXPERIMENT_NAME": "churn",
        "MLFLOW_TRACKING_PASSWORD": "pw-from-secret",
        "MLFLOW_RUN_CONTEXT": '{"layered_mlflow.env": "production", "project": "demo"}',
        "LAYERED_MLFLOW_ENV": "production",
    }
    assert sorted(image.root.rglob("*")) == before  # nothing written


def test_bare_environment_default_store_is_anchored_to_the_root(project: Project) -> None:
    """With no HOME and cwd `/`, the default `mlruns` is still the project's, not `/mlruns`."""
    argv = ["env", "-i", "PATH=/usr/bin:/bin", f"LAYERED_MLFLOW_PROJECT_DIR={project.root}", COMMAND, "env"]
    result = subprocess.run(argv, cwd="/", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert f'MLFLOW_TRACKING_URI="{(project.root / "mlruns").as_uri()}"' in result.stdout.splitlines()


# Bind-mount the project onto itself, make that mount read-only, check it is, then run the rest.
READ_ONLY = (
    'set -e; mount --bind "$0" "$0"; mount -o remount,ro,bind "$0" "$0"; '
    'if touch "$0/.probe" 2>/dev/null; then echo "still writable" >&2; exit 99; fi; cd /; exec "$@"'
)


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        pytest.param(["run", "--", "env"], "", id="run"),
        pytest.param(["env", "--format", "shell", "--show-secrets"], "export ", id="env-shell"),
        pytest.param(["env", "--format", "docker", "--show-secrets"], "", id="env-docker"),
    ],
)
def test_read_only_project_tree(image: Project, command: list[str], prefix: str) -> None:
    """In a read-only bind mount (unshare -m), resolution writes nothing and works: files, .env, X_FILE."""
    reason = _namespaces_unavailable("-m")
    if reason:
        pytest.skip(reason)
    image.write("settings/mlflow.local.yml", "mlflow_http_request_timeout: 30\n")
    image.write(".env", "FROM_DOTENV=yes\n")
    image.write("secrets/pw", "pw-read-only\n")
    env = {**os.environ, "ENV_FOR_DYNACONF": "production", "MLFLOW_TRACKING_PASSWORD_FILE": "secrets/pw"}
    argv = ["unshare", "-m", "sh", "-c", READ_ONLY, str(image.root), COMMAND, "--project-dir", str(image.root)]
    result = subprocess.run([*argv, *command], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    expected = ["MLFLOW_EXPERIMENT_NAME=churn", "MLFLOW_HTTP_REQUEST_TIMEOUT=30", "FROM_DOTENV=yes"]
    expected.append("MLFLOW_TRACKING_PASSWORD=pw-read-only")
    assert {prefix + line for line in expected} <= set(result.stdout.splitlines()), result.stdout


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (host PIDs), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


HANDLER = """
import os, pathlib, signal, sys, time

def stop(signum, frame):
    pathlib.Path(sys.argv[1]).write_text(f"{os.getpid()} {signum}")
    sys.exit(42)

if sys.argv[3] == "handler":
    signal.signal(signal.SIGTERM, stop)
pathlib.Path(sys.argv[2]).write_text(str(os.getpid()))
time.sleep(60)
"""


def _start_as_pid_1(project: Project, tmp_path: Path, mode: str) -> tuple[subprocess.Popen[bytes], int]:
    """`unshare --pid --fork --mount-proc layered-mlflow run -- python handler.py`; (unshare, host PID of PID 1)."""
    reason = _namespaces_unavailable("--pid", "--fork", "--mount-proc")
    if reason:
        pytest.skip(reason)
    script = project.write("handler.py", HANDLER)
    seen, ready = tmp_path / "seen", tmp_path / "ready"
    argv = ["unshare", "--pid", "--fork", "--mount-proc", COMMAND, "run", "--", sys.executable, str(script)]
    process = subprocess.Popen([*argv, str(seen), str(ready), mode], cwd=project.root)
    deadline = time.monotonic() + 60
    while not ready.exists() or not ready.read_text():
        assert time.monotonic() < deadline, "handler.py never started"
        assert process.poll() is None, "unshare ended early"
        time.sleep(0.05)
    assert ready.read_text() == "1"  # the training script itself is the namespace's PID 1
    (pid_1,) = _children(process.pid)
    return process, pid_1


def test_sigterm_reaches_the_script_as_pid_1(project: Project, tmp_path: Path) -> None:
    """`run` execs, so the script is PID 1: `docker stop`'s SIGTERM reaches its handler, and its status is ours."""
    process, pid_1 = _start_as_pid_1(project, tmp_path, "handler")
    os.kill(pid_1, signal.SIGTERM)
    assert process.wait(timeout=30) == 42
    assert (tmp_path / "seen").read_text() == f"1 {int(signal.SIGTERM)}"


def test_pid_1_without_a_handler_ignores_sigterm(project: Project, tmp_path: Path) -> None:
    """The kernel's rule the containers page warns about: PID 1 gets only the signals it handles (SIGKILL aside)."""
    process, pid_1 = _start_as_pid_1(project, tmp_path, "no-handler")
    try:
        os.kill(pid_1, signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1)
    finally:
        os.kill(pid_1, signal.SIGKILL)
        process.wait(timeout=30)
