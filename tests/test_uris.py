"""SPEC §6: relative URIs are anchored to the project root, from every layer and any subdirectory."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from layered_mlflow.mlflow_names import schemes
from tests.conftest import Project

AZURE_ML = "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/s"
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
    pytest.param(
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team",
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team",
        id="sagemaker",
    ),
    pytest.param(
        "azureml://eastus.api.azureml.ms/mlflow/v1.0/x", "azureml://eastus.api.azureml.ms/mlflow/v1.0/x", id="azureml"
    ),
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


@pytest.mark.installed_mlflow
def test_mlflows_own_schemes_are_read_from_its_registries() -> None:
    """The schemes read from MLflow's source are those its three registries and DATABASE_ENGINES hold."""
    from mlflow.store.artifact.artifact_repository_registry import _artifact_repository_registry
    from mlflow.store.db.db_types import DATABASE_ENGINES
    from mlflow.tracking._model_registry.utils import _get_store_registry
    from mlflow.tracking._tracking_service.utils import _tracking_store_registry

    plugins = {
        point.name
        for group in ("tracking_store", "model_registry_store", "artifact_repository")
        for point in entry_points(group=f"mlflow.{group}")
    }
    assert schemes.mlflow_schemes(schemes.TRACKING) == set(_tracking_store_registry._registry) - plugins
    registry = _get_store_registry()  # type: ignore[no-untyped-call]
    assert schemes.mlflow_schemes(schemes.REGISTRY) == set(registry._registry) - plugins
    assert schemes.mlflow_schemes(schemes.ARTIFACTS) == set(_artifact_repository_registry._registry) - plugins
    assert schemes.mlflow_schemes(schemes.DATABASE) == set(DATABASE_ENGINES)


MANAGED = [
    pytest.param(
        "mlflow_tracking_uri",
        "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-app/app-ABC",
        "sagemaker-mlflow",
        id="sagemaker-app",
    ),
    pytest.param(
        "mlflow_tracking_uri",
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team",
        "sagemaker-mlflow",
        id="sagemaker-server",
    ),
    pytest.param(
        "mlflow_registry_uri", "azureml://eastus.api.azureml.ms/mlflow/v1.0/x", "azureml-mlflow", id="azureml"
    ),
]


@pytest.mark.installed_mlflow
@pytest.mark.parametrize(("key", "uri", "package"), MANAGED)
def test_a_managed_uri_is_valid_and_names_its_plugin(project: Project, key: str, uri: str, package: str) -> None:
    """SPEC §6: without its plugin, a managed MLflow's URI is a warning naming the package (an error if strict)."""
    project.write("settings/mlflow.yml", f"{key}: {uri}\n")
    checked = project.cli("check")
    assert checked.returncode == 0, checked
    assert f"warning: {key} (settings/mlflow.yml) is a managed MLflow's URI, served by the {package} plugin" in (
        checked.stdout
    ), checked
    assert f"(hint: pip install {package})" in checked.stdout, checked
    assert "unknown scheme" not in checked.stdout, checked
    assert project.cli("check", "--strict").returncode == 1


def _plugin(folder: Path, entry_points_text: str) -> dict[str, str]:
    """A distribution installed on PYTHONPATH whose only content is its entry points, as a plugin declares them."""
    info = folder / "fake_mlflow_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-mlflow-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points_text, encoding="utf-8")
    return {"PYTHONPATH": str(folder)}


@pytest.mark.installed_mlflow
def test_schemes_an_installed_plugin_registers_are_known(project: Project, tmp_path: Path) -> None:
    """A scheme an installed plugin's entry points register is valid; SageMaker's plugin silences its warning."""
    env = _plugin(
        tmp_path / "site",
        "[mlflow.tracking_store]\narn = sagemaker_mlflow.store:Store\nteamdb = teamdb_mlflow:Store\n\n"
        "[mlflow.artifact_repository]\nteamfs = teamdb_mlflow:Repository\n",
    )
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team\n"
        "server:\n  backend_store_uri: teamdb://cluster/mlflow\n  artifacts_destination: teamfs://share/artifacts\n",
    )
    without = project.cli("check")
    assert "unknown scheme 'teamdb'" in without.stdout, without
    assert "unknown scheme 'teamfs'" in without.stdout, without
    checked = project.cli("check", "--strict", env=env)
    assert checked.returncode == 0, checked
    assert "scheme" not in checked.stdout, checked
    assert "sagemaker" not in checked.stdout, checked
