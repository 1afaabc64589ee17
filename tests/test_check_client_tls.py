"""Issue 14: `check --online` presents a client certificate and the workspace header, as MLflow's client does.

MLflow itself serves plain HTTP; a client certificate is asked for by the TLS
proxy in front of it. That proxy is played here by a loopback HTTPS server that
requires a certificate signed by a test CA and answers the API call MLflow's
way, recording the workspace header it was sent.
"""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import Project
from tests.servers import LOOPBACK


class _Proxy(http.server.BaseHTTPRequestHandler):
    workspaces: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.workspaces.append(self.headers.get("X-MLFLOW-WORKSPACE"))
        # One answer for the three calls check --online makes: search, get the experiment, list its artifacts.
        body = b'{"experiments": [], "experiment": {"artifact_location": "mlflow-artifacts:/0"}, "files": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what it recorded."""


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    """A loopback HTTPS server requiring a client certificate; yields its port, the CA and a client's PEM."""
    folder = tmp_path_factory.mktemp("tls")
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca"),
        *("-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem")),
    )
    for name, cn in (("server", "127.0.0.1"), ("client", "trainer")):
        _openssl(
            *("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}"),
            *("-keyout", str(folder / f"{name}.key"), "-out", str(folder / f"{name}.csr")),
        )
        (folder / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1\n")
        _openssl(
            *("x509", "-req", "-in", str(folder / f"{name}.csr"), "-CA", str(folder / "ca.pem")),
            *("-CAkey", str(folder / "ca.key"), "-CAcreateserial", "-days", "1"),
            *("-extfile", str(folder / f"{name}.ext"), "-out", str(folder / f"{name}.pem")),
        )
    client = folder / "client-bundle.pem"  # MLflow hands requests one file: certificate and key
    client.write_text((folder / "client.pem").read_text() + (folder / "client.key").read_text())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    context.load_verify_locations(folder / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Proxy)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], folder / "ca.pem", client
    finally:
        server.shutdown()
        server.server_close()


def test_client_certificate_and_workspace(project: Project, mtls: tuple[int, Path, Path]) -> None:
    """With MLFLOW_TRACKING_CLIENT_CERT_PATH the proxy lets the check through; without it TLS fails, named."""
    port, ca, client = mtls
    project.write(
        "settings/mlflow.yml",
        f"mlflow_tracking_uri: https://{LOOPBACK}:{port}\nmlflow_tracking_server_cert_path: {ca}\n"
        "mlflow_workspace: vision\n",
    )
    refused = project.cli("check", "--online")
    assert refused.returncode == 1, refused
    assert "TLS failed" in refused.stdout or "closed the connection" in refused.stdout, refused
    _Proxy.workspaces.clear()
    passed = project.cli("--set", f"mlflow_tracking_client_cert_path={client}", "check", "--online")
    assert passed.returncode == 0, passed
    assert "reached the tracking server: its API answered" in passed.stdout
    assert _Proxy.workspaces == ["vision"] * 3  # the API call, the experiment, its artifacts
