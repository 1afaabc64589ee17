"""Secrets never reach stdout or stderr: a distinct canary in every layer, every command and format."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.conftest import Project

AZURE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=CANARY-azure-key;EndpointSuffix=core.windows.net"
RUN_CONTEXT = '{"team": "vision", "api": [{"token": "CANARY-json-token"}]}'
BASE = f"""\
mlflow_tracking_uri: https://alice:CANARY-uri-password@127.0.0.1:1
mlflow_tracking_password: CANARY-base-password
mlflow_run_context: '{RUN_CONTEXT}'
mlflow_enable_system_metrics_logging: CANARY-listed-bool
secrets: [WANDB_ENTITY, server.default_artifact_root, mlflow_enable_system_metrics_logging, tags.owner]
env:
  AWS_SECRET_ACCESS_KEY: CANARY-base-aws
  AZURE_STORAGE_CONNECTION_STRING: "{AZURE}"
  OPENAI_API_KEY: CANARY-openai-key
  AZURE_STORAGE_ACCOUNT_KEY: CANARY-account-key
  OTEL_EXPORTER_OTLP_HEADERS: "authorization=CANARY-otlp-headers"
  WANDB_ENTITY: CANARY-listed-entity
  WANDB_API_KEY: null
  SERVICE_URL: null
tags:
  owner: CANARY-listed-tag
server:
  backend_store_uri: postgresql+psycopg2://mlflow:CANARY-pg-password@127.0.0.1:1/mlflow
  default_artifact_root: s3://CANARY-listed-bucket/artifacts
"""
PRODUCTION = "mlflow_tracking_password: CANARY-envfile-password\nmlflow_tracking_token: CANARY-envfile-token\n"
LOCAL = "mlflow_tracking_token: CANARY-local-token\nenv:\n  GOOGLE_APPLICATION_CREDENTIALS: /CANARY-local-gcp.json\n"
DOTENV = """\
MLFLOW_TRACKING_PASSWORD=CANARY-dotenv-password
MY_API_TOKEN=CANARY-dotenv-token
ANTHROPIC_API_KEY=CANARY-anthropic-key
SERVICE_URL=https://bot:CANARY-dotenv-uri-pw@127.0.0.1:1/x
"""
PROCESS = {
    "MLFLOW_TRACKING_TOKEN_FILE": "secrets/token",
    "MLFLOW_EXPERIMENT_NAME_FILE": "secrets/experiment",
    "MLFLOW_TRACKING_PASSWORD": "CANARY-process-password",
    "LAYERED_MLFLOW_TAGS__deploy_token": "CANARY-process-tag",
    "MLFLOW_TRACKING_USERNAME": "alice",
    "WANDB_API_KEY": "CANARY-wandb-key",
}
SET = ("--set", "env.DB_PASSWORD=CANARY-set-password", "--env", "production")
FILES = {"secrets/token": "CANARY-file-token\n", "secrets/experiment": "CANARY-file-experiment\n"}
# Each canary whole, and its distinct part alone: no byte of a secret may be printed, not even half of one.
_PLANTED = "".join([BASE, PRODUCTION, LOCAL, DOTENV, str(PROCESS), SET[1], *FILES.values()])
_WHOLE = sorted(set(re.findall(r"CANARY-[a-z-]+", _PLANTED)))
CANARIES = [*_WHOLE, *(canary.removeprefix("CANARY-") for canary in _WHOLE)]


def assert_no_canary(text: str) -> None:
    """Neither a whole canary nor its distinct part is in ``text``."""
    leaked = [canary for canary in CANARIES if canary in text]
    assert not leaked, f"{leaked} leaked in:\n{text}"


COMMANDS = [
    pytest.param(("show",), 0, id="show-text"),
    pytest.param(("show", "--format", "json"), 0, id="show-json"),
    pytest.param(("run", "--dry-run", "--", "true"), 0, id="run-dry-run"),
    pytest.param(("-v", "run", "--", "true"), 0, id="run-verbose"),
    pytest.param(("check",), 1, id="check"),
    pytest.param(("check", "--all-envs", "--strict"), 1, id="check-all-envs"),
    pytest.param(("check", "--online", "--timeout", "1"), 1, id="check-online"),
    *(pytest.param(("env", "--format", f), 0, id=f"env-{f}") for f in ("dotenv", "shell", "json", "docker", "github")),
    pytest.param(("server", "--dry-run"), 0, id="server-dry-run"),
    pytest.param(("-v", "server", "--dry-run"), 0, id="server-verbose"),
    pytest.param(("ui", "--dry-run"), 2, id="ui-refuses-the-remote-store"),
    *(
        pytest.param(("explain", key), 0, id=f"explain-{key}")
        for key in (
            "mlflow_tracking_uri",
            "mlflow_tracking_password",
            "mlflow_tracking_token",
            "mlflow_experiment_name",
            "mlflow_enable_system_metrics_logging",
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_STORAGE_CONNECTION_STRING",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "MY_API_TOKEN",
            "DB_PASSWORD",
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "WANDB_API_KEY",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "WANDB_ENTITY",
            "SERVICE_URL",
            "tags.deploy_token",
            "tags.owner",
            "server.backend_store_uri",
            "server.default_artifact_root",
            "MLFLOW_RUN_CONTEXT",
        )
    ),
]


@pytest.fixture
def planted(project: Project) -> Project:
    """A canary in every layer and of every kind of secret: names, the secrets list, X_FILE, JSON, URIs."""
    for path, text in FILES.items():
        project.write(path, text)
    project.write("settings/mlflow.yml", BASE)
    project.write("settings/mlflow.production.yml", PRODUCTION)
    project.write("settings/mlflow.local.yml", LOCAL)
    project.write(".env", DOTENV)
    return project


@pytest.mark.parametrize(("command", "code"), COMMANDS)
def test_no_canary_is_printed(planted: Project, command: tuple[str, ...], code: int) -> None:
    """Whatever the command and format, it works, prints *** where a secret was, and no byte of one."""
    result = planted.cli(*SET, *command, env=PROCESS, timeout=60)
    assert result.returncode == code, result
    assert_no_canary(result.stdout + result.stderr)
    assert "***" in result.stdout + result.stderr, result


@pytest.mark.parametrize("fmt", ["ray", "k8s", "ecs", "spark"])
def test_engine_formats_refuse_every_literal_secret_and_print_none(planted: Project, fmt: str) -> None:
    """An engine's format (SPEC §13) refuses the literal secrets, naming them, with no byte of one."""
    result = planted.cli(*SET, "env", "--format", fmt, env=PROCESS, timeout=60)
    assert result.returncode == 2, result
    assert "hold literal secrets" in result.stderr, result
    assert_no_canary(result.stdout + result.stderr)


