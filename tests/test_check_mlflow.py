"""`check` agrees with MLflow: what it reads, what it refuses, and `run` warning about the same."""

from __future__ import annotations

import pytest

from tests.conftest import Project, client_query

# Compares what layered-mlflow reads with what the installed MLflow defines: CI runs it on the lowest too.
pytestmark = pytest.mark.installed_mlflow

HTTP = "mlflow_tracking_uri: http://127.0.0.1:5000\n"  # reached by nothing here: check stays offline
BAD_SERVER = "server:\n  port: '50OO'\n  workers: 0\n  serve_artifacts: maybe\n"
SERVER_ERRORS = ("`server.port` must be", "`server.workers` must be", "`server.serve_artifacts` must be")


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param("mlflow_host: 0.0.0.0\nmlflow_port: 5001\nmlflow_workers: 2\n", id="server-cli-variables"),
        pytest.param("mlflow_serve_artifacts: 'yes'\n", id="click-flag-word"),
        pytest.param("mlflow_home: /opt/mlflow\n", id="read-with-os-environ-get"),
        pytest.param("mlflow_tracking_auth: kubernetes-namespaced\n", id="built-in-auth-provider"),
        pytest.param("mlflow_http_request_max_retries: 11\n", id="retry-limit-without-http-store"),
        pytest.param(
            "mlflow_tracking_insecure_tls: true\nmlflow_tracking_server_cert_path: /ca.pem\n",
            id="tls-without-http-store",
        ),
        pytest.param(HTTP + "mlflow_http_request_timeout: 2147483\n", id="longest-timeout"),
        pytest.param("mlflow_trace_sampling_ratio: 0\n", id="sampling-ratio-zero"),
    ],
)
def test_check_accepts_what_mlflow_accepts(project: Project, settings: str) -> None:
    """Variables MLflow reads and values it takes: no problem, even under --strict."""
    store = "" if "mlflow_tracking_uri" in settings else "mlflow_tracking_uri: sqlite:///mlflow.db\n"
    project.write("settings/mlflow.yml", store + settings)
    result = project.cli("check", "--strict")
    assert result.returncode == 0, result
    assert result.stdout.strip() == "development: 0 errors, 0 warnings", result


def test_retry_limit_is_read_from_mlflows_variable(project: Project) -> None:
    """MLflow's _MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT, where the command gets it, sets the range."""
    project.write("settings/mlflow.yml", HTTP + "mlflow_http_request_max_retries: 15\n")
    assert "MLflow's range 0..10" in project.cli("check").stdout
    raised = {"_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT": "20"}
    assert project.cli("check", env=raised).returncode == 0
    project.write(".env", "_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT=12\n")
    assert "MLflow's range 0..12" in project.cli("check").stdout


def test_server_section_reports_every_problem_in_every_environment(project: Project) -> None:
    """port, workers and serve_artifacts are all reported, in each environment of --all-envs."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    project.write("settings/mlflow.production.yml", BAD_SERVER)
    result = project.cli("check", "--all-envs")
    assert result.returncode == 1, result
    production = result.stdout[result.stdout.index("production:") :]
    assert production.startswith("production: 3 errors"), result
    assert all(error in production for error in SERVER_ERRORS), result
    assert "development: 0 errors, 0 warnings" in result.stdout


def test_server_dry_run_names_every_problem(project: Project) -> None:
    """`server --dry-run` refuses with one line naming each bad value, before anything starts."""
    project.write("settings/mlflow.yml", BAD_SERVER)
    result = project.cli("server", "--dry-run")
    assert result.returncode == 2, result
    assert len(result.stderr.splitlines()) == 1, result
    assert all(error in result.stderr for error in SERVER_ERRORS), result


def test_server_variable_for_the_tracking_uri_is_a_warning(project: Project) -> None:
    """LAYERED_MLFLOW_SERVER__MLFLOW_TRACKING_URI sets nothing: warned, pointing at MLFLOW_TRACKING_URI."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    result = project.cli("check", env={"LAYERED_MLFLOW_SERVER__MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"})
    assert (
        "warning: LAYERED_MLFLOW_SERVER__MLFLOW_TRACKING_URI (environment) does nothing: it is not a `server` key "
        "(hint: set MLFLOW_TRACKING_URI itself)" in result.stdout
    ), result


