"""SPEC §6: relative URIs are anchored to the project root, from every layer and any subdirectory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Project

# (written, expected) with {root} the project root and {home} $HOME.
URIS = [
    pytest.param("mlruns", "file://{root}/mlruns", id="bare-folder"),
    pytest.param("./mlruns", "file://{root}/mlruns", id="dot-slash"),
    pytest.param("mlruns/", "file://{root}/mlruns", id="trailing-slash"),
    pytest.param("../shared/runs", "file://{parent}/shared/runs", id="parent-normalised"),
    pytest.param("~/runs", "file://{home}/runs", id="home"),
    pytest.param("/abs/runs", "file:///abs/runs", id="absolute"),
    pytest.param("file:./runs", "file://{root}/runs", id="file-dot"),
    pytest.param("file:runs", "file://{root}/runs", id="file-relative"),
    pytest.param("file:///abs/runs", "file:///abs/runs", id="file-absolute"),
    pytest.param("sqlite:///mlflow.db", "sqlite:///{root}/mlflow.db", id="sqlite-relative"),
    pytest.param("sqlite:///db/mlflow.db?timeout=20", "sqlite:///{root}/db/mlflow.db?timeout=20", id="sqlite-query"),
    pytest.param("sqlite:////abs/mlflow.db", "sqlite:////abs/mlflow.db", id="sqlite-absolute"),
    pytest.param("http://127.0.0.1:5000", "http://127.0.0.1:5000", id="http"),
    pytest.param("https://u:pw@mlflow.example/x", "https://u:pw@mlflow.example/x", id="https-userinfo"),
    pytest.param("postgresql://u:pw@db/mlflow", "postgresql://u:pw@db/mlflow", id="postgresql"),
    pytest.param("mysql://u@db/mlflow", "mysql://u@db/mlflow", id="mysql"),
    pytest.param("s3://bucket/runs", "s3://bucket/runs", id="s3"),
    pytest.param("gs://bucket/runs", "gs://bucket/runs", id="gs"),
    pytest.param("wasbs://c@acct.blob.core.windows.net/p", "wasbs://c@acct.blob.core.windows.net/p", id="wasbs"),
    pytest.param("databricks", "databricks", id="databricks"),
    pytest.param("databricks-uc", "databricks-uc", id="databricks-uc"),
    pytest.param("databricks://profile", "databricks://profile", id="databricks-profile"),
]


def expected_uri(template: str, root: Path, home: Path) -> str:
    return template.format(root=root, parent=root.parent, home=home)


@pytest.mark.parametrize(("written", "template"), URIS)
@pytest.mark.parametrize("key", ["mlflow_tracking_uri", "mlflow_registry_uri"])
def test_uri_table_from_settings_file(project: Project, tmp_path: Path, key: str, written: str, template: str) -> None:
    """Written in settings/mlflow.yml, resolved from a subdirectory: anchored to the root, not the cwd."""
    project.write("settings/mlflow.yml", f"{key}: '{written}'\n")
    sub = project.root / "notebooks" / "deep"
    sub.mkdir(parents=True)
    child = project.child_env(cwd=sub, env={"HOME": str(tmp_path / "home")})
    assert child[key.upper()] == expected_uri(template, project.root, tmp_path / "home")


@pytest.mark.parametrize(
    "layer",
    ["settings/mlflow.local.yml", ".env", "process", "--set"],
)
def test_relative_uri_anchored_from_every_layer(project: Project, layer: str) -> None:
    """The one exception to byte-exact values: a relative URI from any layer is anchored to the root."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    sub = project.root / "src"
    sub.mkdir()
    args: tuple[str, ...] = ()
    env: dict[str, str] = {}
    if layer == "process":
        env = {"MLFLOW_TRACKING_URI": "sqlite:///mlflow.db"}
    elif layer == "--set":
        args = ("--set", "MLFLOW_TRACKING_URI=sqlite:///mlflow.db")
    else:
        key = "mlflow_tracking_uri: " if layer.endswith(".yml") else "MLFLOW_TRACKING_URI="
        project.write(layer, f"{key}sqlite:///mlflow.db\n")
    child = project.child_env(*args, cwd=sub, env=env)
    assert child["MLFLOW_TRACKING_URI"] == f"sqlite:///{project.root}/mlflow.db"


@pytest.mark.parametrize(
    ("tracking", "explicit", "expected"),
    [
        pytest.param(None, None, "true", id="default-mlruns"),
        pytest.param("file:///abs/runs", None, "true", id="file-uri"),
        pytest.param("sqlite:///mlflow.db", None, None, id="sqlite-no-flag"),
        pytest.param("http://127.0.0.1:5000", None, None, id="http-no-flag"),
        pytest.param(None, "false", "false", id="explicit-wins"),
    ],
)
def test_file_store_allowed(project: Project, tracking: str | None, explicit: str | None, expected: str | None) -> None:
    """A file: tracking store gets MLFLOW_ALLOW_FILE_STORE=true unless set explicitly."""
    env = {"MLFLOW_TRACKING_URI": tracking} if tracking else {}
    if explicit:
        env["MLFLOW_ALLOW_FILE_STORE"] = explicit
    assert project.child_env(env=env).get("MLFLOW_ALLOW_FILE_STORE") == expected


def test_uri_with_space_is_a_valid_file_uri(tmp_path: Path) -> None:
    """A root with a space gives a percent-encoded file: URI that MLflow turns back into the path."""
    project = Project(tmp_path / "my project")
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: mlruns\n")
    assert project.child_env()["MLFLOW_TRACKING_URI"] == (project.root / "mlruns").as_uri()
    assert "%20" in (project.root / "mlruns").as_uri()
