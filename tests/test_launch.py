"""`run`'s plain command line, parsed without click, means exactly what click makes of it."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layered_mlflow.cli import cli
from layered_mlflow.launch import plain_run
from tests.conftest import Project

Parsed = tuple[dict[str, Any], tuple[str, ...]]


def click_run(argv: list[str]) -> Parsed | None:
    """The global options and command click parses from ``argv``, if it is `run` without --dry-run."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # click 8.2 deprecates protected_args (9: in args)
            ctx = cli.make_context("layered-mlflow", list(argv))
            words = [*getattr(ctx, "protected_args", []), *ctx.args]
        if not words or words[0] != "run":
            return None
        run = cli.get_command(ctx, "run")
        assert run is not None
        own = run.make_context("run", words[1:], parent=ctx)
    except (click.ClickException, click.exceptions.Exit):
        return None
    if own.params["dry_run"]:
        return None
    return ctx.params, own.params["command"]


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
    ],
)
def test_the_plain_forms_are_parsed_as_click_parses_them(argv: list[str]) -> None:
    """Each common `run` line takes the fast path, with the options and command click would give."""
    parsed = plain_run(argv)
    assert parsed is not None
    assert parsed == click_run(argv)


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
        pytest.param(["show"], id="another-command"),
        pytest.param(["--", "run", "true"], id="dashes-first"),
        pytest.param([], id="nothing"),
    ],
)
def test_everything_else_is_left_to_click(argv: list[str]) -> None:
    """Help, --dry-run, combined flags and mistakes go to click, so its output and errors are click's."""
    assert plain_run(argv) is None


WORDS = st.sampled_from(
    [
        *("--env", "--env=x", "--project-dir", "--project-dir=/p", "--env-file", "--env-file=e"),
        *("--set", "--set=a=b", "-v", "-q", "--verbose", "--quiet", "-vq", "-h", "--help", "--version"),
        *("run", "show", "--", "--dry-run", "-x", "--x", "true", "a=b", "", "-", "=", "--set=", "x y"),
    ]
)


@given(argv=st.lists(WORDS, max_size=8))
def test_generated_command_lines_parse_as_click_parses_them(argv: list[str]) -> None:
    """Over generated command lines, the hand parser either defers to click or agrees with it exactly."""
    parsed = plain_run(argv)
    if parsed is not None:
        assert parsed == click_run(argv)


# Starts the console script in-process; at exec, says whether click was imported, and exits.
PROBE = """
import json, os, sys
def exec_instead(*args):
    print("click" in sys.modules)
    sys.exit(0)
os.execvpe = exec_instead
sys.argv = ["layered-mlflow", *json.loads(sys.argv[1])]
from layered_mlflow.launch import main
main()
"""


@pytest.mark.parametrize(
    ("argv", "imported"),
    [
        pytest.param(["--set", "tags.team=vision", "run", "--", "true"], "False", id="plain"),
        pytest.param(["-vq", "run", "--", "true"], "True", id="through-click"),
    ],
)
def test_the_plain_run_does_not_import_click(project: Project, argv: list[str], imported: str) -> None:
    """`run -- CMD` reaches exec without importing click; a line click must parse does import it."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\n")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)], cwd=project.root, capture_output=True, text=True, check=True
    )
    assert done.stdout == f"{imported}\n", done.stderr


def test_a_mistake_on_the_plain_path_is_one_line(project: Project) -> None:
    """An error found after the hand parser (a `--set` without `=`) is click's one line and exit 2."""
    refused = project.cli("--set", "MLFLOW_TRACKING_URI", "run", "--", "true")
    assert (refused.returncode, refused.stdout) == (2, ""), refused
    assert refused.stderr.startswith("layered-mlflow: error: --set MLFLOW_TRACKING_URI: expected KEY=VALUE"), refused
    assert len(refused.stderr.splitlines()) == 1, refused
