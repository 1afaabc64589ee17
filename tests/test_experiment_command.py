"""Issue 14: `layered-mlflow experiment` creates the experiment the settings describe (location, tags)."""

from __future__ import annotations

import os

import pytest

from layered_mlflow.integrations.experiment_setup import same_location
from tests.conftest import Project, client_query
from tests.servers import free_port

pytestmark = pytest.mark.mlflow
# What the store holds for experiment "churn": its location, tags and lifecycle stage.
QUERY = """
import json, mlflow
e = mlflow.MlflowClient().get_experiment_by_name("churn")
print(json.dumps(None if e is None else [e.artifact_location, e.tags, e.lifecycle_stage, e.experiment_id]))
"""
SETTINGS = """\
mlflow_tracking_uri: sqlite:///mlflow.db
mlflow_experiment_name: churn
experiment:
  artifact_location: artifacts/churn
  tags:
    Team: vision
"""


def stored(project: Project) -> object:
    return client_query(f"sqlite:///{project.root}/mlflow.db", QUERY)


def test_creates_the_experiment_with_its_location_and_tags(project: Project) -> None:
    """A missing experiment is created at the anchored location (from any folder) with the tags; again: exit 0."""
    project.write("settings/mlflow.yml", SETTINGS)
    (project.root / "src").mkdir()
    result = project.cli("experiment", cwd=project.root / "src")
    assert result.returncode == 0, result
    assert "created experiment 'churn'" in result.stdout
    found = stored(project)
    assert isinstance(found, list)
    assert found[0] == (project.root / "artifacts" / "churn").as_uri()
    assert found[1]["Team"] == "vision"
    assert found[2] == "active"
    again = project.cli("experiment")
    assert again.returncode == 0, again
    assert "experiment 'churn' exists" in again.stdout


def test_restores_a_deleted_experiment_unless_told_not_to(project: Project) -> None:
    """A deleted experiment is restored; with restore_if_deleted: false it stays deleted and the exit is 1."""
    project.write("settings/mlflow.yml", SETTINGS)
    assert project.cli("experiment").returncode == 0
    number = stored(project)[3]  # type: ignore[index]
    client_query(
        f"sqlite:///{project.root}/mlflow.db",
        f"import mlflow; mlflow.MlflowClient().delete_experiment({number!r}); print('null')",
    )
    project.write("settings/mlflow.local.yml", "experiment:\n  restore_if_deleted: false\n")
    refused = project.cli("experiment")
    assert refused.returncode == 1, refused
    assert "is deleted, and restore_if_deleted is false" in refused.stdout
    assert stored(project)[2] == "deleted"  # type: ignore[index]
    (project.root / "settings" / "mlflow.local.yml").unlink()
    restored = project.cli("experiment")
    assert restored.returncode == 0, restored
    assert "restored the deleted experiment 'churn'" in restored.stdout
    assert stored(project)[2] == "active"  # type: ignore[index]


def test_reports_a_different_location_without_changing_it(project: Project) -> None:
    """An existing experiment elsewhere: exit 1, both locations named, the experiment left as it was."""
    project.write("settings/mlflow.yml", SETTINGS)
    assert project.cli("experiment").returncode == 0
    result = project.cli("--set", "experiment.artifact_location=s3://bucket/churn", "experiment")
    assert result.returncode == 1, result
    assert f"keeps its artifacts at {(project.root / 'artifacts' / 'churn').as_uri()}" in result.stdout
    assert "not at s3://bucket/churn" in result.stdout
    assert stored(project)[0] == (project.root / "artifacts" / "churn").as_uri()  # type: ignore[index]


def test_without_an_experiment_name_is_an_error(project: Project) -> None:
    """Nothing to set up: exit 2, one line saying which key to set."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    result = project.cli("experiment")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: no experiment to set up: mlflow_experiment_name is not set")


def test_kedro_mlflow_create_experiment_kwargs(project: Project) -> None:
    """kedro-mlflow's create_experiment_kwargs (artifact_location, tags) create the experiment as it would."""
    project.write(
        "settings/mlflow.yml",
        """\
        server:
          mlflow_tracking_uri: sqlite:///mlflow.db
        tracking:
          experiment:
            name: churn
            create_experiment_kwargs:
              artifact_location: artifacts/churn
              tags:
                Team: vision
        """,
    )
    result = project.cli("experiment")
    assert result.returncode == 0, result
    found = stored(project)
    assert isinstance(found, list)
    assert (found[0], found[1]["Team"]) == ((project.root / "artifacts" / "churn").as_uri(), "vision")


def test_configure_creates_the_experiment(project: Project) -> None:
    """configure() creates the described experiment before making it active."""
    project.write("settings/mlflow.yml", SETTINGS)
    script = (
        f"import json, mlflow, layered_mlflow; layered_mlflow.configure(project_dir={str(project.root)!r}); "
        "print(json.dumps(mlflow.get_experiment_by_name('churn').artifact_location))"
    )
    found = client_query(f"sqlite:///{project.root}/mlflow.db", script)
    assert found == (project.root / "artifacts" / "churn").as_uri()


