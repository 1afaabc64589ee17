"""SPEC §6: where runs and artifacts land: a sqlite store keeps its artifacts in the project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from layered_mlflow.resolution import artifact_root
from tests.conftest import NO_TELEMETRY, Project, client_query
from tests.servers import free_port

VARIABLE = "_MLFLOW_SERVER_ARTIFACT_ROOT"
# A job in a subdirectory that logs an artifact, and says where its run went.
LOG_ARTIFACT = textwrap.dedent(
    """
    import json, mlflow
    with mlflow.start_run() as run:
        mlflow.log_text("hello", "note.txt")
    print(json.dumps({"experiment_id": run.info.experiment_id, "run_id": run.info.run_id,
                      "artifact_uri": run.info.artifact_uri}))
    """
)


@pytest.mark.mlflow
def test_sqlite_artifacts_land_under_the_root_from_a_subdirectory(project: Project) -> None:
    """From <root>/notebooks with sqlite:///mlflow.db: the artifact is in <root>/mlruns/<id>, nothing in notebooks/."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: nb\n")
    folder = project.root / "notebooks"
    script = project.write("notebooks/job.py", LOG_ARTIFACT)
    result = project.cli("run", "--", sys.executable, str(script), cwd=folder, timeout=300)
    assert result.returncode == 0, result
    assert sorted(p.name for p in folder.iterdir()) == ["job.py"], "nothing may be created beside the job"
    run = json.loads(result.stdout.strip().splitlines()[-1])
    artifacts = project.root / "mlruns" / run["experiment_id"] / run["run_id"] / "artifacts"
    assert run["artifact_uri"] == artifacts.as_uri()
    assert (artifacts / "note.txt").read_text() == "hello"
    # The Default experiment, made when the job created the database, is in the project too.
    default = client_query(
        f"sqlite:///{project.root}/mlflow.db",
        "import json, mlflow\nprint(json.dumps(mlflow.MlflowClient().get_experiment('0').artifact_location))\n",
    )
    assert default == (project.root / "mlruns" / "0").as_uri()


@pytest.mark.parametrize(
    ("tracking", "env", "dotenv", "expected"),
    [
        pytest.param("sqlite:///mlflow.db", {}, "", "{root}/mlruns", id="sqlite-relative"),
        pytest.param("sqlite:////elsewhere/x.db", {}, "", "{root}/mlruns", id="sqlite-absolute"),
        pytest.param("sqlite:///mlflow.db", {VARIABLE: "s3://b/a"}, "", "s3://b/a", id="environment-wins"),
        pytest.param("sqlite:///mlflow.db", {}, f"{VARIABLE}=s3://b/d\n", "s3://b/d", id="dotenv-wins"),
        pytest.param("sqlite:///mlflow.db", {}, f"{VARIABLE}=\n", "{root}/mlruns", id="empty-says-nothing"),
        pytest.param("mlruns", {}, "", None, id="file-store-keeps-its-own"),
        pytest.param("postgresql://127.0.0.1/db", {}, "", None, id="database-server-untouched"),
        pytest.param("http://127.0.0.1:5000", {}, "", None, id="tracking-server"),
    ],
)
def test_artifact_root_by_store(
    project: Project, tracking: str, env: dict[str, str], dotenv: str, expected: str | None
) -> None:
    """Only a sqlite store gets the derived artifact root, anchored to the root from any directory; a set one wins."""
    project.write("settings/mlflow.yml", f"mlflow_tracking_uri: '{tracking}'\n")
    project.write(".env", dotenv)
    (project.root / "src").mkdir()
    child = project.child_env(cwd=project.root / "src", env=env)
    root_uri = project.root.as_uri()
    assert child.get(VARIABLE) == (None if expected is None else expected.format(root=root_uri))


def test_show_marks_the_artifact_root_as_derived(project: Project) -> None:
    """`show` lists the variable as derived from the sqlite store, as it does MLFLOW_ALLOW_FILE_STORE."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    shown = project.cli("show", "--format", "json")
    assert shown.returncode == 0, shown
    setting = json.loads(shown.stdout)["settings"][f"env.{VARIABLE}"]
    assert setting == {
        "value": (project.root / "mlruns").as_uri(),
        "layer": "derived",
        "source": "sqlite: tracking store",
        "secret": False,
    }


@pytest.mark.mlflow
def test_installed_mlflow_reads_the_private_variable(tmp_path: Path) -> None:
    """The installed MLflow's client-side SQL store takes its default artifact root from the variable."""
    script = textwrap.dedent(
        f"""
        import os, sys
        from mlflow.tracking._tracking_service import utils
        assert utils._SERVER_ARTIFACT_ROOT_ENV_VAR == {VARIABLE!r}, utils._SERVER_ARTIFACT_ROOT_ENV_VAR
        os.environ[{VARIABLE!r}] = sys.argv[2]
        print(utils._get_sqlalchemy_store(sys.argv[1], None).artifact_root_uri)
        """
    )
    wanted = (tmp_path / "somewhere" / "mlruns").as_uri()
    done = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path}/x.db", wanted],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **NO_TELEMETRY},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == wanted
    assert artifact_root.read_by_installed_mlflow() is True, "check would warn with this MLflow"


