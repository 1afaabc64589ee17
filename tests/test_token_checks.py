"""What `check` says about the `token` section: its conflicts and values, the command's Python, --online."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.servers import LOOPBACK


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            "token:\n  file: t\nmlflow_tracking_token: static\n",
            "error: the `token` section and mlflow_tracking_token (settings/mlflow.yml) are both set",
            id="with-a-static-token",
        ),
        pytest.param(
            "token:\n  command: [get-token]\nmlflow_tracking_username: u\nmlflow_tracking_password: p\n",
            "error: the `token` section and mlflow_tracking_password (settings/mlflow.yml) are both set",
            id="with-username-and-password",
        ),
        pytest.param(
            "token:\n  file: t\n  command: [get-token]\n",
            "error: token.file (settings/mlflow.yml) and token.command (settings/mlflow.yml) are both set",
            id="file-and-command",
        ),
        pytest.param("token:\n  ttl: 60\n", "error: the `token` section names neither file nor command", id="neither"),
        pytest.param(
            "token:\n  command: get-token\n", "must be a list: an argv, run without a shell", id="command-not-a-list"
        ),
        pytest.param(
            "token:\n  command: [get-token]\n  ttl: soon\n", "must be a whole number of seconds", id="ttl-not-a-number"
        ),
        pytest.param(
            "token:\n  file: t\nmlflow_tracking_auth: kubernetes\n",
            "error: mlflow_tracking_auth (settings/mlflow.yml) names another provider",
            id="another-provider",
        ),
    ],
)
def test_check_refuses_what_the_token_section_cannot_do(project: Project, settings: str, message: str) -> None:
    """`check` calls each conflict or bad value of the section an error (exit 1); `run` warns of it."""
    project.write("settings/mlflow.yml", settings)
    result = project.cli("check")
    assert result.returncode == 1, result
    assert message in result.stdout, result


def test_check_says_when_the_commands_python_lacks_the_provider(project: Project, tmp_path: Path) -> None:
    """A `python` first on the command's PATH without layered-mlflow (a bare venv) is named, with the fix."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    project.write("settings/mlflow.yml", "token:\n  file: t\n")
    bare = tmp_path / "bare" / "bin"
    result = project.cli("check", env={"PATH": f"{bare}{os.pathsep}{os.environ['PATH']}"})
    assert f"warning: {bare}/python cannot load layered-mlflow's auth provider" in result.stdout, result
    assert "layered-mlflow's auth provider" not in project.cli("check").stdout


class _NeedsBearer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == "Bearer from-the-file"
        body = b"{}" if ok else b""
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_check_online_sends_the_sections_token(project: Project) -> None:
    """`check --online` authenticates with the token the provider would send (tokens.current_token)."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _NeedsBearer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project.write("token.txt", "from-the-file\n")
        uri = f"http://{LOOPBACK}:{server.server_port}"
        project.write("settings/mlflow.yml", f"mlflow_tracking_uri: {uri}\ntoken:\n  file: token.txt\n")
        result = project.cli("check", "--online", "--timeout", "5")
    finally:
        server.shutdown()
        server.server_close()
    # The tracking probe got past the token check; this stand-in is no MLflow, so the artifact probe
    # after it (issue 14) finds no artifact location: that line is not this test's business.
    assert "reached the tracking server" in result.stdout, result
    assert "401" not in result.stdout, result
    assert "from-the-file" not in result.stdout + result.stderr


def test_a_relative_command_is_run_from_the_root_from_any_folder(project: Project) -> None:
    """`token.command: [bin/get-token]` is the root's script from `notebooks/` too: `check --online` sends its token."""
    script = project.write("bin/get-token", "#!/bin/sh\necho from-the-file\n")
    script.chmod(0o755)
    (project.root / "notebooks").mkdir()
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _NeedsBearer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://{LOOPBACK}:{server.server_port}"
        project.write("settings/mlflow.yml", f"mlflow_tracking_uri: {uri}\ntoken:\n  command: [bin/get-token]\n")
        result = project.cli("check", "--online", "--timeout", "5", cwd=project.root / "notebooks")
    finally:
        server.shutdown()
        server.server_close()
    assert "reached the tracking server" in result.stdout, result
    assert "bin/get-token" not in result.stdout, result  # no problem names it


@pytest.mark.parametrize(
    ("section", "level", "message"),
    [
        pytest.param(
            "command: [no-such-token-program]",
            "error",
            "token.command (settings/mlflow.yml): no-such-token-program is not on the command's PATH",
            id="command-not-on-path",
        ),
        pytest.param(
            "command: [bin/missing]",
            "error",
            "token.command (settings/mlflow.yml): {root}/bin/missing is not an executable file",
            id="command-path-missing",
        ),
        pytest.param(
            "file: run/token",
            "warning",
            "token.file (settings/mlflow.yml): {root}/run/token does not exist (yet)",
            id="file-missing",
        ),
        pytest.param(
            "file: settings",
            "error",
            "token.file (settings/mlflow.yml): {root}/settings is not a regular file",
            id="file-a-folder",
        ),
    ],
)
def test_check_names_a_token_source_that_is_not_there(project: Project, section: str, level: str, message: str) -> None:
    """A command not on PATH (or not at its path) is an error; a missing file a warning (a sidecar may write it)."""
    project.write("settings/mlflow.yml", f"token:\n  {section}\n")
    result = project.cli("check")
    assert f"  {level}: {message.format(root=project.root)}" in result.stdout, result
    assert result.returncode == (1 if level == "error" else 0), result
