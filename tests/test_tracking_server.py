"""Issue 5 end to end: `server` and `ui` start real MLflow servers that wrapped training runs log to.

Every server here is started by the test on 127.0.0.1 on a free port and stopped
by PID. `pytest -m server` runs this module alone; each MLflow start-up time is
recorded (`server_startup_s`) and listed at the end of the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMMAND, Project, Result, client_query
from tests.servers import LOOPBACK, Started, answers, free_port, is_listening, postgres_cluster, request, started

pytestmark = [pytest.mark.server, pytest.mark.mlflow]
TRAIN = Path(__file__).parent.parent / "examples" / "train.py"
EXPERIMENTS = "/api/2.0/mlflow/experiments/search?max_results=100"
# What a client finds on the server: the run of train.py, its params, metrics, tags and artifacts.
QUERY = """
import json, mlflow
c = mlflow.MlflowClient()
e = c.get_experiment_by_name({name!r})
r = c.search_runs([e.experiment_id])[0]
print(json.dumps({{"experiment_id": e.experiment_id, "run_id": r.info.run_id, "params": r.data.params,
  "metrics": sorted(r.data.metrics), "tags": r.data.tags,
  "artifacts": [a.path for a in c.list_artifacts(r.info.run_id)]}}))
"""
Names = Callable[[Project], list[str]]  # the experiment names in a backend store, read from the store itself


def environment(**extra: str) -> dict[str, str]:
    """The test's environment less the developer's AWS settings, plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        # MLflow's job runner leaves consumers running ~10 s after the server stops: CPU that CI lacks.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        # Should MLflow ever miss MLFLOW_S3_ENDPOINT_URL, boto3 fails on loopback instead of going out.
        AWS_ENDPOINT_URL=f"http://{LOOPBACK}:{free_port()}",
    )
    env.update(extra)
    return env


@pytest.fixture
def port() -> int:
    """The tracking server's port."""
    return free_port()


@pytest.fixture
def team(project: Project, port: int) -> Project:
    """A project serving on ``port`` (each test writes its `staging` environment); train.py at its root."""
    project.write(
        "settings/mlflow.yml",
        """\
        mlflow_experiment_name: team-server
        tags:
          project: demo
          stage: base
        server:
          workers: 1
        """,
    )
    project.write("settings/mlflow.local.yml", f"server:\n  port: {port}\n")  # a port of one's own
    shutil.copy(TRAIN, project.root / "train.py")
    (project.root / "ops").mkdir()
    return project


@contextlib.contextmanager
def serving(project: Project, port: int, command: str, record: Callable[[str, object], None]) -> Iterator[Started]:
    """`layered-mlflow COMMAND` in staging, from <root>/ops, until /health answers; stopped by PID after."""
    argv = [COMMAND, command]
    log = project.root.parent / f"{command}.log"
    env = environment(ENV_FOR_DYNACONF="staging")
    with started(argv, log, answers(port, "/health"), cwd=project.root / "ops", env=env) as server:
        record("server_startup_s", round(server.startup, 2))
        yield server