SQLALCHEMY_STORE = """
def _get_sqlalchemy_store(store_uri, artifact_uri):
    if artifact_uri is None:
        artifact_uri = os.environ.get({read}, DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)
    return SqlAlchemyStore(store_uri, artifact_uri)


def _get_rest_store(store_uri, **_):
    return {elsewhere}
"""


@pytest.mark.parametrize(
    ("constants", "read", "elsewhere", "expected"),
    [
        pytest.param(f'_ROOT = "{VARIABLE}"\n', "_ROOT", "None", True, id="through-a-constant"),
        pytest.param("", f'"{VARIABLE}"', "None", True, id="literal"),
        pytest.param(f'_ROOT = "{VARIABLE}"\n', '"MLFLOW_ARTIFACT_ROOT"', "_ROOT", False, id="read-elsewhere-only"),
        pytest.param('_ROOT = "_MLFLOW_SERVER_ARTIFACT_ROOT_V2"\n', "_ROOT", "None", False, id="renamed"),
    ],
)
def test_reading_mlflow_source(constants: str, read: str, elsewhere: str, expected: bool) -> None:
    """`check` looks for the variable in `_get_sqlalchemy_store` itself, not anywhere in the file."""
    source = constants + SQLALCHEMY_STORE.format(read=read, elsewhere=elsewhere)
    assert artifact_root.read_by(source) is expected


def test_check_warns_when_mlflow_no_longer_reads_it(project: Project, tmp_path: Path) -> None:
    """With an MLflow whose SQL store ignores the variable, `check` warns that artifacts follow the cwd."""
    fake = tmp_path / "fake" / "mlflow"
    (fake / "tracking" / "_tracking_service").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "tracking" / "_tracking_service" / "utils.py").write_text(
        SQLALCHEMY_STORE.format(read='"MLFLOW_ARTIFACT_ROOT"', elsewhere="None")
    )
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    checked = project.cli("check", env={"PYTHONPATH": str(fake.parent)})
    assert checked.returncode == 0, checked
    assert f"the installed MLflow no longer reads {VARIABLE}" in checked.stdout, checked
    # The fake MLflow declares no variables, so other warnings may name them; this one is said once.
    assert checked.stdout.count(VARIABLE) == 1, checked
    clean = project.cli("check")
    assert VARIABLE not in clean.stdout, clean


KEDRO_DEFAULT = "${oc.env:MLFLOW_TRACKING_URI, mlruns}"  # kedro-mlflow users write this