def test_every_broken_file_is_reported(project: Project) -> None:
    """Two settings files that do not load: both named, one line each, exit 2."""
    project.write("settings/mlflow.yml", "a: b: c\n")
    project.write("settings/mlflow.local.yml", "- not a mapping\n")
    result = project.cli("check")
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result
    assert "settings/mlflow.yml" in lines[0], result
    assert "settings/mlflow.local.yml" in lines[1], result


def test_every_broken_file_is_reported_in_every_environment(project: Project) -> None:
    """--all-envs: a broken local file and a broken environment file are both named for that environment."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    project.write("settings/mlflow.staging.yml", "a: b: c\n")
    project.write("settings/mlflow.local.yml", "- not a mapping\n")
    result = project.cli("check", "--all-envs")
    assert result.returncode == 2, result
    staging = [line for line in result.stdout.splitlines() if line.startswith("staging: error: ")]
    assert len(staging) == 2, result
    assert sum(line.startswith("development: error: ") for line in result.stdout.splitlines()) == 1, result


def test_run_warns_about_errors_and_still_runs(project: Project) -> None:
    """`run` warns, one line each, about the values `check` calls errors, runs the command; -q silences it."""
    project.write("settings/mlflow.yml", HTTP + "mlflow_http_request_timeout: 0\nserver:\n  workers: 0\n")
    loud = project.cli("run", "--", "true")
    assert loud.returncode == 0, loud
    assert loud.stderr.splitlines() == [
        "layered-mlflow: warning: mlflow_http_request_timeout (settings/mlflow.yml) = '0' is outside MLflow's range "
        "1..2147483 (hint: seconds; every request fails with a timeout outside that range)",
        "layered-mlflow: warning: `server.workers` must be an integer of at least 1, not '0' "
        "(from settings/mlflow.yml)",
    ], loud
    assert project.cli("-q", "run", "--", "true").stderr == ""


def _experiment_store(project: Project, store: str = "mlruns") -> str:
    """A real store in the project (``mlruns`` or ``sqlite:///mlflow.db``), holding experiment `a`: its id."""
    uri = (project.root / "mlruns").as_uri() if store == "mlruns" else f"sqlite:///{project.root}/mlflow.db"
    created = client_query(uri, "import mlflow, json; print(json.dumps(mlflow.create_experiment('a')))")
    assert isinstance(created, str)
    return created


@pytest.mark.mlflow
@pytest.mark.parametrize(
    ("name", "same_id", "expected"),
    [
        pytest.param("a", True, None, id="same-id-is-fine"),
        pytest.param("a", False, "error: mlflow_experiment_name", id="other-id-fails"),
        pytest.param("b", True, "warning: mlflow_experiment_name", id="no-such-experiment"),
    ],
)
def test_experiment_name_and_id_are_judged_by_the_store(
    project: Project, name: str, same_id: bool, expected: str | None
) -> None:
    """Name and id that agree pass; disagreeing is an error (MLflow refuses the run); a new name ignores the id."""
    experiment_id = _experiment_store(project)
    number = experiment_id if same_id else "424242"
    project.write("settings/mlflow.yml", f"mlflow_experiment_name: {name}\nmlflow_experiment_id: '{number}'\n")
    result = project.cli("check")
    problems = [line.strip() for line in result.stdout.splitlines()[1:] if "maintenance mode" not in line]
    if expected is None:
        assert problems == [], result
    else:
        assert len(problems) == 1, result
        assert problems[0].startswith(expected), result
        assert result.returncode == (1 if expected.startswith("error") else 0), result


@pytest.mark.mlflow
def test_experiment_id_is_looked_up_in_a_sqlite_store(project: Project) -> None:
    """A sqlite store is read (read-only) too: another id than the named experiment's is an error."""
    experiment_id = _experiment_store(project, "sqlite:///mlflow.db")
    store = "mlflow_tracking_uri: sqlite:///mlflow.db\n"
    project.write(
        "settings/mlflow.yml", f"{store}mlflow_experiment_name: a\nmlflow_experiment_id: '{experiment_id}9'\n"
    )
    result = project.cli("check")
    assert result.returncode == 1, result
    assert f"that experiment's id is {experiment_id}, so MLflow refuses to start a run" in result.stdout, result
    project.write("settings/mlflow.yml", f"{store}mlflow_experiment_id: '{experiment_id}'\n")
    assert project.cli("check").stdout.strip() == "development: 0 errors, 0 warnings"
