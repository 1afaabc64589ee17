"""The rules a mutation test found untested, through the installed command where what it prints is the point.

tests/test_unit_*.py pin the same rules in-process; these prove the user sees them.
"""

from __future__ import annotations

from tests.conftest import Project


def test_only_empty_inherited_mlflow_variables_are_unset(project: Project) -> None:
    """`env --format shell` unsets an empty inherited MLFLOW_* and exports a non-empty one as it is."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    result = project.cli("env", "--format", "shell", env={"MLFLOW_RUN_ID": "", "MLFLOW_EXPERIMENT_ID": "7"})
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert "unset MLFLOW_RUN_ID" in lines, result
    assert "export MLFLOW_EXPERIMENT_ID=7" in lines, result
    assert not any(line.startswith("unset") and "MLFLOW_EXPERIMENT_ID" in line for line in lines), result


def test_set_server_key_ignores_case(project: Project) -> None:
    """`--set server.PORT=5001` is `server.port`, the key `server` and `ui` read."""
    result = project.cli("--set", "server.PORT=5001", "explain", "server.port")
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0] == "server.port = 5001", result


def test_empty_file_variable_says_nothing(project: Project) -> None:
    """An empty `X_FILE` beside `X` is no conflict and no reference: the child gets `X`, and no `X_FILE`."""
    env = {"MLFLOW_TRACKING_PASSWORD": "from-env", "MLFLOW_TRACKING_PASSWORD_FILE": ""}
    child = project.child_env(env=env)
    assert child["MLFLOW_TRACKING_PASSWORD"] == env["MLFLOW_TRACKING_PASSWORD"]
    assert "MLFLOW_TRACKING_PASSWORD_FILE" not in child


def test_nearest_project_root_wins(project: Project) -> None:
    """In a project inside a project, the nearest `settings/mlflow.yml` is the root, from any subdirectory."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: outer\n")
    project.write("inner/settings/mlflow.yml", "mlflow_experiment_name: inner\n")
    (project.root / "inner/src").mkdir()
    child = project.child_env(cwd=project.root / "inner/src")
    assert child["MLFLOW_EXPERIMENT_NAME"] == "inner"
    assert child["MLFLOW_TRACKING_URI"] == (project.root / "inner/mlruns").as_uri()
