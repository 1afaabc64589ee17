"""Issue 14: a basic-auth team server from the settings, its configuration never a file (SPEC §12).

The server is started by `layered-mlflow server` on 127.0.0.1 on a free port and
stopped by PID; its start-up time is recorded (`server_startup_s`).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMMAND, Project
from tests.servers import LOOPBACK, answers, descendants, free_port, request, started
from tests.test_tracking_server import EXPERIMENTS, TRAIN, environment, stop_with_sigterm

pytestmark = [pytest.mark.server, pytest.mark.mlflow]
ADMIN_PASSWORD = "Admin-canary-4821"  # noqa: S105 (a test server's, on loopback)


def test_basic_auth_server(project: Project, record_property: Callable[[str, object], None]) -> None:
    """Unauthenticated calls get 401; a run with credentials from .env logs; users live where server.auth says."""
    port = free_port()
    project.write(
        "settings/mlflow.yml",
        f"""\
        mlflow_tracking_uri: http://{LOOPBACK}:{port}
        mlflow_experiment_name: guarded
        server:
          port: {port}
          workers: 1
          app_name: basic-auth
          auth:
            database_uri: sqlite:///auth/users.db
            default_permission: NO_PERMISSIONS
        """,
    )
    project.write(
        ".env",
        f"""\
        MLFLOW_AUTH_ADMIN_USERNAME=admin
        MLFLOW_AUTH_ADMIN_PASSWORD={ADMIN_PASSWORD}
        MLFLOW_FLASK_SERVER_SECRET_KEY=flask-canary-key
        MLFLOW_TRACKING_USERNAME=admin
        MLFLOW_TRACKING_PASSWORD={ADMIN_PASSWORD}
        """,
    )
    project.write(".env.client", "MLFLOW_FLASK_SERVER_SECRET_KEY=flask-canary-key\n")  # no tracking credentials
    (project.root / "auth").mkdir()
    (project.root / "train.py").write_text(TRAIN.read_text())
    before = set(project.root.rglob("*"))
    log = project.root.parent / "server.log"
    with started([COMMAND, "server"], log, answers(port, "/health"), cwd=project.root, env=environment()) as server:
        record_property("server_startup_s", round(server.startup, 2))
        status, _ = request(port, EXPERIMENTS)
        assert status == 401, server.output()
        trained = project.cli("run", "--", "python", "train.py", base_env=environment(), timeout=300)
        assert trained.returncode == 0, trained
        experiment = _as_admin(port, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=guarded")
        search = {"experiment_ids": [experiment["experiment"]["experiment_id"]]}
        runs = _as_admin(port, "POST", "/api/2.0/mlflow/runs/search", search)
        params = {p["key"]: p["value"] for p in runs["runs"][0]["data"]["params"]}
        assert params["lr"] == "0.1", runs
        _check_with_saved_credentials(project, port)
        # Handed over in a file that `server`'s keeper holds open (its only child: mlflow server's parent).
        keeper, *family = descendants(server.process.pid)
        handed = _auth_config_path(next(pid for pid in family if _is_mlflow_server(pid)))
        assert handed.startswith(f"/proc/{keeper}/fd/"), handed
        assert "database_uri = sqlite:///" + str(project.root / "auth" / "users.db") in Path(handed).read_text()
        stop_with_sigterm(server, port)
    assert ADMIN_PASSWORD not in log.read_text()
    with contextlib.closing(sqlite3.connect(project.root / "auth" / "users.db")) as db:
        assert [name for (name,) in db.execute("SELECT username FROM users")] == ["admin"]
    # No auth configuration was written into the project: only the databases and the run's artifacts are new.
    new = {path.relative_to(project.root).parts[0] for path in set(project.root.rglob("*")) - before}
    assert new <= {"auth", "mlflow.db", "mlartifacts"}, new
    assert not list(project.root.rglob("*.ini"))
    assert not Path(handed).exists()  # gone with the process


def _is_mlflow_server(pid: int) -> bool:
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:4] == [b"-m", b"mlflow", b"server"]


def _auth_config_path(pid: int) -> str:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    values = [entry.partition(b"=")[2].decode() for entry in environ if entry.startswith(b"MLFLOW_AUTH_CONFIG_PATH=")]
    assert len(values) == 1, "MLFLOW_AUTH_CONFIG_PATH not handed to the server"
    return values[0]


def _as_admin(port: int, method: str, path: str, body: object = None) -> dict[str, Any]:
    """An API call with the admin's basic-auth credentials; the JSON answer."""
    token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        answer: dict[str, Any] = json.loads(response.read())
        assert response.status == 200, answer
        return answer
    finally:
        connection.close()


def _check_with_saved_credentials(project: Project, port: int) -> None:
    """`check --online` logs in with ~/.mlflow/credentials as MLflow's client does; a wrong password is named."""
    home = project.root.parent / "home"
    (home / ".mlflow").mkdir(parents=True)
    for password, said in [(ADMIN_PASSWORD, "reached the tracking server"), ("wrong", "refused the credentials")]:
        saved = f"[mlflow]\nmlflow_tracking_username = admin\nmlflow_tracking_password = {password}\n"
        (home / ".mlflow" / "credentials").write_text(saved)
        checked = project.cli("--env-file", ".env.client", "check", "--online", base_env=environment(HOME=str(home)))
        assert said in checked.stdout, checked
        assert ADMIN_PASSWORD not in checked.stdout + checked.stderr
