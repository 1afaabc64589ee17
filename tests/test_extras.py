"""Issue 14: step 3 of docs/server.md from a fresh virtual environment, with the extra that enables it.

The project is installed from this checkout into a new venv without this one's
packages (no --system-site-packages, no --no-deps): first alone, where `check`
must name what is missing, then with `[server]`, which must be enough for a
PostgreSQL + S3 (moto) team server. Versions are pinned to this venv's
(`pip freeze`), so pip takes the wheels it already has in its cache instead of
resolving anew: the proof is the same, minutes shorter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.servers import LOOPBACK, answers, free_port, postgres_cluster, started
from tests.test_tracking_server import TRAIN, environment

pytestmark = [pytest.mark.server, pytest.mark.mlflow]
CHECKOUT = Path(__file__).parent.parent
_MOTO_KEYS = {"aws_access_key_id": "moto", "aws_secret_access_key": "moto"}  # moto takes any


def _pip(venv: Path, *args: str, constraints: Path) -> None:
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The fresh venv's command, as a user runs it."""
    return subprocess.run(argv, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=300, check=False)


def _fresh_venv(tmp_path: Path) -> tuple[Path, Path]:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(line for line in frozen.splitlines() if not line.startswith("layered-mlflow")))
    source = tmp_path / "checkout"  # a copy: building must not leave files in the developer's tree
    shutil.copytree(CHECKOUT, source, ignore=shutil.ignore_patterns(".git", "*.egg-info", "__pycache__", ".venv"))
    return venv, source


def test_the_server_extra_runs_readme_step_3(
    project: Project, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Without the extra `check` names postgres and aws; with `[server]` a PostgreSQL + S3 server logs a run."""
    boto3 = pytest.importorskip("boto3")
    venv, source = _fresh_venv(tmp_path)
    command = str(venv / "bin" / "layered-mlflow")
    _pip(venv, str(source), constraints=tmp_path / "constraints.txt")
    with postgres_cluster(tmp_path / "postgres.log", "mlflow") as pg_port:
        s3_port, port = free_port(), free_port()
        endpoint = f"http://{LOOPBACK}:{s3_port}"
        project.write(
            "settings/mlflow.yml",
            f"""\
            mlflow_tracking_uri: http://{LOOPBACK}:{port}
            mlflow_experiment_name: step-3
            mlflow_s3_endpoint_url: {endpoint}
            server:
              port: {port}
              workers: 1
              backend_store_uri: postgresql+psycopg2://mlflow@{LOOPBACK}:{pg_port}/mlflow
              artifacts_destination: s3://team-artifacts/mlflow
            """,
        )
        project.write(".env", "AWS_ACCESS_KEY_ID=moto\nAWS_SECRET_ACCESS_KEY=moto\nAWS_DEFAULT_REGION=us-east-1\n")
        shutil.copy(TRAIN, project.root / "train.py")
        # Stores only the server opens: warnings for a training machine, and `server` refuses to start.
        lacking = _run([command, "check"], project.root)
        assert lacking.returncode == 0, lacking.stdout
        assert "warning: server.backend_store_uri (settings/mlflow.yml) needs psycopg2-binary, which is not " in (
            lacking.stdout
        )
        assert "(hint: pip install 'layered-mlflow[postgres]')" in lacking.stdout
        assert "needs boto3, which is not installed here;" in lacking.stdout
        assert "(hint: pip install 'layered-mlflow[aws]')" in lacking.stdout
        assert _run([command, "check", "--strict"], project.root).returncode == 1
        refused = _run([command, "server"], project.root)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(
            "layered-mlflow: error: `server.backend_store_uri` needs psycopg2-binary, which is not installed; "
            "mlflow server was not started (hint: pip install 'layered-mlflow[postgres]')"
        ), refused.stderr
        _pip(venv, f"{source}[server]", constraints=tmp_path / "constraints.txt")
        clean = _run([command, "check"], project.root)
        assert "is not installed" not in clean.stdout, clean.stdout
        moto = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(s3_port)]
        with started(moto, tmp_path / "moto.log", answers(s3_port, "/moto-api/"), env=environment()):
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_MOTO_KEYS)
            s3.create_bucket(Bucket="team-artifacts")
            with started(
                [command, "server"], tmp_path / "server.log", answers(port, "/health"), project.root, environment()
            ) as server:
                record_property("server_startup_s", round(server.startup, 2))
                trained = _run([command, "run", "--", str(venv / "bin" / "python"), "train.py"], project.root)
                assert trained.returncode == 0, trained.stderr
            listed = s3.list_objects_v2(Bucket="team-artifacts", Prefix="mlflow/")
            assert any(item["Key"].endswith("/artifacts/weights.json") for item in listed.get("Contents", []))
