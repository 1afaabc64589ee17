"""SPEC §2: the project root is found from any subdirectory, or named explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Project


@pytest.fixture
def nested(project: Project) -> Project:
    project.write("settings/mlflow.yml", "mlflow_experiment_name: root\n")
    project.write(".env", "FROM_DOTENV=yes\n")
    (project.root / "src" / "pkg" / "deep").mkdir(parents=True)
    return project


@pytest.mark.parametrize("relative", [".", "src", "src/pkg/deep", "settings"])
def test_same_result_from_any_subdirectory(nested: Project, relative: str) -> None:
    """Running from any subdirectory of a project gives the same result as from its root."""
    at_root = nested.cli("show", "--format", "json")
    inside = nested.cli("show", "--format", "json", cwd=nested.root / relative)
    assert inside.returncode == 0, inside
    assert inside.stdout == at_root.stdout
    assert inside.json()["root"] == str(nested.root)


@pytest.mark.parametrize("ext", ["yml", "yaml"])
def test_yaml_extension_marks_the_root(tmp_path: Path, ext: str) -> None:
    """settings/mlflow.yaml marks a project root as well as settings/mlflow.yml."""
    project = Project(tmp_path / "p")
    project.write(f"settings/mlflow.{ext}", "mlflow_experiment_name: x\n")
    (project.root / "sub").mkdir()
    assert project.child_env(cwd=project.root / "sub")["MLFLOW_EXPERIMENT_NAME"] == "x"


def test_no_project_uses_the_working_directory(tmp_path: Path) -> None:
    """Without settings/, the working directory is the root: defaults, its .env and the environment apply."""
    project = Project(tmp_path / "bare")
    project.write(".env", "MLFLOW_EXPERIMENT_NAME=bare\n")
    child = project.child_env()
    assert child["MLFLOW_TRACKING_URI"] == (project.root / "mlruns").as_uri()
    assert child["MLFLOW_EXPERIMENT_NAME"] == "bare"


@pytest.mark.parametrize("how", ["option", "variable"])
def test_project_named_explicitly(nested: Project, tmp_path: Path, how: str) -> None:
    """--project-dir or LAYERED_MLFLOW_PROJECT_DIR names the root from anywhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ("--project-dir", str(nested.root)) if how == "option" else ()
    env = {"LAYERED_MLFLOW_PROJECT_DIR": str(nested.root)} if how == "variable" else {}
    child = nested.child_env(*args, cwd=elsewhere, env=env)
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["FROM_DOTENV"]) == ("root", "yes")
    assert child["MLFLOW_TRACKING_URI"] == (nested.root / "mlruns").as_uri()


def test_relative_project_dir_is_relative_to_cwd(nested: Project) -> None:
    """--project-dir .. from src/ names the project."""
    child = nested.child_env("--project-dir", "..", cwd=nested.root / "src")
    assert child["MLFLOW_EXPERIMENT_NAME"] == "root"


def test_option_beats_variable(nested: Project, tmp_path: Path) -> None:
    """--project-dir wins over LAYERED_MLFLOW_PROJECT_DIR."""
    other = Project(tmp_path / "other")
    other.write("settings/mlflow.yml", "mlflow_experiment_name: other\n")
    child = nested.child_env("--project-dir", str(nested.root), env={"LAYERED_MLFLOW_PROJECT_DIR": str(other.root)})
    assert child["MLFLOW_EXPERIMENT_NAME"] == "root"


def test_env_file_option_replaces_dotenv(nested: Project) -> None:
    """--env-file (repeatable) replaces the default .env; later files win."""
    nested.write("a.env", "A=1\nSHARED=a\n")
    nested.write("b.env", "SHARED=b\n")
    child = nested.child_env("--env-file", "a.env", "--env-file", "b.env")
    assert (child["A"], child["SHARED"]) == ("1", "b")
    assert "FROM_DOTENV" not in child


def test_env_file_is_below_the_process_environment(nested: Project) -> None:
    """An injected variable beats the same variable in an --env-file, as it beats .env."""
    nested.write("ci.env", "MLFLOW_EXPERIMENT_NAME=from-file\nOTHER=kept\n")
    child = nested.child_env("--env-file", "ci.env", env={"MLFLOW_EXPERIMENT_NAME": "injected"})
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["OTHER"]) == ("injected", "kept")


def test_env_file_outside_the_project(nested: Project, tmp_path: Path) -> None:
    """An absolute --env-file anywhere (a mounted config) is read; a relative one is relative to cwd."""
    mounted = tmp_path / "config" / "mlflow.env"
    mounted.parent.mkdir()
    mounted.write_text("MOUNTED=yes\n")
    nested.write("src/local.env", "RELATIVE=yes\n")
    child = nested.child_env("--env-file", str(mounted), "--env-file", "local.env", cwd=nested.root / "src")
    assert (child["MOUNTED"], child["RELATIVE"]) == ("yes", "yes")


def test_env_file_can_choose_the_environment(nested: Project) -> None:
    """ENV_FOR_DYNACONF in an --env-file selects the environment, as in .env."""
    nested.write("settings/mlflow.staging.yml", "mlflow_experiment_name: staging\n")
    nested.write("staging.env", "ENV_FOR_DYNACONF=staging\n")
    child = nested.child_env("--env-file", "staging.env")
    assert (child["LAYERED_MLFLOW_ENV"], child["MLFLOW_EXPERIMENT_NAME"]) == ("staging", "staging")


@pytest.mark.parametrize("folder", ["a.yml,b", "x,y", "settings.yaml,"])
def test_comma_in_the_project_path_is_just_a_character(tmp_path: Path, folder: str) -> None:
    """Dynaconf splits a path on commas: the file must still be read, not listed as read and ignored."""
    project = Project(tmp_path / folder / "project")
    project.write("settings/mlflow.yml", "mlflow_experiment_name: read-it\nenv:\n  LAST: value.yml")
    child = project.child_env()
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["LAST"]) == ("read-it", "value.yml")
