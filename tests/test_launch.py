"""The plain command lines of `run`, `show` and `env`, parsed without click, mean exactly what click makes of them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layered_mlflow.cli.launch import plain
from layered_mlflow.cli.main import cli
from tests.conftest import COMMAND, Project

Parsed = tuple[dict[str, Any], str, dict[str, Any]]
# What each command's click parameters mean on the plain path; None: a form the plain path leaves to click.
PLAIN_PARAMS: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "run": lambda p: None if p["dry_run"] else {"command": p["command"]},
    "show": lambda p: {"fmt": p["fmt"], "show_secrets": p["show_secrets"]},
    "env": lambda p: None if p["github_env"] else {"fmt": p["fmt"], "show_secrets": p["show_secrets"]},
}


def click_parsed(argv: list[str]) -> Parsed | None:
    """The global options, command and parameters click parses from ``argv``, if the plain path takes the command."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # click 8.2 deprecates protected_args (9: in args)
            ctx = cli.make_context("layered-mlflow", list(argv))
            words = [*getattr(ctx, "protected_args", []), *ctx.args]
        if not words or words[0] not in PLAIN_PARAMS:
            return None
        command = cli.get_command(ctx, words[0])
        assert command is not None
        own = command.make_context(words[0], words[1:], parent=ctx)
    except (click.ClickException, click.exceptions.Exit):
        return None
    params = PLAIN_PARAMS[words[0]](own.params)
    return None if params is None else (ctx.params, words[0], params)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["run", "--", "python", "train.py"], id="run-dashes"),
        pytest.param(["run", "python", "train.py", "--epochs", "3"], id="run-no-dashes"),
        pytest.param(["--env", "production", "run", "--", "true"], id="env"),
        pytest.param(["--env=production", "run", "--", "true"], id="env-equals"),
        pytest.param(["--env=", "run", "--", "true"], id="env-empty"),
        pytest.param(["--set", "tags.a=1", "--set=tags.b=2", "run", "--", "true"], id="set-twice"),
        pytest.param(["--set", "a", "run", "--", "true"], id="set-without-equals"),
        pytest.param(["--env-file", "a.env", "--env-file", "b.env", "run", "--", "true"], id="env-files"),
        pytest.param(["--project-dir", "/p", "-v", "-q", "run", "--", "true"], id="dir-and-flags"),
        pytest.param(["--verbose", "--quiet", "run", "--", "-x"], id="long-flags-command-like-option"),
        pytest.param(["run", "--", "--", "x"], id="dashes-twice"),
        pytest.param(["run", "--", "run", "--env", "x"], id="command-named-run"),
        pytest.param(["--env", "a", "--env", "b", "run", "--", "true"], id="env-twice"),
        pytest.param(["--set", "run", "run", "--", "true"], id="value-named-run"),
        pytest.param(["show"], id="show"),
        pytest.param(["--env", "production", "show", "--format", "json", "--show-secrets"], id="show-json-secrets"),
        pytest.param(["show", "--format=json", "--format", "text"], id="show-format-twice"),
        pytest.param(["env"], id="env"),
        pytest.param(["-q", "env", "--format", "shell"], id="env-shell"),
        pytest.param(["env", "--show-secrets", "--format=github", "--show-secrets"], id="env-github-secrets"),
        pytest.param(["--set", "env", "env"], id="value-named-env"),
    ],
)
def test_the_plain_forms_are_parsed_as_click_parses_them(argv: list[str]) -> None:
    """Each common line takes the fast path, with the options, command and parameters click would give."""
    parsed = plain(argv)
    assert parsed is not None
    assert parsed == click_parsed(argv)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["run", "--dry-run", "--", "true"], id="dry-run"),
        pytest.param(["run", "--help"], id="run-help"),
        pytest.param(["--help"], id="help"),
        pytest.param(["--version"], id="version"),
        pytest.param(["run"], id="no-command"),
        pytest.param(["run", "--"], id="dashes-no-command"),
        pytest.param(["-vq", "run", "--", "true"], id="combined-flags"),
        pytest.param(["--env", "-q", "run", "--", "true"], id="value-like-an-option"),
        pytest.param(["--env"], id="value-missing"),
        pytest.param(["--quiet=1", "run", "--", "true"], id="flag-with-value"),
        pytest.param(["--bogus", "run", "--", "true"], id="unknown-option"),
        pytest.param(["explain", "mlflow_tracking_uri"], id="another-command"),
        pytest.param(["show", "--help"], id="show-help"),
        pytest.param(["show", "--format", "yaml"], id="show-not-a-choice"),
        pytest.param(["show", "--format"], id="show-format-missing"),
        pytest.param(["show", "extra"], id="show-extra-argument"),
        pytest.param(["show", "--show-secrets=1"], id="show-flag-with-value"),
        pytest.param(["env", "--github-env"], id="env-github-env"),
        pytest.param(["env", "--format", "text"], id="env-not-a-choice"),
        pytest.param(["--", "run", "true"], id="dashes-first"),
        pytest.param([], id="nothing"),
    ],
)
def test_everything_else_is_left_to_click(argv: list[str]) -> None:
    """Help, --dry-run, combined flags and mistakes go to click, so its output and errors are click's."""
    assert plain(argv) is None