@pytest.mark.parametrize(
    ("found", "wanted", "same"),
    [
        pytest.param("/p/a", "file:///p/a", True, id="path-and-uri"),
        pytest.param("file:///p/a/", "file:///p/a", True, id="trailing-slash"),
        pytest.param("s3://b/a", "s3://b/a", True, id="s3"),
        pytest.param("s3://b/a", "s3://b/other", False, id="other-prefix"),
        pytest.param("mlflow-artifacts:/1", "file:///p/a", False, id="proxied"),
    ],
)
def test_same_location(found: str, wanted: str, same: bool) -> None:
    """Locations are compared as places: a path and its file: URI are one."""
    assert same_location(found, wanted) is same


def test_a_quote_in_a_name_is_refused_in_a_file_store(project: Project) -> None:
    """MLflow's file store pastes the name into a search filter: `experiment` exits 2 and `check` says why."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: \"b'hello, '\"\n")
    refused = project.cli("experiment")
    assert refused.returncode == 2, refused
    said = "layered-mlflow: error: mlflow_experiment_name (settings/mlflow.yml) holds a quote"
    assert refused.stderr.startswith(said)
    assert "Invalid clause" not in refused.stderr + refused.stdout
    checked = project.cli("check")
    assert checked.returncode == 1, checked
    assert "error: mlflow_experiment_name (settings/mlflow.yml) holds a quote (')" in checked.stdout
    database = project.cli("--set", "mlflow_tracking_uri=sqlite:///mlflow.db", "experiment")
    assert database.returncode == 0, database
    assert "created experiment \"b'hello, '\"" in database.stdout


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        pytest.param("http://[::1", "ValueError: Invalid IPv6 URL", id="bad-host"),
        pytest.param("http://h:port", "InvalidUrlException", id="bad-port"),
    ],
)
def test_a_store_that_refuses_is_one_line(project: Project, uri: str, says: str) -> None:
    """Whatever MLflow's store raises (not only MlflowException) is one `error:` line and exit 1, no traceback."""
    project.write("settings/mlflow.yml", f"mlflow_experiment_name: x\nmlflow_tracking_uri: '{uri}'\n")
    result = project.cli("experiment")
    assert result.returncode == 1, result
    assert result.stdout.startswith(f"error: the tracking store refused: {says}"), result
    assert "Traceback" not in result.stderr


def test_a_refused_port_ends_in_seconds(project: Project) -> None:
    """MLflow's client retries a refused port for 249 s; `experiment` bounds its retries: one line, exit 1."""
    project.write(
        "settings/mlflow.yml", f"mlflow_experiment_name: x\nmlflow_tracking_uri: http://127.0.0.1:{free_port()}\n"
    )
    result = project.cli("experiment", timeout=60)
    assert result.returncode == 1, result
    assert result.stdout.startswith("error: the tracking store refused: MlflowException: API request to"), result
    assert len(result.stdout.splitlines()) == 1, result
    assert "Traceback" not in result.stderr


NOT_UTF8 = "MLFLOW_EXPERIMENT_NAME (environment) holds bytes that are not UTF-8, and MLflow stores experiment names"
LONG = "mlflow_experiment_name (settings/mlflow.yml) is 501 characters long, and MLflow refuses an experiment name"


@pytest.mark.parametrize(
    ("name", "refused", "checked"),
    [
        pytest.param(
            '"a\\0b"',
            "MLFLOW_EXPERIMENT_NAME holds a NUL character",
            "mlflow_experiment_name (settings/mlflow.yml) holds a NUL character",
            id="nul-escape",
        ),
        pytest.param("x" * 501, LONG, LONG, id="over-500"),
        pytest.param(None, NOT_UTF8, NOT_UTF8, id="not-utf8-in-the-environment"),
    ],
)
def test_a_name_mlflow_refuses_is_said_alike(project: Project, name: str | None, refused: str, checked: str) -> None:
    """A name MLflow cannot take: `experiment` exits 2 with one line, `check` says it, configure() raises it."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    env = {}
    if name is None:  # the byte 0xe9 as the environment hands it to Python (surrogateescape)
        env["MLFLOW_EXPERIMENT_NAME"] = os.fsdecode(b"caf\xe9")
    else:
        project.write(
            "settings/mlflow.yml", f"mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: {name}\n"
        )
    result = project.cli("experiment", env=env)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {refused}"), result
    assert len(result.stderr.splitlines()) == 1, result
    result = project.cli("check", env=env)
    assert result.returncode == 1, result
    assert f"  error: {checked}" in result.stdout, result
    script = (
        "import json, os, layered_mlflow\n"
        f"os.environ.update({env!r})\n"
        f"try: layered_mlflow.configure(project_dir={str(project.root)!r})\n"
        "except layered_mlflow.LayeredMlflowError as exc: print(json.dumps(str(exc)))\n"
    )
    raised = client_query(f"sqlite:///{project.root}/mlflow.db", script)
    assert isinstance(raised, str)
    assert raised.startswith(refused), raised


def test_binary_value_is_refused(project: Project) -> None:
    """YAML's !!binary holds bytes no variable can carry (str() made them "b'hello'"): exit 2 naming the key."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: !!binary aGVsbG8=\n")
    said = (
        f"layered-mlflow: error: {project.root / 'settings/mlflow.yml'}: `mlflow_experiment_name` is binary data "
        "(!!binary), which no environment variable can hold (hint: write the value as text, without !!binary)\n"
    )
    for command in ("experiment", "check", "env"):
        result = project.cli(command)
        assert (result.returncode, result.stderr) == (2, said), result
