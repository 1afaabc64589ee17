"""Where the `token` section's bearer token may go (SPEC §11): the tracking and registry URIs' origins, no other.

Three local servers answer as MLflow's REST API does and note the Authorization each request had; a training
script's MLflow client reaches the tracking server, the registry, and a server of the script's own choosing.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
from collections.abc import Iterator

import pytest

from layered_mlflow.secrets.tokens import origin
from tests.conftest import Project
from tests.servers import LOOPBACK

TOKEN = "scoped-token-canary"  # noqa: S105 (a test token)


class _Recording(http.server.BaseHTTPRequestHandler):
    """An MLflow REST API with nothing in it; every request's Authorization header is noted by port."""

    seen: dict[int, list[str]] = {}  # noqa: RUF012 (shared by the servers of one test module)

    def do_GET(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        port = self.connection.getsockname()[1]
        self.seen.setdefault(port, []).append(self.headers.get("Authorization", ""))
        body = json.dumps({"experiments": [], "registered_models": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # search_experiments is a POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[list[int]]:
    """Three servers on free ports: the tracking server, the registry, and another."""
    started = [http.server.ThreadingHTTPServer((LOOPBACK, 0), _Recording) for _ in range(3)]
    for server in started:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recording.seen.clear()
    yield [server.server_address[1] for server in started]
    for server in started:
        server.shutdown()
        server.server_close()


SCRIPT = """
import sys
from mlflow import MlflowClient
MlflowClient().search_experiments()  # the tracking server
MlflowClient().search_registered_models()  # the registry
MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[1]).search_experiments()  # the script's own choice
"""


@pytest.mark.mlflow
def test_the_token_goes_to_the_tracking_and_registry_hosts_only(project: Project, servers: list[int]) -> None:
    """The tracking server and the registry get `Bearer <token>`; a server the script names gets no token."""
    tracking, registry, other = servers
    project.write("token.txt", TOKEN + "\n")
    project.write(
        "settings/mlflow.yml",
        f"mlflow_tracking_uri: http://{LOOPBACK}:{tracking}\n"
        f"mlflow_registry_uri: http://{LOOPBACK}:{registry}\n"
        "token:\n  file: token.txt\n",
    )
    result = project.cli("run", "--", sys.executable, "-c", SCRIPT, f"http://{LOOPBACK}:{other}")
    assert result.returncode == 0, result
    assert _Recording.seen[tracking] == [f"Bearer {TOKEN}"]
    assert _Recording.seen[registry] == [f"Bearer {TOKEN}"]
    assert _Recording.seen[other] == [""]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://127.0.0.1:5000/api/2.0/x", ("http", "127.0.0.1", 5000), id="port"),
        pytest.param("https://MLflow.Example.com/api", ("https", "mlflow.example.com", 443), id="host-case-default"),
        pytest.param("http://user:pw@host/api", ("http", "host", 80), id="user-info-ignored"),
        pytest.param("https://host:443/", ("https", "host", 443), id="explicit-default-port"),
        pytest.param("databricks://profile", None, id="not-http"),
        pytest.param("file:///tmp/mlruns", None, id="file"),
        pytest.param("http://host:notaport/", None, id="bad-port"),
        pytest.param("", None, id="unset"),
    ],
)
def test_an_origin_is_scheme_host_and_port(url: str, expected: tuple[str, str, int] | None) -> None:
    """Requests are compared by scheme, lower-cased host and port (the scheme's default when none is written)."""
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("location", "noted"),
    [
        pytest.param("https://artifacts.example.com/ml", True, id="another-server"),
        pytest.param("https://mlflow.example.com/artifacts", False, id="the-tracking-server"),
        pytest.param("mlflow-artifacts:/ml", False, id="proxied"),
        pytest.param("s3://bucket/ml", False, id="a-bucket"),
    ],
)
def test_check_notes_an_artifact_server_the_token_does_not_reach(project: Project, location: str, noted: bool) -> None:
    """An http(s) artifact location on another origin than the tracking and registry URIs is a `check` note."""
    project.write("token.txt", TOKEN + "\n")
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: https://mlflow.example.com\n"
        f"experiment:\n  artifact_location: {location}\ntoken:\n  file: token.txt\n",
    )
    result = project.cli("check")
    assert result.returncode == 0, result
    assert ("the `token` section's token is not sent there" in result.stdout) is noted, result
