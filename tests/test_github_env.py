"""`env --github-env`: the variables appended to $GITHUB_ENV unmasked, and an ::add-mask:: line per secret line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from layered_mlflow.cli.github import escape
from tests.conftest import Project

SETTINGS = """\
mlflow_tracking_uri: https://bot:uri-pass@127.0.0.1:1
mlflow_experiment_name: churn
env:
  SSH_PRIVATE_KEY: "-----BEGIN KEY-----\\nab%cd\\r\\n-----END KEY-----"
"""


def test_it_appends_the_variables_and_masks_each_secret_line(project: Project, tmp_path: Path) -> None:
    """GITHUB_ENV gets the real values (heredoc for a multi-line one); stdout only the escaped mask commands."""
    target = tmp_path / "github_env"
    target.write_text("EARLIER=kept\n")
    project.write("settings/mlflow.yml", SETTINGS)
    result = project.cli("env", "--github-env", env={"GITHUB_ENV": str(target), "MLFLOW_TRACKING_PASSWORD": "p@ss%w"})
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::ab%25cd",
        "::add-mask::-----END KEY-----",
        "::add-mask::p@ss%25w",
        "::add-mask::uri-pass",
    ]
    written = target.read_bytes().decode()  # bytes: text mode would turn the value's \r\n into \n
    assert written.startswith("EARLIER=kept\n")
    assert "MLFLOW_TRACKING_PASSWORD=p@ss%w\n" in written
    assert "MLFLOW_TRACKING_URI=https://bot:uri-pass@127.0.0.1:1\n" in written
    assert "MLFLOW_EXPERIMENT_NAME=churn\n" in written
    assert "SSH_PRIVATE_KEY<<LAYERED_MLFLOW_EOF_" in written
    assert "-----BEGIN KEY-----\nab%cd\r\n-----END KEY-----\n" in written


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Driver=x;Uid=sa;Pwd={a;CANARY-odbc}", id="odbc-braced"),
        pytest.param("host=db password='a CANARY-libpq' user=u", id="libpq-quoted"),
    ],
)
def test_a_quoted_connection_string_password_gets_a_mask(project: Project, tmp_path: Path, value: str) -> None:
    """A connection string whose password is quoted (and holds `;` or a space) is masked in the logs whole."""
    target = tmp_path / "github_env"
    result = project.cli("--set", f"env.DB_DSN={value}", "env", "--github-env", env={"GITHUB_ENV": str(target)})
    assert result.returncode == 0, result
    assert f"::add-mask::{value}" in result.stdout.splitlines(), result
    assert f"DB_DSN={value}\n" in target.read_text()
    shown = project.cli("--set", f"env.DB_DSN={value}", "env")
    assert "CANARY" not in shown.stdout + shown.stderr, shown


def test_it_needs_github_env(project: Project) -> None:
    """Outside GitHub Actions (no GITHUB_ENV) it is exit 2, saying how to print the lines instead."""
    result = project.cli("env", "--github-env")
    assert result.returncode == 2, result
    assert "GITHUB_ENV is not set (hint: run it in a GitHub Actions step, or use --format github" in result.stderr


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("50%", "50%25", id="percent"),
        pytest.param("%0A", "%250A", id="an-escape-written-literally"),
        pytest.param("a\rb", "a%0Db", id="carriage-return"),
        pytest.param("a\nb", "a%0Ab", id="line-feed"),
    ],
)
def test_escape_follows_githubs_workflow_commands(text: str, escaped: str) -> None:
    """Workflow-command data: %, CR and LF escaped, % first, so the runner reads back the value itself."""
    assert escape(text) == escaped


@pytest.mark.parametrize("reader", [pytest.param(False, id="fifo-without-reader"), pytest.param(True, id="fifo-read")])
def test_a_fifo_is_refused_not_waited_on(project: Project, tmp_path: Path, reader: bool) -> None:
    """GITHUB_ENV naming a FIFO is exit 2 at once (it hung), whether or not something reads it."""
    fifo = tmp_path / "github_env"
    os.mkfifo(fifo)
    read_end = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK) if reader else None  # a reader, there at once
    try:
        result = project.cli("env", "--github-env", env={"GITHUB_ENV": str(fifo)}, timeout=30)
    finally:
        if read_end is not None:
            os.close(read_end)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: GITHUB_ENV={fifo}: not a regular file"), result


def test_a_device_is_refused(project: Project) -> None:
    """GITHUB_ENV=/dev/null is no file GitHub's runner reads back: exit 2, nothing lost silently."""
    result = project.cli("env", "--github-env", env={"GITHUB_ENV": "/dev/null"})
    assert result.returncode == 2, result
    assert "not a regular file" in result.stderr, result
