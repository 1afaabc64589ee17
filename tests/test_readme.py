"""Every command the README shows is run, here or by a named test, and does what the README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent

# command as the README shows it -> (exit status, the command as run here, or None for as shown).
# Rewrites keep traffic on this machine (a production server, Databricks) or the run short.
RUN: dict[str, tuple[int, str | None]] = {
    "layered-mlflow run -- python train.py": (0, None),
    "ENV_FOR_DYNACONF=production layered-mlflow run -- python train.py": (
        0,
        "ENV_FOR_DYNACONF=production layered-mlflow run --dry-run -- python train.py",
    ),
    "pip install . && layered-mlflow run -- python examples/train.py": (
        0,
        "layered-mlflow run -- python examples/train.py",  # installed already, by CI's `pip install -e`
    ),
    "layered-mlflow show": (0, None),
    "ENV_FOR_DYNACONF=prodution layered-mlflow run -- python train.py": (2, None),
    "cd churn && layered-mlflow init": (0, "mkdir churn && cd churn && layered-mlflow init"),
    "layered-mlflow init": (1, None),
    "layered-mlflow --env production show": (0, None),
    "export ENV_FOR_DYNACONF=production": (0, None),
    "echo ENV_FOR_DYNACONF=production >> .env": (0, None),
    "ENV_FOR_DYNACONF=production MLFLOW_TRACKING_USERNAME=trainer \\\n"
    "  MLFLOW_TRACKING_PASSWORD_FILE=/run/secrets/mlflow_password layered-mlflow env --format shell": (
        0,
        "ENV_FOR_DYNACONF=production MLFLOW_TRACKING_USERNAME=trainer "
        "MLFLOW_TRACKING_PASSWORD_FILE=secrets/mlflow_password layered-mlflow env --format shell",
    ),
    "export LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI='postgresql+psycopg2://mlflow:…@db.internal:5432/mlflow'": (
        0,
        "export LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI='postgresql+psycopg2://mlflow:pw@db.internal:5432/mlflow'",
    ),
    "export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…": (0, "export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y"),
    # Started for real, with PostgreSQL and S3, by tests/test_tracking_server.py.
    "layered-mlflow server": (0, "layered-mlflow server --dry-run"),
    "DATABRICKS_TOKEN_FILE=/run/secrets/databricks layered-mlflow --env databricks run -- python train.py": (
        0,
        "DATABRICKS_TOKEN_FILE=secrets/databricks layered-mlflow --env databricks run --dry-run -- python train.py",
    ),
    "ENV_FOR_DYNACONF=production MLFLOW_TRACKING_URI=http://mlflow:5000 layered-mlflow explain mlflow_tracking_uri": (
        0,
        None,
    ),
    "layered-mlflow --env production explain MLFLOW_TRACKING_PASSWORD": (0, None),
    "MLFLOW_TRACKING_URI=http://mlflow:5000 layered-mlflow explain mlflow_tracking_uri": (0, None),
    "layered-mlflow check --all-envs": (0, None),
    "layered-mlflow check": (0, None),
    "layered-mlflow schema > settings/mlflow.schema.json": (0, None),
    "python benchmarks/startup.py --runs 30": (0, f"python {REPO}/benchmarks/startup.py --runs 1"),
}
# Commands that CI itself runs on every submission, in a fresh virtual environment (.ci/run).
BY_CI = {
    "pip install -e '.[test]' && pytest",
    "python -m venv .venv && . .venv/bin/activate",
    "ruff check . && ruff format --check . && mypy --strict layered_mlflow tests benchmarks",
    "pytest tests/test_unit_*.py",  # a part of CI's pytest
    "bash .ci/run",
    # Mutation testing takes minutes; tests/MUTANTS.md records its last run and what it left.
    "pip install -e '.[test,mutation]' && mutmut run --max-children 2 && mutmut results",
}
DATABRICKS = """\
mlflow_tracking_uri: databricks
mlflow_registry_uri: databricks-uc
mlflow_experiment_name: /Shared/churn
env:
  DATABRICKS_HOST: https://adb-1234567890123456.7.azuredatabricks.net
  DATABRICKS_TOKEN: null
"""


def console_blocks() -> list[list[str]]:
    """The `$ ` commands of each console block, a `>` continuation joined to its command."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", README, re.S):
        commands: list[str] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append(line[2:])
            elif line.startswith("> ") and commands:
                commands[-1] += "\n" + line[2:]
        if commands:
            blocks.append(commands)
    return blocks


def test_every_readme_command_is_exercised() -> None:
    """A command added to the README without a way to run it here fails this test; so does a stale entry."""
    shown = {command for block in console_blocks() for command in block}
    assert shown - RUN.keys() - BY_CI == set()
    assert (RUN.keys() | BY_CI) - shown == set()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A project like this repository: its settings, a Databricks environment, the example job, two secrets."""
    root = tmp_path / "demo"
    shutil.copytree(REPO / "settings", root / "settings", ignore=shutil.ignore_patterns("mlflow.local.yml"))
    (root / "settings" / "mlflow.databricks.yml").write_text(DATABRICKS)
    (root / "examples").mkdir()
    for target in (root / "train.py", root / "examples" / "train.py"):
        shutil.copy(REPO / "examples" / "train.py", target)
    (root / "secrets").mkdir()
    (root / "secrets" / "mlflow_password").write_text("hunter2\n")
    (root / "secrets" / "databricks").write_text("dapi-token\n")
    return root


@pytest.mark.parametrize("block", [b for b in console_blocks() if set(b) - BY_CI], ids=lambda block: block[0][:60])
def test_readme_block_runs(demo: Path, block: list[str]) -> None:
    """Each console block, run in order in one shell: every command ends as the README says, none in a traceback."""
    commands = [cmd for cmd in block if cmd not in BY_CI]
    script = "".join(f'{RUN[cmd][1] or cmd}\necho "__status__ $?" >&2\n' for cmd in commands)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update({"PATH": f"{BIN}{os.pathsep}{env['PATH']}", "HOME": str(demo.parent), "DO_NOT_TRACK": "true"})
    done = subprocess.run(["bash", "-c", script], cwd=demo, env=env, capture_output=True, text=True, timeout=600)
    statuses = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("__status__ ")]
    assert statuses == [RUN[cmd][0] for cmd in commands], done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
