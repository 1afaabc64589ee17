"""SPEC §15, pre-commit: this repository is a hook source, `layered-mlflow-check`, run by pre-commit itself.

A throw-away git repository names a clone of this checkout (with the working tree's `.pre-commit-hooks.yaml`)
in its `.pre-commit-config.yaml`, as a user's project names this repository; pre-commit clones it from the
local path and runs the hook with no network: `language: system` installs nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
PRE_COMMIT = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or "pre-commit"
GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t"}
GIT |= {"GIT_COMMITTER_EMAIL": "t@localhost", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, env={**os.environ, **GIT}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def hook_source(tmp_path: Path) -> tuple[Path, str]:
    """A clone of this checkout with the working tree's hook manifest committed: the path and that commit."""
    source = tmp_path / "layered-mlflow"
    git(tmp_path, "clone", "--quiet", str(REPO), str(source))
    shutil.copy(REPO / ".pre-commit-hooks.yaml", source / ".pre-commit-hooks.yaml")
    git(source, "add", ".pre-commit-hooks.yaml")
    git(source, "commit", "--quiet", "--allow-empty", "-m", "the hook manifest under test")
    return source, git(source, "rev-parse", "HEAD")


def pre_commit(project: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit ARGS`` in ``project``, with its own cache folder, the test's `layered-mlflow` first on PATH."""
    env = {**os.environ, **GIT, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    argv = [PRE_COMMIT, *args]
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_hook_fails_on_a_warning_and_passes_once_it_is_fixed(tmp_path: Path, hook_source: tuple[Path, str]) -> None:
    """A misspelt key (a warning, an error under --strict) fails the commit's check, in any environment; fixed, it
    passes; a change to no settings file skips the hook."""
    source, commit = hook_source
    project = tmp_path / "project"
    (project / "settings").mkdir(parents=True)
    config = f"repos:\n  - repo: {source}\n    rev: {commit}\n    hooks:\n      - id: layered-mlflow-check\n"
    (project / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    (project / "settings/mlflow.yml").write_text("mlflow_tracking_uri: sqlite:///mlflow.db\n", encoding="utf-8")
    (project / "settings/mlflow.production.yml").write_text("mlflow_traking_uri: x\n", encoding="utf-8")
    (project / "README.md").write_text("a project\n", encoding="utf-8")
    git(project, "init", "--quiet")
    git(project, "add", ".")

    failed = pre_commit(project, tmp_path, "run", "--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "layered-mlflow check" in failed.stdout
    assert "production: 1 error, 0 warnings" in failed.stdout, failed.stdout
    assert "error: mlflow_traking_uri (settings/mlflow.production.yml)" in failed.stdout, failed.stdout

    (project / "settings/mlflow.production.yml").write_text("mlflow_tracking_uri: sqlite:///p.db\n", encoding="utf-8")
    git(project, "add", ".")
    passed = pre_commit(project, tmp_path, "run", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    skipped = pre_commit(project, tmp_path, "run", "--files", "README.md")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "(no files to check)Skipped" in skipped.stdout, skipped.stdout
