"""The `required` list: every missing key named, with the ways to supply it, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project

REQUIRED = "required: [MLFLOW_TRACKING_PASSWORD, env.AWS_SECRET_ACCESS_KEY]\n"
SUPPLIED = {"MLFLOW_TRACKING_PASSWORD": "pw", "AWS_SECRET_ACCESS_KEY": "key"}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("run", "--", "touch", "started"), id="run"),
        pytest.param(("run", "--dry-run", "--", "touch", "started"), id="run-dry-run"),
        pytest.param(("server", "--", "--help"), id="server"),
        pytest.param(("ui",), id="ui"),
        pytest.param(("env",), id="env"),
        pytest.param(("env", "--format", "json", "--show-secrets"), id="env-json"),
    ],
)
def test_missing_required_keys_stop_the_command(project: Project, args: tuple[str, ...]) -> None:
    """One line, exit 2, naming both keys and how to give each a value; nothing is started."""
    project.write("settings/mlflow.yml", REQUIRED)
    result = project.cli(*args)
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1, result
    assert result.stderr.startswith("layered-mlflow: error: required keys have no value: MLFLOW_TRACKING_PASSWORD ("), (
        result
    )
    for way in ("mlflow_tracking_password in a settings file", "MLFLOW_TRACKING_PASSWORD_FILE", "aws-sm:NAME"):
        assert way in result.stderr, result
    assert "env.AWS_SECRET_ACCESS_KEY (set env.AWS_SECRET_ACCESS_KEY in a settings file" in result.stderr, result
    assert not (project.root / "started").exists()


@pytest.mark.parametrize(
    ("dotenv", "env"),
    [
        pytest.param("", SUPPLIED, id="environment"),
        pytest.param("MLFLOW_TRACKING_PASSWORD=pw\nAWS_SECRET_ACCESS_KEY=key\n", {}, id="dotenv"),
        pytest.param("", {"MLFLOW_TRACKING_PASSWORD_FILE": "pw.txt", "AWS_SECRET_ACCESS_KEY": "k"}, id="x-file"),
        pytest.param("", {"MLFLOW_TRACKING_PASSWORD": "aws-sm:pw", "AWS_SECRET_ACCESS_KEY": "k"}, id="reference"),
    ],
)
def test_a_value_from_any_layer_satisfies_it(project: Project, dotenv: str, env: dict[str, str]) -> None:
    """A variable, a .env line, an X_FILE or a reference (not fetched by --dry-run) each count as a value."""
    project.write("settings/mlflow.yml", REQUIRED)
    project.write(".env", dotenv)
    project.write("pw.txt", "pw\n")
    result = project.cli("run", "--dry-run", "--", "true", env=env)
    assert result.returncode == 0, result


def test_an_environment_file_replaces_the_list(project: Project) -> None:
    """A list, so production's `required` replaces the base's: development needs nothing, production its key."""
    project.write("settings/mlflow.yml", "required: [MLFLOW_TRACKING_USERNAME]\n")
    project.write("settings/mlflow.production.yml", "required: [MLFLOW_TRACKING_PASSWORD]\n")
    assert project.cli("--env", "production", "env", env={"MLFLOW_TRACKING_USERNAME": "u"}).returncode == 2
    assert project.cli("--env", "production", "env", env={"MLFLOW_TRACKING_PASSWORD": "p"}).returncode == 0


def test_check_all_envs_reports_them_per_environment(project: Project) -> None:
    """check --all-envs: each environment's missing keys as errors, exit 1."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///m.db\n")
    project.write("settings/mlflow.production.yml", REQUIRED)
    result = project.cli("check", "--all-envs")
    assert result.returncode == 1, result
    development, production = result.stdout.split("production: ")
    assert "required" not in development
    assert "2 errors" in production, result
    assert "error: required MLFLOW_TRACKING_PASSWORD has no value (hint: set mlflow_tracking_password" in production
    assert "error: required env.AWS_SECRET_ACCESS_KEY has no value" in production


def test_configure_refuses_too(project: Project, tmp_path: Path) -> None:
    """configure() raises the same error before it sets anything in the process."""
    project.write("settings/mlflow.yml", REQUIRED)
    script = (
        "import os, layered_mlflow\n"
        "from layered_mlflow.errors import ConfigError\n"
        "try:\n"
        f"    layered_mlflow.configure(project_dir={str(project.root)!r})\n"
        "except ConfigError as exc:\n"
        "    print(exc.message.split(':')[0], 'MLFLOW_TRACKING_URI' in os.environ)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in SUPPLIED}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "required keys have no value False", done.stderr


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        pytest.param("required: [MLFLOW_TRACKING_PASSWORD, env.AWS_SECRET_ACCESS_KEY]\n", True, id="required"),
        pytest.param("token:\n  file: /var/run/secrets/mlflow/token\n", True, id="token-file"),
        pytest.param("token:\n  command: [get-token, --audience, mlflow]\n  ttl: 60\n", True, id="token-command"),
        pytest.param("token:\n  flie: x\n", False, id="token-typo"),
        pytest.param("required: MLFLOW_TRACKING_PASSWORD\n", False, id="required-not-a-list"),
    ],
)
def test_the_schema_knows_required_and_token(text: str, valid: bool) -> None:
    """Editors validate the new keys: the lists and the token section, whose keys are closed."""
    from tests.test_schema import problems

    assert (problems(text) == []) is valid, problems(text)
