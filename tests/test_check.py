"""`check`: every problem at once; exit 0 (clean), 1 (problems) or 2 (the settings do not load)."""

from __future__ import annotations

import pytest

from tests.conftest import Project

HTTP = "mlflow_tracking_uri: http://127.0.0.1:5000\n"  # a store reached over HTTP, never reached here
# (settings/mlflow.yml, level, text the report must contain)
PROBLEMS = [
    pytest.param("mlflow_traking_uri: x\n", "warning", "did you mean mlflow_tracking_uri?", id="typo-mlflow-name"),
    pytest.param(
        "tgas:\n  a: 1\n", "warning", "tgas.a (settings/mlflow.yml) is not a layered-mlflow key", id="typo-section"
    ),
    pytest.param("mlflow_tracking_insecure_tls: maybe\n", "error", "= 'maybe' is not a boolean", id="bool"),
    pytest.param("mlflow_enable_async_logging: 'yes'\n", "error", "is not a boolean", id="yes-is-not-a-boolean"),
    pytest.param("mlflow_http_request_timeout: soon\n", "error", "= 'soon' is not an integer", id="int"),
    pytest.param(HTTP + "mlflow_http_request_max_retries: 11\n", "error", "MLflow's range 0..10", id="max-retries"),
    pytest.param(
        HTTP + "mlflow_http_request_max_retries: -1\n", "error", "MLflow's range 0..10", id="negative-retries"
    ),
    pytest.param(HTTP + "mlflow_http_request_backoff_factor: 500\n", "error", "MLflow's range 0..120", id="backoff"),
    pytest.param(HTTP + "mlflow_http_request_timeout: -1\n", "error", "range 1..2147483", id="negative-timeout"),
    pytest.param(HTTP + "mlflow_http_request_timeout: 0\n", "error", "range 1..2147483", id="zero-timeout"),
    pytest.param(
        HTTP + "mlflow_http_request_timeout: '10000000000000000000'\n", "error", "range 1..2147483", id="huge-timeout"
    ),
    pytest.param("mlflow_tracking_auth: kubernets\n", "error", "did you mean kubernetes?", id="auth-provider-typo"),
    pytest.param("mlflow_trace_sampling_ratio: 1.5\n", "error", "range 0..1", id="sampling-ratio-above-1"),
    pytest.param("mlflow_trace_sampling_ratio: -0.1\n", "error", "range 0..1", id="sampling-ratio-negative"),
    pytest.param(
        "mlflow_boto_client_addressing_style: virtul\n", "error", "not one of auto, virtual, path", id="addressing"
    ),
    pytest.param("mlflow_serve_artifacts: maybe\n", "error", "true/false, yes/no", id="cli-flag-variable"),
    pytest.param("mlflow_port: 50OO\n", "error", "is not an integer", id="cli-int-variable"),
    pytest.param("mlflow_logging_level: LOUD\n", "error", "is not a logging level", id="logging-level"),
    pytest.param("mlflow_run_context: '[1]'\n", "error", "is not a JSON object", id="run-context"),
    pytest.param(
        HTTP + "mlflow_tracking_insecure_tls: true\nmlflow_tracking_server_cert_path: /ca.pem\n",
        "error",
        "MLflow refuses both",
        id="insecure-tls-with-cert",
    ),
    pytest.param(
        "mlflow_tracking_token: t\nmlflow_tracking_username: u\nmlflow_tracking_password: p\n",
        "warning",
        "mlflow_tracking_token (settings/mlflow.yml) is ignored",
        id="token-beside-basic-auth",
    ),
    pytest.param(
        "mlflow_experiment_name: a\nmlflow_experiment_id: '1'\n",
        "warning",
        "no experiment has that name, so MLflow creates one and ignores the id",
        id="name-and-id-of-no-experiment",
    ),
    pytest.param(
        HTTP + "mlflow_experiment_name: a\nmlflow_experiment_id: '1'\n",
        "note",
        "MLflow fails unless that experiment has that id",
        id="name-and-id-remote",
    ),
    pytest.param(
        "server:\n  port: '50OO'\n", "error", "`server.port` must be an integer from 1 to 65535", id="server-port"
    ),
    pytest.param("server:\n  workers: 0\n", "error", "`server.workers` must be an integer of at least 1", id="workers"),
    pytest.param("server:\n  serve_artifacts: maybe\n", "error", "must be true or false, not 'maybe'", id="serve"),
    pytest.param(
        "server:\n  mlflow_tracking_uri: null\n  mlflow_experiment_name: x\n",
        "warning",
        "server.mlflow_experiment_name (settings/mlflow.yml) is not a kedro-mlflow key; kedro-mlflow refuses it "
        "(hint: kedro-mlflow keeps it under tracking.experiment.name",
        id="kedro-experiment-under-server",
    ),
    pytest.param("mlflow_tracking_uri: ftp://x/y\n", "error", "unknown scheme 'ftp'", id="unknown-tracking-scheme"),
    pytest.param("mlflow_registry_uri: redis://x\n", "error", "unknown scheme 'redis'", id="unknown-registry-scheme"),
    pytest.param(
        "mlflow_tracking_uri: postgresql://u@db/x\n",
        "warning",
        "postgresql+psycopg2://",
        id="postgresql-without-driver",
    ),
    pytest.param(
        "server:\n  artifacts_destination: bogus://x\n", "error", "unknown scheme 'bogus'", id="artifact-scheme"
    ),
    pytest.param("mlflow_tracking_uri: mlruns\n", "note", "maintenance mode", id="file-store-note"),
]