WORDS = st.sampled_from(
    [
        *("--env", "--env=x", "--project-dir", "--project-dir=/p", "--env-file", "--env-file=e"),
        *("--set", "--set=a=b", "-v", "-q", "--verbose", "--quiet", "-vq", "-h", "--help", "--version"),
        *("run", "show", "--", "--dry-run", "-x", "--x", "true", "a=b", "", "-", "=", "--set=", "x y"),
        *("env", "--format", "--format=json", "json", "shell", "text", "--show-secrets", "--github-env"),
    ]
)


@given(argv=st.lists(WORDS, max_size=8))
def test_generated_command_lines_parse_as_click_parses_them(argv: list[str]) -> None:
    """Over generated command lines, the hand parser either defers to click or agrees with it exactly."""
    parsed = plain(argv)
    if parsed is not None:
        assert parsed == click_parsed(argv)


# Starts the console script in-process; at exec or exit, says on stderr whether click was imported.
PROBE = """
import atexit, json, os, sys
atexit.register(lambda: print("click" in sys.modules, file=sys.stderr))
os.execvpe = os.execve = lambda *args: sys.exit(0)
sys.argv = ["layered-mlflow", *json.loads(sys.argv[1])]
from layered_mlflow.cli.launch import main
main()
"""


@pytest.mark.parametrize(
    ("argv", "imported"),
    [
        pytest.param(["--set", "tags.team=vision", "run", "--", "true"], "False", id="plain"),
        pytest.param(["-vq", "run", "--", "true"], "True", id="through-click"),
        pytest.param(["show", "--format", "json"], "False", id="show"),
        pytest.param(["env", "--format", "shell", "--show-secrets"], "False", id="env"),
        pytest.param(["env", "--format", "docker", "--github-env"], "True", id="env-through-click"),
    ],
)
def test_the_plain_forms_do_not_import_click(project: Project, argv: list[str], imported: str) -> None:
    """`run -- CMD` reaches exec, and `show`/`env` their output, without importing click; other lines import it."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\n")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GITHUB_ENV": str(project.root / "github.env")},
    )
    assert done.stderr.splitlines()[-1:] == [imported], done


def test_a_mistake_on_the_plain_path_is_one_line(project: Project) -> None:
    """An error found after the hand parser (a `--set` without `=`) is click's one line and exit 2."""
    refused = project.cli("--set", "MLFLOW_TRACKING_URI", "run", "--", "true")
    assert (refused.returncode, refused.stdout) == (2, ""), refused
    assert refused.stderr.startswith("layered-mlflow: error: --set MLFLOW_TRACKING_URI: expected KEY=VALUE"), refused
    assert len(refused.stderr.splitlines()) == 1, refused


@pytest.mark.parametrize(
    "argv",
    [pytest.param(["env", "--show-secrets"], id="plain"), pytest.param(["-vq", "env", "--show-secrets"], id="click")],
)
def test_interrupted_while_fetching_is_clicks_message(project: Project, argv: list[str]) -> None:
    """Ctrl-C while `op read` waits (for the user to authorize, say): a new line, then `interrupted`, 130, both ways."""
    started = project.root / "op.pid"
    project.write("bin/op", f"#!/bin/sh\necho $$ > {started}.tmp && mv {started}.tmp {started}\nexec sleep 60\n")
    (project.root / "bin" / "op").chmod(0o755)
    project.write("settings/mlflow.yml", "env:\n  WANDB_API_KEY: op://ml/wandb/key\n")
    environment = {**os.environ, "PATH": f"{project.root / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    command = subprocess.Popen(
        [COMMAND, *argv], cwd=project.root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        for _ in range(600):  # until the stand-in `op` has started: the command is waiting on it
            if started.exists() or command.poll() is not None:
                break
            time.sleep(0.05)
        command.send_signal(signal.SIGINT)
        stdout, stderr = command.communicate(timeout=60)
    finally:
        if started.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(started.read_text()), signal.SIGKILL)
    assert (command.returncode, stdout, stderr) == (130, b"", b"\nlayered-mlflow: error: interrupted\n")
