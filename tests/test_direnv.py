"""SPEC §15, direnv: the documented `.envrc` (examples/direnv/.envrc) loaded by Debian's `direnv`, as a shell would.

`direnv exec` gives a command what `layered-mlflow env --show-secrets` prints, secrets included (the page says
so plainly); `direnv export json`, which a shell's prompt hook runs, reloads once a watched settings file changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project

ENVRC = Path(__file__).parent.parent / "examples" / "direnv" / ".envrc"
SETTINGS = "mlflow_tracking_uri: sqlite:///dev.db\nmlflow_tracking_password: CANARY-pw\n"


@pytest.fixture
def direnv(project: Project, tmp_path: Path) -> dict[str, str]:
    """The environment direnv runs in (its own config and data folders), with the project's `.envrc` allowed."""
    assert shutil.which("direnv"), "Debian's direnv is needed (.ci/run installs it): apt-get install direnv"
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    project.write("settings/mlflow.yml", SETTINGS)
    shutil.copy(ENVRC, project.root / ".envrc")
    subprocess.run(["direnv", "allow", str(project.root)], env=env, check=True, capture_output=True)
    return env


def test_direnv_exec_gives_what_env_prints_secrets_included(project: Project, direnv: dict[str, str]) -> None:
    """Every variable `layered-mlflow env --show-secrets` prints reaches the command, the password among them."""
    printed = project.cli("env", "--format", "json", "--show-secrets").json()
    probe = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
    done = subprocess.run(["direnv", "exec", str(project.root), *probe], env=direnv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    inside = json.loads(done.stdout)
    assert {name: inside.get(name) for name in printed} == printed
    assert inside["MLFLOW_TRACKING_PASSWORD"] == "CANARY-pw"  # noqa: S105 (the test's own canary)


def test_a_changed_settings_file_is_reloaded_by_the_prompt_hook(project: Project, direnv: dict[str, str]) -> None:
    """As a shell's hook does at each prompt: loaded once, nothing to do while nothing changes, and the new value
    once settings/mlflow.yml changes, or `.env` (watched before it exists) appears."""

    def export(shell: dict[str, str]) -> dict[str, str | None]:
        done = subprocess.run(
            ["direnv", "export", "json"], cwd=project.root, env=shell, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def apply(shell: dict[str, str], change: dict[str, str | None]) -> dict[str, str]:
        kept = {name: value for name, value in shell.items() if change.get(name, value) is not None}
        return kept | {name: value for name, value in change.items() if value is not None}

    shell = apply(direnv, export(direnv))
    assert shell["MLFLOW_TRACKING_URI"] == f"sqlite:///{project.root / 'dev.db'}"
    assert export(shell) == {}  # nothing changed: nothing to do
    for relative, text, store in [
        ("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///changed.db\n", "changed.db"),
        (".env", "MLFLOW_TRACKING_URI=sqlite:///dotenv.db\n", "dotenv.db"),
    ]:
        path = project.write(relative, text)
        later = os.stat(path).st_mtime + 2  # direnv compares modification times in seconds
        os.utime(path, (later, later))
        shell = apply(shell, export(shell))
        assert shell["MLFLOW_TRACKING_URI"] == f"sqlite:///{project.root / store}"