def test_a_broken_run_context_is_masked_whole(project: Project) -> None:
    """An mlflow_run_context that is not JSON cannot be masked entry by entry: it is *** in every output."""
    env = {"MLFLOW_RUN_CONTEXT": '{"token": "CANARY-broken-context",}'}
    for args in (("show",), ("env", "--format", "json"), ("run", "--dry-run", "--", "true")):
        result = project.cli(*args, env=env)
        assert result.returncode == 0, result
        assert "broken-context" not in result.stdout + result.stderr, result
        assert "***" in result.stdout, result
    checked = project.cli("check", env=env)
    assert "MLFLOW_RUN_CONTEXT (environment) = '***' is not a JSON object" in checked.stdout, checked
    assert "broken-context" not in checked.stdout + checked.stderr, checked


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
    """--show-secrets is the one way to print them: the canaries are really there, each of them."""
    result = planted.cli(*SET, "show", "--format", "json", "--show-secrets", env=PROCESS)
    assert result.returncode == 0, result
    hidden = [c for c in CANARIES if c.startswith("CANARY-") and c not in result.stdout]
    # Lower layers' words lose to higher ones: they are in `explain`, not in the result.
    lost = ["base-password", "dotenv-password", "envfile-password", "envfile-token", "local-token"]
    assert hidden == [f"CANARY-{canary}" for canary in lost], hidden


# check --online: what a server answers, and what Python's exceptions say, may quote the credentials.
ECHOED = "CANARY-online-password"
BLOB = base64.b64encode(f"alice:{ECHOED}".encode()).decode()


