"""Canaries for SPEC §11's new paths: fetched values, tokens, required-key errors, failed fetches, --github-env.

Each canary is fetched (moto's Secrets Manager and SSM, an `op` stand-in) into keys whose names say nothing
secret, or read by the token section; no command or format may print a byte of one without --show-secrets.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.servers import LOOPBACK, free_port
from tests.test_references import _client, aws_settings, moto  # noqa: F401 (moto: the server fixture)

pytestmark = pytest.mark.server

FETCHED = {
    "prod/canary-plain": "CANARY-fetched-plain",
    "prod/canary-json": json.dumps({"user": "CANARY-fetched-field", "other": "x"}),
    "prod/canary-pem": "CANARY-fetched-line-one\nCANARY-fetched-line-two\n",
}
SSM = {"/canary/param": "CANARY-fetched-ssm"}
OP = "CANARY-fetched-op"
TOKEN = "CANARY-token-file"  # noqa: S105 (a canary)
SETTINGS = """\
mlflow_tracking_username: aws-sm:prod/canary-json#user
mlflow_experiment_name: op://ml/canary/experiment
tags:
  owner: aws-ssm:/canary/param
token:
  file: token.txt
"""
EXTRA_ENV = "  SERVICE_SETTING: aws-sm:prod/canary-plain\n  SERVICE_PEM: aws-sm:prod/canary-pem\n"
_WHOLE = sorted(set(re.findall(r"CANARY-[a-z-]+", json.dumps([FETCHED, SSM, OP, TOKEN]))))
CANARIES = [*_WHOLE, *(canary.removeprefix("CANARY-") for canary in _WHOLE)]


def assert_no_canary(text: str) -> None:
    leaked = [canary for canary in CANARIES if canary in text]
    assert not leaked, f"{leaked} leaked in:\n{text}"


class _Reflects(http.server.BaseHTTPRequestHandler):
    """A tracking server that echoes the Authorization it got in a redirect's Location."""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", f"http://{LOOPBACK}:9/login?echo={self.headers.get('Authorization', '')}")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def reflecting() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Reflects)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stored(request: pytest.FixtureRequest) -> int:
    """The canaries stored in moto (test_references' server fixture)."""
    port: int = request.getfixturevalue("moto")
    sm, ssm = _client("secretsmanager", port), _client("ssm", port)
    for name, value in FETCHED.items():
        sm.create_secret(Name=name, SecretString=value)
    for name, value in SSM.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    return port


@pytest.fixture
def planted(project: Project, stored: int, reflecting: int, tmp_path: Path) -> tuple[Project, dict[str, str]]:
    """A project whose values are all references or the token file; the environment `op` is found in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    op = bin_dir / "op"  # a stand-in for 1Password's CLI: `op read --no-newline REF` prints the value
    op.write_text(f"#!/bin/sh\nprintf '%s' '{OP}'\n")
    op.chmod(op.stat().st_mode | stat.S_IXUSR)
    project.write("token.txt", TOKEN + "\n")
    project.write(
        "settings/mlflow.yml",
        f"mlflow_tracking_uri: http://{LOOPBACK}:{reflecting}\nserver:\n  port: {free_port()}\n"
        + SETTINGS
        + aws_settings(stored)
        + EXTRA_ENV,
    )
    return project, {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


COMMANDS = [
    pytest.param(("show",), 0, id="show-text"),
    pytest.param(("show", "--format", "json"), 0, id="show-json"),
    pytest.param(("run", "--dry-run", "--", "true"), 0, id="run-dry-run"),
    pytest.param(("-v", "run", "--", "true"), 0, id="run-verbose-fetches"),
    pytest.param(("check",), 0, id="check"),
    pytest.param(("check", "--online", "--timeout", "5"), 1, id="check-online-fetches"),
    *(pytest.param(("env", "--format", f), 0, id=f"env-{f}") for f in ("dotenv", "shell", "json", "docker", "github")),
    pytest.param(("server", "--dry-run"), 0, id="server-dry-run"),
    pytest.param(("-v", "server", "--", "--help"), 0, id="server-verbose-fetches"),
    pytest.param(("ui", "--dry-run"), 2, id="ui-refuses-the-remote-store"),
    *(
        pytest.param(("explain", key), 0, id=f"explain-{key}")
        for key in ("mlflow_tracking_username", "mlflow_experiment_name", "tags.owner", "SERVICE_SETTING", "token.file")
    ),
]


@pytest.mark.parametrize(("command", "code"), COMMANDS)
def test_no_fetched_value_or_token_is_printed(
    planted: tuple[Project, dict[str, str]], command: tuple[str, ...], code: int
) -> None:
    """Whatever the command and format, fetched or not, no byte of a fetched value or of the token is printed."""
    project, env = planted
    result = project.cli(*command, env=env, timeout=60)
    assert result.returncode == code, result
    assert_no_canary(result.stdout + result.stderr)


def test_github_env_prints_only_mask_commands_for_every_canary(
    planted: tuple[Project, dict[str, str]], tmp_path: Path
) -> None:
    """--github-env writes the canaries to the file, and stdout is mask commands covering each line of each."""
    project, env = planted
    target = tmp_path / "github_env"
    result = project.cli("env", "--github-env", env={**env, "GITHUB_ENV": str(target)})
    assert result.returncode == 0, result
    assert all(line.startswith("::add-mask::") for line in result.stdout.splitlines()), result
    masked = {line.removeprefix("::add-mask::") for line in result.stdout.splitlines()}
    written = target.read_text()
    expected = [c for c in _WHOLE if c != TOKEN]  # the token is read by the provider, never written
    assert [c for c in expected if c not in written] == []
    assert [c for c in expected if not any(c in line for line in masked)] == []
    assert_no_canary(result.stderr)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param("required: [env.NOT_THERE]\n", "required key has no value", id="required-key-error"),
        pytest.param("env:\n  Z_MISSING: aws-sm:prod/none\n", "ResourceNotFoundException", id="failed-fetch"),
    ],
)
def test_errors_name_keys_never_values(planted: tuple[Project, dict[str, str]], extra: str, message: str) -> None:
    """A required-key error and a failed fetch are one line with no canary, in every command that refuses."""
    project, env = planted
    project.write("settings/mlflow.local.yml", extra)
    for command in (("run", "--", "true"), ("env", "--show-secrets"), ("-v", "server", "--", "--help")):
        result = project.cli(*command, env=env)
        assert result.returncode == 2, result
        assert message in result.stderr, result
        assert result.stderr.count("\n") == 1, result
        assert_no_canary(result.stdout + result.stderr)


def test_show_secrets_reveals_the_fetched_values(planted: tuple[Project, dict[str, str]]) -> None:
    """env --show-secrets is the way to see them: every fetched canary is really there."""
    project, env = planted
    result = project.cli("env", "--format", "json", "--show-secrets", env=env)
    assert result.returncode == 0, result
    assert [c for c in _WHOLE if c != TOKEN and c not in result.stdout] == []
