"""Start-up: `run`, `show`, `explain` and `env` import neither mlflow nor what Dynaconf brings along unused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import Project

# Runs the command line in-process, then reports which of these modules were imported.
PROBE = """
import json, sys
from layered_mlflow.cli.main import main
sys.argv = ["layered-mlflow", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
heavy = ("mlflow", "flask", "django", "jinja2", "werkzeug", "sqlalchemy", "requests")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""


def imported(project: Project, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], cwd=project.root, capture_output=True, text=True, check=False
    )
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("run", "--dry-run", "--", "true"), id="run"),
        pytest.param(("show", "--format", "json"), id="show"),
        pytest.param(("explain", "mlflow_tracking_uri"), id="explain"),
        pytest.param(("env", "--format", "shell"), id="env"),
    ],
)
def test_fast_paths_import_nothing_heavy(project: Project, args: tuple[str, ...]) -> None:
    """No mlflow (0.6-1 s), and Dynaconf without its Flask/Django integrations or jinja2 (about 80 ms)."""
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: '@format x{this.A}'\na: 1\n",
    )
    project.write(".env", "MLFLOW_TRACKING_USERNAME=alice\n")
    assert imported(project, *args) == []


def test_jinja_values_still_work_from_the_command_line(project: Project) -> None:
    """A settings file that uses `@jinja` gets jinja2, and its value is rendered."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: '@jinja exp-{{ 6 * 7 }}'\n")
    assert project.child_env()["MLFLOW_EXPERIMENT_NAME"] == "exp-42"
    assert imported(project, "show") == ["jinja2"]


def test_jinja_in_a_later_layer_is_seen_before_dynaconf_loads(project: Project) -> None:
    """`@jinja` only in the environment's file, read after the base file, still renders."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\n")
    project.write("settings/mlflow.staging.yml", 'mlflow_experiment_name: \'@jinja {{ "st" ~ "aging" }}\'\n')
    assert project.child_env("--env", "staging")["MLFLOW_EXPERIMENT_NAME"] == "staging"


KEDRO_PROBE_MODULES = ("kedro", "kedro_mlflow", "omegaconf", "dynaconf", "mlflow")


def kedro_imports(project: Project, *args: str) -> list[str]:
    probe = PROBE.replace('("mlflow", "flask"', f'{KEDRO_PROBE_MODULES!r} + ("flask"')
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(args)], cwd=project.root, capture_output=True, text=True, check=False
    )
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("tracking:\n  experiment:\n    name: churn\n", [], id="plain"),
        pytest.param('tracking:\n  experiment:\n    name: "${oc.env:E,churn}"\n', ["omegaconf"], id="interpolated"),
    ],
)
def test_a_kedro_project_imports_neither_kedro_nor_dynaconf(project: Project, text: str, expected: list[str]) -> None:
    """Kedro is never imported (settings.py is read, not run); OmegaConf only for a file that holds `${`."""
    project.write("pyproject.toml", '[tool.kedro]\npackage_name = "demo"\n')
    project.write("conf/base/mlflow.yml", text)
    project.write("conf/local/credentials.yml", "{}\n")
    for args in (("run", "--dry-run", "--", "true"), ("show",), ("env",)):
        assert kedro_imports(project, *args) == expected, args
