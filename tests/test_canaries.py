"""Secrets never reach stdout or stderr: a distinct canary in every layer, every command and format."""

from __future__ import annotations

import pytest

from tests.conftest import Project

AZURE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=CANARY-azure-key;EndpointSuffix=core.windows.net"
BASE = f"""\
mlflow_tracking_uri: https://alice:CANARY-uri-password@127.0.0.1:1
mlflow_tracking_password: CANARY-base-password
env:
  AWS_SECRET_ACCESS_KEY: CANARY-base-aws
  AZURE_STORAGE_CONNECTION_STRING: "{AZURE}"
server:
  backend_store_uri: postgresql+psycopg2://mlflow:CANARY-pg-password@127.0.0.1:1/mlflow
"""
PRODUCTION = "mlflow_tracking_password: CANARY-envfile-password\nmlflow_tracking_token: CANARY-envfile-token\n"
LOCAL = "mlflow_tracking_token: CANARY-local-token\nenv:\n  GOOGLE_APPLICATION_CREDENTIALS: /CANARY-local-gcp.json\n"
DOTENV = "MLFLOW_TRACKING_PASSWORD=CANARY-dotenv-password\nMY_API_TOKEN=CANARY-dotenv-token\n"
PROCESS = {
    "MLFLOW_TRACKING_TOKEN_FILE": "secrets/token",
    "MLFLOW_TRACKING_PASSWORD": "CANARY-process-password",
    "LAYERED_MLFLOW_TAGS__deploy_token": "CANARY-process-tag",
    "MLFLOW_TRACKING_USERNAME": "alice",
}
SET = ("--set", "env.DB_PASSWORD=CANARY-set-password", "--env", "production")

COMMANDS = [
    pytest.param(("show",), id="show-text"),
    pytest.param(("show", "--format", "json"), id="show-json"),
    pytest.param(("run", "--dry-run", "--", "true"), id="run-dry-run"),
    pytest.param(("-v", "run", "--", "true"), id="run-verbose"),
    pytest.param(("check",), id="check"),
    pytest.param(("check", "--all-envs", "--strict"), id="check-all-envs"),
    pytest.param(("check", "--online", "--timeout", "1"), id="check-online"),
    *(pytest.param(("env", "--format", f), id=f"env-{f}") for f in ("dotenv", "shell", "json", "docker", "github")),
    pytest.param(("server", "--dry-run"), id="server-dry-run"),
    pytest.param(("-v", "server", "--dry-run"), id="server-verbose"),
    *(
        pytest.param(("explain", key), id=f"explain-{key}")
        for key in (
            "mlflow_tracking_uri",
            "mlflow_tracking_password",
            "mlflow_tracking_token",
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_STORAGE_CONNECTION_STRING",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "MY_API_TOKEN",
            "DB_PASSWORD",
            "tags.deploy_token",
            "server.backend_store_uri",
            "MLFLOW_RUN_CONTEXT",
        )
    ),
]


@pytest.fixture
def planted(project: Project) -> Project:
    """A canary in every layer, an X_FILE secret included."""
    project.write("secrets/token", "CANARY-file-token\n")
    project.write("settings/mlflow.yml", BASE)
    project.write("settings/mlflow.production.yml", PRODUCTION)
    project.write("settings/mlflow.local.yml", LOCAL)
    project.write(".env", DOTENV)
    return project


@pytest.mark.parametrize("command", COMMANDS)
def test_no_canary_is_printed(planted: Project, command: tuple[str, ...]) -> None:
    """Whatever the command and format, no planted secret appears in its output."""
    result = planted.cli(*SET, *command, env=PROCESS, timeout=60)
    assert "CANARY" not in result.stdout + result.stderr, result
    assert result.returncode in (0, 1), result


@pytest.mark.parametrize(
    ("settings", "args", "leak"),
    [
        pytest.param("mlflow_tracking_password: CANARY-yaml: oops\n", (), "CANARY", id="yaml-error-line"),
        pytest.param("mlflow_tracking_password: [CANARY-in-a-list]\n", (), "CANARY", id="type-error"),
        pytest.param("env:\n  BAD-NAME: CANARY-value\n", (), "CANARY", id="bad-env-name"),
        pytest.param(
            "mlflow_tracking_password: a\nmlflow_tracking_password: CANARY-dup\n", (), "CANARY", id="duplicate-key"
        ),
        pytest.param("mlflow_tracking_password: !CANARY-tag\n", (), "CANARY", id="yaml-tag"),
        pytest.param("mlflow_tracking_password: *CANARY-alias\n", (), "CANARY", id="yaml-alias"),
        pytest.param("mlflow_tracking_password: %CANARY\n", (), "'%'", id="yaml-first-character"),
        pytest.param('mlflow_tracking_password: "\\QCANARY"\n', (), "'Q'", id="yaml-escape-character"),
        pytest.param("mlflow_tracking_password: 2024-13-45T99:00:00 # CANARY\n", (), "2024-13", id="yaml-timestamp"),
        pytest.param("", ("--set", "CANARY-no-equals"), "CANARY", id="set-value-without-key"),
        pytest.param("", ("--set", "MLFLOW_TRACKING_PASSWORD:CANARY"), "CANARY", id="set-with-a-colon"),
        pytest.param("", ("--set", "bad key=CANARY"), "CANARY", id="set-bad-key"),
        pytest.param("", ("--set", "MLFLOW_TRACKING_PASSWORD", "CANARY-as-command"), "CANARY", id="set-key-value"),
        pytest.param("", ("--set", "MLFLOW_TRACKING_PASSWORD", "-xCANARY"), "-x", id="set-key-option-like-value"),
    ],
)
def test_no_canary_in_error_messages(project: Project, settings: str, args: tuple[str, ...], leak: str) -> None:
    """Error messages name the key and place, never the value, not even one character of it."""
    project.write("settings/mlflow.yml", settings)
    result = project.cli(*args, "show")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert result.stderr.count("\n") == 1, result
    assert leak not in result.stdout + result.stderr, result


def test_show_secrets_reveals_them(planted: Project) -> None:
    """--show-secrets is the one way to print them: the canaries are really there."""
    result = planted.cli(*SET, "show", "--format", "json", "--show-secrets", env=PROCESS)
    for canary in ("uri-password", "process-password", "set-password", "azure-key", "file-token", "process-tag"):
        assert f"CANARY-{canary}" in result.stdout
