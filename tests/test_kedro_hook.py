"""SPEC §15, Kedro without a wrapper: layered-mlflow's hook in plain `kedro run` and in KedroSession.create.

The project is a real one from `kedro new` (offline), with kedro-mlflow installed beside layered-mlflow: each
run must land where `layered-mlflow --env production` says, the environment winning over conf/, unless
settings.py turns the hook off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import COMMAND, client_query
from tests.test_kedro_agreement import KEDRO, QUIET
from tests.test_kedro_runs import DISABLED, OURS_DISABLED, RUNS, generated, production

__all__ = ["generated", "production"]  # fixtures: the project from `kedro new`, with conf/production

pytestmark = pytest.mark.mlflow

# A Databricks job's way in: a plain Python script creates the session; it prints what the node logged under.
SCRIPT = """
import json, os, sys
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
import mlflow

root = Path(sys.argv[1])
bootstrap_project(root)
with KedroSession.create(project_path=root, env="production") as session:
    session.run()
print(json.dumps({"tracking_uri": mlflow.get_tracking_uri(), "environ": dict(os.environ)}))
"""


def kedro(root: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """Plain ``kedro ARGS`` from notebooks/, no wrapper, no KEDRO_ENV."""
    environment = {**os.environ, **(env or {})}
    environment.pop("MLFLOW_ALLOW_FILE_STORE", None)  # what the hook derives for a file: store, as `run` does
    done = subprocess.run([KEDRO, *args], cwd=root / "notebooks", env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(os.listdir(root / "notebooks")) == [".gitkeep"]  # nothing lands in the working directory


@pytest.mark.parametrize("settings_py", ["", DISABLED], ids=["with-kedro-mlflow", "kedro-mlflow-disabled"])
def test_plain_kedro_run_lands_in_the_environments_store(production: Path, settings_py: str) -> None:
    """`kedro run --env production`: one run in conf/production's store, experiment churn, its credentials."""
    (production / "src/demo/settings.py").write_text(settings_py, encoding="utf-8")
    kedro(production, "run", "--env", "production")
    assert client_query((production / "prod_runs").as_uri(), RUNS) == [[{"score": 0.5}, "alice"]]


@pytest.mark.parametrize(
    ("settings_py", "store"),
    [
        pytest.param("", "env.db", id="hook-the-environment-wins"),
        pytest.param(OURS_DISABLED, "prod.db", id="hook-off-kedro-mlflow-decides"),
        pytest.param(DISABLED, "env.db", id="hook-alone-the-environment-wins"),
    ],
)
def test_an_injected_tracking_uri_wins_unless_the_hook_is_off(production: Path, settings_py: str, store: str) -> None:
    """MLFLOW_TRACKING_URI injected as CI or a job does: the run lands there and nothing touches conf/'s store;
    with `DISABLE_HOOKS_FOR_PLUGINS = ("layered-mlflow",)`, kedro-mlflow's own behaviour is back (the file's)."""
    (production / "src/demo/settings.py").write_text(settings_py, encoding="utf-8")
    stores = {name: f"sqlite:///{production / name}" for name in ("prod.db", "env.db")}
    conf = f"server:\n  mlflow_tracking_uri: {stores['prod.db']}\n  credentials: store\n"
    (production / "conf/production/mlflow.yml").write_text(conf, encoding="utf-8")
    kedro(production, "run", "--env", "production", env={"MLFLOW_TRACKING_URI": stores["env.db"]})
    assert client_query(stores[store], RUNS) == [[{"score": 0.5}, "alice"]]
    assert not (production / ("prod.db" if store == "env.db" else "env.db")).exists()


def test_a_session_created_by_a_script_applies_what_the_wrapper_would(production: Path, tmp_path: Path) -> None:
    """KedroSession.create(env="production") in a plain script, from elsewhere: the run lands in production's store,
    and the process holds every variable `layered-mlflow --env production env` prints, with the same values."""
    argv = [sys.executable, "-c", SCRIPT, str(production)]
    environment = {name: value for name, value in os.environ.items() if name not in QUIET}
    done = subprocess.run(argv, cwd=tmp_path, env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    inside = json.loads(done.stdout.strip().splitlines()[-1])
    assert inside["tracking_uri"] == (production / "prod_runs").as_uri()
    assert client_query((production / "prod_runs").as_uri(), RUNS) == [[{"score": 0.5}, "alice"]]
    wrapper = [COMMAND, "--env", "production", "env", "--format", "json", "--show-secrets"]
    said = subprocess.run(wrapper, cwd=production, env=environment, capture_output=True, text=True, check=True)
    expected = json.loads(said.stdout)
    assert {name: inside["environ"].get(name) for name in expected} == expected
