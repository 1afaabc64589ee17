"""`check --online`: reach the tracking store within a bound, with the real Host header."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import Project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def picky_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `mlflow server` on 127.0.0.1 that allows only the Host header `localhost:<port>`."""
    port = free_port()
    folder = tmp_path_factory.mktemp("server")
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{folder}/mlflow.db", "--allowed-hosts", f"localhost:{port}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    server = subprocess.Popen(command, cwd=folder, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("mlflow server did not start")
                time.sleep(0.25)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.mlflow
def test_health_passes_where_the_api_refuses(picky_server: int) -> None:
    """Why check calls the API: /health answers 200 for a Host header every API call refuses."""
    with urllib.request.urlopen(f"http://127.0.0.1:{picky_server}/health", timeout=10) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{picky_server}/api/2.0/mlflow/experiments/search", timeout=10)
    refused.value.close()
    assert refused.value.code == 403


@pytest.mark.mlflow
def test_online_reports_a_refused_host_header(project: Project, picky_server: int) -> None:
    """403 "Invalid Host header": the server needs --allowed-hosts; the check fails (exit 1)."""
    result = project.cli("check", "--online", env={"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{picky_server}"})
    assert result.returncode == 1, result
    assert f"refuses the Host header '127.0.0.1:{picky_server}'" in result.stdout
    assert f"--allowed-hosts 127.0.0.1:{picky_server}" in result.stdout


@pytest.mark.mlflow
def test_online_reaches_a_server_that_allows_the_host(project: Project, picky_server: int) -> None:
    """The same server through an allowed Host header: reached, exit 0."""
    result = project.cli("check", "--online", env={"MLFLOW_TRACKING_URI": f"http://localhost:{picky_server}"})
    assert result.returncode == 0, result
    assert "reached the tracking server: its API answered" in result.stdout


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("kind", ["refused", "hung"])
def test_online_fails_within_the_bound(project: Project, hung_port: int, kind: str) -> None:
    """A refused port and a server that never answers both fail, and say which."""
    port = free_port() if kind == "refused" else hung_port
    env = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}
    result = project.cli("check", "--online", "--timeout", "1", env=env, timeout=60)
    assert result.returncode == 1, result
    expected = "connection refused" if kind == "refused" else "no answer within 1 s"
    assert expected in result.stdout


@pytest.mark.parametrize(
    ("uri", "prepare", "code", "message"),
    [
        pytest.param("sqlite:///mlflow.db", "sqlite", 0, "the database opens", id="sqlite-opens"),
        pytest.param("sqlite:///new.db", None, 0, "MLflow will create it", id="sqlite-to-create"),
        pytest.param("sqlite:///garbage.db", "garbage", 1, "the database does not open", id="sqlite-garbage"),
        pytest.param("mlruns", None, 0, "the folder can be created", id="file-store-to-create"),
        pytest.param("file-not-folder/mlruns", "file", 1, "is not a writable folder", id="file-store-under-a-file"),
        pytest.param(
            "postgresql+psycopg2://u@127.0.0.1:{port}/db", None, 1, "connection refused", id="postgres-refused"
        ),
        pytest.param("databricks", None, 0, "not checked online", id="databricks-not-probed"),
    ],
)
def test_online_local_stores(project: Project, uri: str, prepare: str | None, code: int, message: str) -> None:
    """sqlite opens (read-only), a file store's folder can be created, a database port answers."""
    if prepare == "sqlite":
        import sqlite3

        sqlite3.connect(project.root / "mlflow.db").execute("create table t (x)").connection.close()
    elif prepare == "garbage":
        (project.root / "garbage.db").write_bytes(b"not a database at all" * 100)
    elif prepare == "file":
        (project.root / "file-not-folder").write_text("x")
    project.write("settings/mlflow.yml", f"mlflow_tracking_uri: {uri.format(port=free_port())}\n")
    before = sorted(Path(project.root).rglob("*"))
    result = project.cli("check", "--online", "--timeout", "2")
    assert result.returncode == code, result
    assert message in result.stdout
    assert sorted(Path(project.root).rglob("*")) == before, "check must not create anything"


class _NotMlflow(http.server.BaseHTTPRequestHandler):
    """What sits in front of a tracking URI by mistake: a redirect elsewhere, or a login page."""

    seen: ClassVar[list[str | None]] = []
    redirect = False

    def do_GET(self) -> None:
        _NotMlflow.seen.append(self.headers.get("Authorization"))
        if self.redirect:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/api/2.0/mlflow/experiments/search")
            self.end_headers()
            return
        body = b"<html>please log in</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Redirects(_NotMlflow):
    redirect = True


@pytest.fixture
def not_mlflow() -> Iterator[dict[str, int]]:
    """Two loopback servers: one redirects to another address, one serves a login page."""
    servers = {
        "redirect": http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirects),
        "login": http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMlflow),
    }
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {kind: server.server_port for kind, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        pytest.param("redirect", "the server redirects (HTTP 302) to http://127.0.0.2:9/", id="redirect-not-followed"),
        pytest.param("login", "HTTP 200, but not MLflow's API", id="login-page"),
    ],
)
def test_online_is_not_fooled(project: Project, not_mlflow: dict[str, int], kind: str, message: str) -> None:
    """A redirect is reported, not followed with the credentials; a 200 that is not MLflow's API fails."""
    _NotMlflow.seen.clear()
    env = {
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{not_mlflow[kind]}",
        "MLFLOW_TRACKING_USERNAME": "u",
        "MLFLOW_TRACKING_PASSWORD": "pw-canary",
    }
    result = project.cli("check", "--online", "--timeout", "5", env=env)
    assert result.returncode == 1, result
    assert message in result.stdout
    assert len(_NotMlflow.seen) == 1, "exactly one request, to the configured address"


@pytest.mark.mlflow
def test_online_takes_credentials_from_the_uri(project: Project, picky_server: int) -> None:
    """User-info in the URI (http://user:pw@host) is sent as basic auth, as MLflow's client does."""
    uri = f"http://alice:secret@localhost:{picky_server}"
    result = project.cli("check", "--online", env={"MLFLOW_TRACKING_URI": uri})
    assert result.returncode == 0, result
    assert "secret" not in result.stdout


class _NeedsBasic(http.server.BaseHTTPRequestHandler):
    """A server that wants basic-auth credentials, as MLflow's basic-auth app does, and takes none."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="mlflow"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("dotenv", "message", "hint"),
    [
        pytest.param(
            "",
            "the server asks for credentials (HTTP 401), and none were sent",
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
            id="none-sent",
        ),
        pytest.param(
            "MLFLOW_TRACKING_USERNAME=alice\nMLFLOW_TRACKING_PASSWORD=wrong\n",
            "the server refused the credentials (HTTP 401)",
            "check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD",
            id="refused",
        ),
    ],
)
def test_a_401_says_whether_credentials_were_sent(project: Project, dotenv: str, message: str, hint: str) -> None:
    """No credentials sent is not "refused": the line says none were sent, and how to give them."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NeedsBasic)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project.write(".env", dotenv)
        result = project.cli("check", "--online", env={"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result
    assert f"{message} (hint: {hint}" in result.stdout, result


@pytest.mark.parametrize("seconds", ["inf", "nan", "-inf", "1e308", "0"])
def test_a_timeout_that_is_no_bounded_number_is_one_line(project: Project, seconds: str) -> None:
    """`--timeout inf` or `nan` is click's one-line usage error, exit 2, never an OverflowError."""
    result = project.cli("check", "--online", "--timeout", seconds)
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: Invalid value for '--timeout'"), result
    assert result.stderr.count("\n") == 1, result