@pytest.mark.parametrize(
    ("file", "text", "key"),
    [
        pytest.param("mlflow.yml", f"mlflow_tracking_uri: '{KEDRO_DEFAULT}'\n", "mlflow_tracking_uri", id="tracking"),
        pytest.param("mlflow.yml", "mlflow_registry_uri: sqlite:///${DB}\n", "mlflow_registry_uri", id="registry"),
        pytest.param(
            "mlflow.staging.yml",
            "server:\n  backend_store_uri: ${oc.env:DB}\n",
            "server.backend_store_uri",
            id="server",
        ),
        pytest.param(
            "mlflow.local.yml",
            "server:\n  default_artifact_root: ./${USER}/art\n",
            "server.default_artifact_root",
            id="artifact-root",
        ),
        pytest.param(
            "mlflow.yml",
            f"server:\n  mlflow_tracking_uri: '{KEDRO_DEFAULT}'\n",
            "mlflow_tracking_uri",
            id="kedro-shape",
        ),
    ],
)
@pytest.mark.parametrize("command", [("run", "--", "true"), ("check",), ("show",)])
def test_interpolation_in_a_uri_is_an_error(
    project: Project, file: str, text: str, key: str, command: tuple[str, ...]
) -> None:
    """`${…}` in a settings file's URI key is exit 2 naming file and key, never a folder called `${oc.env…`."""
    project.write("settings/mlflow.staging.yml", "")
    path = project.write(f"settings/{file}", text)
    # Even where the environment overrides it: the same file fails on every machine, not only where unset.
    result = project.cli("--env", "staging", *command, env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:1"})
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {path}: `{key}` holds a ${{…}} interpolation"), result
    assert len(result.stderr.splitlines()) == 1, result


def test_check_all_envs_names_the_environment_with_an_interpolated_uri(project: Project) -> None:
    """`check --all-envs` reports the environment whose file holds one, beside the clean ones."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    project.write("settings/mlflow.production.yml", f"mlflow_tracking_uri: '{KEDRO_DEFAULT}'\n")
    result = project.cli("check", "--all-envs")
    assert result.returncode == 2, result
    assert "production: error: " in result.stdout, result
    assert "`mlflow_tracking_uri` holds a ${…} interpolation" in result.stdout, result
    assert "development: 0 errors" in result.stdout, result


def test_interpolation_elsewhere_is_passed_on_with_a_warning(project: Project) -> None:
    """In a tag or `env` value, `${…}` reaches the command as written (never anchored), and `check` warns."""
    project.write(
        "settings/mlflow.yml", "tracking:\n  run:\n    name: ${km.random_name:}\nenv:\n  LM_PATH: ${HOME}/x\n"
    )
    child = project.child_env()
    assert child["LM_PATH"] == "${HOME}/x"
    assert json.loads(child["MLFLOW_RUN_CONTEXT"])["mlflow.runName"] == "${km.random_name:}"
    checked = project.cli("check")
    assert checked.returncode == 0, checked
    for name in ("env.LM_PATH", "tags.mlflow.runName"):
        assert f"warning: {name} (settings/mlflow.yml) holds a ${{…}} interpolation" in checked.stdout, checked


# Drivers this venv lacks (the test extras install neither): the honest way to see what a machine without them
# gets, in a second each. tests/test_extras.py does the same for psycopg2 and boto3 in a fresh venv.
MYSQL = "mysql+pymysql://mlflow@127.0.0.1/mlflow"
GCS = "gs://bucket/mlflow"


@pytest.fixture
def without_pymysql_and_gcs() -> None:
    from importlib.util import find_spec

    for parent, module in (("pymysql", "pymysql"), ("google.cloud", "google.cloud.storage")):
        if find_spec(parent) is not None and find_spec(module) is not None:
            pytest.skip(f"{module} is installed here: the store tests need it missing")


@pytest.mark.usefixtures("without_pymysql_and_gcs")
@pytest.mark.parametrize(
    ("settings", "named", "level"),
    [
        pytest.param(f"server:\n  backend_store_uri: {MYSQL}\n", "server.backend_store_uri", "warning", id="backend"),
        pytest.param(
            f"server:\n  read_replica_backend_store_uri: {MYSQL}\n",
            "server.read_replica_backend_store_uri",
            "warning",
            id="read-replica",
        ),
        pytest.param(
            f"server:\n  registry_store_uri: {MYSQL}\n", "server.registry_store_uri", "warning", id="registry"
        ),
        pytest.param(
            f"server:\n  artifacts_destination: {GCS}\n", "server.artifacts_destination", "warning", id="proxied"
        ),
        pytest.param(f"mlflow_tracking_uri: {MYSQL}\n", "mlflow_tracking_uri", "error", id="client-tracking"),
        pytest.param(f"mlflow_registry_uri: {MYSQL}\n", "mlflow_registry_uri", "error", id="client-registry"),
        pytest.param(
            f"experiment:\n  artifact_location: {GCS}\n", "experiment.artifact_location", "error", id="client-artifacts"
        ),
        pytest.param(
            f"server:\n  default_artifact_root: {GCS}\n",
            "server.default_artifact_root",
            "error",
            id="artifact-root-clients-write-to",
        ),
    ],
)
def test_a_missing_driver_is_a_warning_for_a_store_only_the_server_opens(
    project: Project, settings: str, named: str, level: str
) -> None:
    """SPEC §12: a store only `mlflow server` opens warns (an error under --strict); one the job opens is an error.

    A training machine's `check` must pass with a team-server section whose database driver only the server has.
    """
    project.write("settings/mlflow.yml", settings)
    checked = project.cli("check")
    assert checked.returncode == (0 if level == "warning" else 1), checked
    assert f"{level}: {named} (settings/mlflow.yml) needs " in checked.stdout, checked
    assert project.cli("check", "--strict").returncode == 1


@pytest.mark.usefixtures("without_pymysql_and_gcs")
@pytest.mark.parametrize(
    ("command", "settings", "args", "expected"),
    [
        pytest.param(
            "server",
            f"server:\n  backend_store_uri: {MYSQL}\n",
            [],
            "`server.backend_store_uri` needs PyMySQL, which is not installed; mlflow server was not started "
            "(hint: pip install 'layered-mlflow[mysql]')",
            id="backend",
        ),
        pytest.param(
            "server",
            "",
            ["--", "--backend-store-uri", MYSQL],
            "--backend-store-uri (after --) needs PyMySQL",
            id="given-after-double-dash",
        ),
        pytest.param(
            "ui",
            f"server:\n  artifacts_destination: {GCS}\n",
            [],
            "`server.artifacts_destination` needs google-cloud-storage, which is not installed; "
            "mlflow server was not started (hint: pip install 'layered-mlflow[gcs]')",
            id="ui-artifacts",
        ),
    ],
)
def test_server_refuses_a_missing_driver_before_mlflow_starts(
    project: Project, command: str, settings: str, args: list[str], expected: str
) -> None:
    """`server`/`ui` exit 2 naming the extra, before `mlflow server` starts (no `serving` line); --dry-run prints."""
    project.write("settings/mlflow.yml", settings)
    port = {"LAYERED_MLFLOW_SERVER__PORT": str(free_port())}
    result = project.cli(command, *args, env=port)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {expected}"), result
    assert len(result.stderr.splitlines()) == 1, result
    if not args:
        assert project.cli(command, "--dry-run").returncode == 0