def command_lines() -> list[str]:
    """The command line of every process on this machine, as any user reads them (`ps`)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit():
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


def train(project: Project, **env: str) -> Result:
    """`layered-mlflow run -- python train.py` in staging."""
    run = ("run", "--", sys.executable, "train.py")
    result = project.cli(*run, base_env=environment(ENV_FOR_DYNACONF="staging", **env), timeout=300)
    assert result.returncode == 0, result
    return result


def stop_with_sigterm(server: Started, port: int) -> None:
    """SIGTERM to the PID started stops the server: it exits, and nothing listens on its port."""
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0, server.output()
    assert not is_listening(port), "a worker outlived the server"


def found_on(port: int, experiment: str) -> dict[str, Any]:
    found = client_query(f"http://{LOOPBACK}:{port}", QUERY.format(name=experiment))
    assert isinstance(found, dict)
    return found


def sqlite_names(project: Project) -> list[str]:
    with contextlib.closing(sqlite3.connect(project.root / "db" / "mlflow.db")) as db:
        return [name for (name,) in db.execute("SELECT name FROM experiments")]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Names]]:
    """A backend store URI as settings write it, and how to read its experiments directly."""
    if request.param == "sqlite":
        yield "sqlite:///db/mlflow.db", sqlite_names
        return
    with postgres_cluster(tmp_path / "postgres.log", "mlflow") as pg_port:
        import psycopg2

        def names(_: Project) -> list[str]:
            connection = psycopg2.connect(host=LOOPBACK, port=pg_port, user="mlflow", dbname="mlflow")
            with contextlib.closing(connection), connection.cursor() as cursor:
                cursor.execute("SELECT name FROM experiments")
                return [name for (name,) in cursor.fetchall()]

        yield f"postgresql+psycopg2://mlflow:pg-canary@{LOOPBACK}:{pg_port}/mlflow", names


def test_team_server(
    team: Project, port: int, backend: tuple[str, Names], record_property: Callable[[str, object], None]
) -> None:
    """`server` with a database and served artifacts: a wrapped run logs there, tags included; SIGTERM stops it."""
    uri, names = backend
    team.write(
        "settings/mlflow.staging.yml",
        f"""\
        mlflow_tracking_uri: http://{LOOPBACK}:{port}
        tags:
          stage: staging
        server:
          backend_store_uri: {uri}
          serve_artifacts: true
          artifacts_destination: artifacts
          allowed_hosts: [mlflow:5000, "127.0.0.1:*"]
        """,
    )
    with serving(team, port, "server", record_property) as server:
        train(team, LAYERED_MLFLOW_TAGS__team="vision", MLFLOW_RUN_CONTEXT='{"stage": "explicit"}')
        found = found_on(port, "team-server")
        assert found["params"] == {"lr": "0.1", "epochs": "50", "n": "200", "seed": "7"}
        assert found["metrics"] == ["final_loss", "loss"]
        assert found["artifacts"] == ["weights.json"]
        tags = {k: found["tags"].get(k) for k in ("project", "team", "stage", "layered_mlflow.env")}
        assert tags == {"project": "demo", "team": "vision", "stage": "explicit", "layered_mlflow.env": "staging"}
        # The artifact is in artifacts_destination, anchored to the root though the server started in ops/.
        run_folder = team.root / "artifacts" / found["experiment_id"] / found["run_id"]
        assert json.loads((run_folder / "artifacts" / "weights.json").read_text()).keys() == {"w", "b"}
        assert "team-server" in names(team)
        # allowed_hosts: a container's service name passes MLflow's Host check, an unknown host gets 403.
        status, body = request(port, EXPERIMENTS, host="mlflow:5000")
        assert status == 200, body
        assert "team-server" in body.decode()
        assert request(port, EXPERIMENTS, host="elsewhere.example:5000")[0] == 403
        said = server.output().splitlines()[0]
        assert said.startswith("layered-mlflow: serving "), said
        assert "pg-canary" not in said
        # The database password reaches mlflow server in MLFLOW_BACKEND_STORE_URI, on no command line.
        assert not [cmdline for cmdline in command_lines() if "pg-canary" in cmdline]
        stop_with_sigterm(server, port)


def test_team_server_with_s3_artifacts(
    team: Project, port: int, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Artifacts go to S3 (moto) with the endpoint and keys from settings and .env; the database defaults."""
    boto3 = pytest.importorskip("boto3")
    s3_port = free_port()
    moto = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(s3_port)]
    with started(moto, tmp_path / "moto.log", answers(s3_port, "/moto-api/"), env=environment()):
        endpoint = f"http://{LOOPBACK}:{s3_port}"
        keys = {"aws_access_key_id": "moto", "aws_secret_access_key": "moto"}  # moto takes any
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
        s3.create_bucket(Bucket="team-artifacts")
        team.write(
            "settings/mlflow.staging.yml",
            f"""\
            mlflow_tracking_uri: http://{LOOPBACK}:{port}
            mlflow_s3_endpoint_url: {endpoint}
            env:
              AWS_DEFAULT_REGION: us-east-1
            server:
              artifacts_destination: s3://team-artifacts/mlflow
            """,
        )
        team.write(".env", "AWS_ACCESS_KEY_ID=layered-key\nAWS_SECRET_ACCESS_KEY=layered-secret\n")
        with serving(team, port, "server", record_property) as server:
            train(team)
            found = found_on(port, "team-server")
            key = f"mlflow/{found['experiment_id']}/{found['run_id']}/artifacts/weights.json"
            weights = s3.get_object(Bucket="team-artifacts", Key=key)["Body"].read()
            assert json.loads(weights).keys() == {"w", "b"}
            stop_with_sigterm(server, port)
    # The tracking store is remote, so the server's database defaulted to sqlite:///mlflow.db in the root.
    assert (team.root / "mlflow.db").is_file()
    assert not (team.root / "mlartifacts").exists()


def test_ui_serves_local_runs(team: Project, port: int, record_property: Callable[[str, object], None]) -> None:
    """`ui` over the mlruns of a wrapped run: the REST API lists the experiment; stderr says where to look."""
    team.write("settings/mlflow.staging.yml", "mlflow_tracking_uri: mlruns\n")
    train(team)
    assert (team.root / "mlruns").is_dir()
    with serving(team, port, "ui", record_property) as server:
        assert f"open http://{LOOPBACK}:{port} in a browser" in server.output()
        status, body = request(port, EXPERIMENTS)
        assert status == 200, body
        assert "team-server" in [e["name"] for e in json.loads(body)["experiments"]]
        stop_with_sigterm(server, port)