class _Reflects(http.server.BaseHTTPRequestHandler):
    """A server that echoes the Authorization it got: in a redirect's Location, or as a broken status line."""

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        if self.path.startswith("/broken"):
            self.wfile.write(f"NOT-HTTP {auth} {ECHOED}\r\n\r\n".encode())
            return
        self.send_response(302)
        self.send_header("Location", f"http://127.0.0.1:9/login?echo={auth}&pw={ECHOED}&x=\x1b[2J\x07")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def reflecting() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Reflects)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "credentials", "message"),
    [
        pytest.param("", {"MLFLOW_TRACKING_PASSWORD": ECHOED}, "redirects (HTTP 302) to", id="location-basic"),
        pytest.param("", {"MLFLOW_TRACKING_TOKEN": ECHOED}, "redirects (HTTP 302) to", id="location-token"),
        pytest.param("/broken", {"MLFLOW_TRACKING_PASSWORD": ECHOED}, "the answer is not HTTP", id="status-line"),
    ],
)
def test_online_never_repeats_what_a_server_reflects(
    project: Project, reflecting: int, path: str, credentials: dict[str, str], message: str
) -> None:
    """A server's words are masked (the credentials it echoes) and escaped (its control characters)."""
    env = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{reflecting}{path}", "MLFLOW_TRACKING_USERNAME": "alice"}
    result = project.cli("check", "--online", "--timeout", "5", env={**env, **credentials})
    assert result.returncode == 1, result
    assert message in result.stdout, result
    output = result.stdout + result.stderr
    for leaked in (ECHOED, "online-password", BLOB, "\x1b", "\x07"):
        assert leaked not in output, result


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(
            {"MLFLOW_TRACKING_URI": "http://127.0.0.1:1", "MLFLOW_TRACKING_TOKEN": "CANARY-crlf-token\r"},
            "MLFLOW_TRACKING_TOKEN holds a control character",
            id="token-ending-in-cr",
        ),
        *(
            pytest.param(
                {"MLFLOW_TRACKING_URI": f"http://alice:pa{c}CANARY-uri-pw@127.0.0.1:1"},
                "the URI's host and port do not parse",
                id=f"uri-password-holding-{name}",
            )
            for c, name in (("#", "hash"), ("/", "slash"), ("?", "query"))
        ),
        pytest.param(
            {"MLFLOW_TRACKING_URI": "postgresql+psycopg2://u:pa/CANARY-pg-pw@127.0.0.1:1/x"},
            "the URI's host and port do not parse",
            id="database-password-holding-slash",
        ),
    ],
)
def test_online_messages_quote_no_exception(project: Project, env: dict[str, str], message: str) -> None:
    """Python's exception text quotes the header or the password's first bytes; the check says what it knows."""
    result = project.cli("check", "--online", "--timeout", "2", env=env)
    assert result.returncode == 1, result
    assert message in result.stdout, result
    assert "CANARY" not in result.stdout + result.stderr, result
    assert "pa" not in result.stdout.replace("pass", "").replace("parse", ""), result


class _Echoes(http.server.BaseHTTPRequestHandler):
    """A server (or proxy) that answers every API call with an error quoting the request's credentials."""

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        decoded = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth.startswith("Basic ") else ""
        words = f"you sent {auth!r}, that is {decoded!r}, and {quote(decoded)} \x1b[2J"
        body = json.dumps({"error_code": "BAD_REQUEST", "message": words}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echoing() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echoes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.mark.mlflow
@pytest.mark.parametrize(
    ("user_info", "credentials"),
    [
        pytest.param("", {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": ECHOED}, id="basic"),
        pytest.param("", {"MLFLOW_TRACKING_TOKEN": ECHOED}, id="bearer"),
        pytest.param(f"alice:{quote(ECHOED, safe='')}@", {}, id="uri-user-info"),
    ],
)
def test_experiment_never_repeats_what_a_server_echoes(
    project: Project, echoing: int, user_info: str, credentials: dict[str, str]
) -> None:
    """`experiment`'s report of a server's refusal is scrubbed as `check --online`'s: no header, no password."""
    env = {"MLFLOW_TRACKING_URI": f"http://{user_info}127.0.0.1:{echoing}", "MLFLOW_EXPERIMENT_NAME": "x"}
    result = project.cli("experiment", env={**env, **credentials})
    assert result.returncode == 1, result
    assert "the tracking store refused: RestException: BAD_REQUEST: you sent" in result.stdout, result
    output = result.stdout + result.stderr
    for leaked in (ECHOED, "online-password", BLOB, "\x1b"):
        assert leaked not in output, result


@pytest.mark.parametrize(
    "uri", ["http://alice:a CANARY-spaced@127.0.0.1:1", "https://alice:a b CANARY-spaced@h.example"]
)
def test_ui_never_quotes_a_password_holding_a_space(project: Project, uri: str) -> None:
    """`ui --dry-run` refusing a remote tracking URI quotes it with the password masked, spaces and all."""
    result = project.cli("ui", "--dry-run", env={"MLFLOW_TRACKING_URI": uri})
    assert result.returncode == 2, result
    assert "://alice:***@" in result.stderr, result
    assert "CANARY" not in result.stdout + result.stderr, result