@pytest.mark.parametrize(("settings", "level", "message"), PROBLEMS)
def test_check_reports_problem(project: Project, settings: str, level: str, message: str) -> None:
    """Each problem is reported with its level; errors exit 1, warnings and notes exit 0."""
    store = "" if "mlflow_tracking_uri" in settings else "mlflow_tracking_uri: sqlite:///mlflow.db\n"
    project.write("settings/mlflow.yml", store + settings)
    result = project.cli("check")
    assert result.returncode == (1 if level == "error" else 0), result
    assert any(line.strip().startswith(f"{level}:") and message in line for line in result.stdout.splitlines()), result


def test_check_collects_every_problem_at_once(project: Project) -> None:
    """Three problems in three layers: all reported in one run."""
    project.write("settings/mlflow.yml", "mlflow_traking_uri: x\n")
    project.write(".env", "MLFLOW_HTTP_REQUEST_TIMEOUT=soon\n")
    result = project.cli("check", env={"MLFLOW_TRACKING_INSECURE_TLS": "maybe"})
    assert result.returncode == 1, result
    assert "mlflow_traking_uri (settings/mlflow.yml)" in result.stdout
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT (.env) = 'soon'" in result.stdout
    assert "MLFLOW_TRACKING_INSECURE_TLS (environment) = 'maybe'" in result.stdout
    assert result.stdout.startswith("development: 2 errors, 1 warning")


def test_strict_turns_warnings_into_errors(project: Project) -> None:
    """--strict: an unknown name is an error (exit 1)."""
    project.write("settings/mlflow.yml", "mlflow_traking_uri: x\n")
    assert project.cli("check").returncode == 0
    strict = project.cli("check", "--strict")
    assert strict.returncode == 1, strict
    assert "error: mlflow_traking_uri" in strict.stdout


def test_run_prints_the_same_warnings(project: Project) -> None:
    """`run` warns about names that do nothing, one line each on stderr; -q silences them."""
    project.write("settings/mlflow.yml", "mlflow_traking_uri: x\n")
    loud = project.cli("run", "--", "true")
    assert loud.returncode == 0, loud
    assert loud.stderr.splitlines() == [
        "layered-mlflow: warning: mlflow_traking_uri (settings/mlflow.yml) is not an MLflow variable; "
        "it is exported but unused (hint: did you mean mlflow_tracking_uri?)"
    ]
    quiet = project.cli("-q", "run", "--", "true")
    assert quiet.stderr == ""


