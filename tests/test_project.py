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