def test_clean_settings_pass(project: Project) -> None:
    """A clean project: exit 0, `0 errors, 0 warnings`."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: x\n")
    result = project.cli("check")
    assert result.returncode == 0, result
    assert result.stdout.strip() == "development: 0 errors, 0 warnings"


def test_settings_that_do_not_load_exit_2(project: Project) -> None:
    """check cannot even load a broken file: exit 2 with the one-line error."""
    project.write("settings/mlflow.yml", "a: b: c\n")
    result = project.cli("check")
    assert result.returncode == 2, result
    assert "invalid YAML" in result.stderr


def test_all_envs_names_the_broken_environment(project: Project) -> None:
    """--all-envs checks each environment; a broken one is named, and the exit is 2."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    project.write("settings/mlflow.production.yml", "mlflow_http_request_timeout: soon\n")
    project.write("settings/mlflow.staging.yml", "- not a mapping\n")
    result = project.cli("check", "--all-envs")
    assert result.returncode == 2, result
    lines = result.stdout.splitlines()
    assert "development: 0 errors, 0 warnings" in lines
    assert "production: 1 error, 0 warnings" in lines
    assert any(line.startswith("staging: error: ") and "mlflow.staging.yml" in line for line in lines)


def test_empty_inherited_variable_is_noted(project: Project) -> None:
    """An empty MLFLOW_* in the environment: a note that `run` removes it."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    result = project.cli("check", env={"MLFLOW_CONFIGURE_LOGGING": ""})
    assert "note: MLFLOW_CONFIGURE_LOGGING is set but empty" in result.stdout


def test_unknown_server_key_is_a_warning(project: Project) -> None:
    """A typo in the `server` section is named by check and by run, with the closest key."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\nserver:\n  prot: 5001\n")
    result = project.cli("check")
    assert (
        "warning: server.prot (settings/mlflow.yml) is not a `server` key (hint: did you mean server.port?)"
        in result.stdout
    )
    assert "server.prot" in project.cli("run", "--", "true").stderr


def test_check_notes_that_no_project_was_found(project: Project) -> None:
    """No settings/mlflow.yml: a note says the working directory is the root, and how to start a project."""
    result = project.cli("check")
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[1] == (
        f"  note: {project.root}: no settings/mlflow.yml here or in a folder above: the working directory is the root"
        " (hint: only the defaults, .env and the environment apply; cd into a project, or start one with"
        " `layered-mlflow init`)"
    ), result
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    assert "no settings/mlflow.yml" not in project.cli("check").stdout


@pytest.mark.parametrize(
    ("tracking", "server", "refused"),
    [
        pytest.param(
            "http://mlflow.example.com:5000", "allowed_hosts: [mlflow:5000]", "mlflow.example.com:5000", id="other-name"
        ),
        pytest.param("http://mlflow:5000", "allowed_hosts: [mlflow]", "mlflow:5000", id="port-missing"),
        pytest.param("https://mlflow.example.com", "allowed_hosts: [mlflow.example.com]", None, id="default-port"),
        pytest.param("http://mlflow:5000", "allowed_hosts: ['mlflow:*']", None, id="glob"),
        pytest.param("http://[fd00::5]:5000", "allowed_hosts: [localhost]", "[fd00::5]:5000", id="ipv6"),
        pytest.param("http://mlflow.example.com", "allowed_hosts: ['*']", None, id="star-allows-all"),
        pytest.param(
            "http://mlflow:5000", "allowed_hosts: [a]\n  disable_security_middleware: true", None, id="no-middleware"
        ),
        pytest.param("sqlite:///mlflow.db", "allowed_hosts: [a]", None, id="no-http-store"),
    ],
)
def test_check_compares_the_tracking_host_with_allowed_hosts(
    project: Project, tracking: str, server: str, refused: str | None
) -> None:
    """Offline, `check` warns when the server's Host check would answer the tracking URI's requests 403."""
    project.write("settings/mlflow.yml", f"mlflow_tracking_uri: {tracking}\nserver:\n  {server}\n")
    result = project.cli("check")
    assert result.returncode == 0, result
    if refused is None:
        assert "Host header" not in result.stdout, result
        return
    assert (
        f"warning: mlflow_tracking_uri (settings/mlflow.yml) sends the Host header {refused!r}, which "
        f"server.allowed_hosts (settings/mlflow.yml) does not allow: the server answers 403 to every API call "
        f"(hint: add {refused} to server.allowed_hosts)"
    ) in result.stdout, result
