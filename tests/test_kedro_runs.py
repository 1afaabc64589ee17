"""SPEC §10, a real run: `layered-mlflow run -- kedro run` and a plain script of a Kedro project log where conf/ says.

Each run starts in notebooks/ with KEDRO_ENV=production: the run must land in
the store conf/production names, with its credentials, and nothing in the
working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import COMMAND, client_query
from tests.test_kedro_agreement import KEDRO, QUIET, generated

__all__ = ["generated"]  # the session's project from `kedro new`, a fixture shared with the agreement tests

pytestmark = pytest.mark.mlflow

NODE = """\
import os

import mlflow
from kedro.pipeline import Pipeline, node


def log_score() -> float:
    mlflow.log_metric("score", 0.5)
    mlflow.set_tag("user_seen", os.environ.get("MLFLOW_TRACKING_USERNAME", ""))
    return 0.5


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline([node(log_score, inputs=None, outputs="score", name="log_score")])
"""
TRAIN = """\
import mlflow

mlflow.log_metric("score", 0.5)
"""
RUNS = """\
import json, mlflow
e = mlflow.MlflowClient().get_experiment_by_name("churn")
runs = mlflow.search_runs([e.experiment_id], output_format="list")
print(json.dumps([(r.data.metrics, r.data.tags.get("user_seen")) for r in runs]))
"""


# Kedro compares the distribution's name, `kedro_mlflow`; "kedro-mlflow" disables nothing.
DISABLED = 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)\n'


@pytest.fixture
def production(generated: Path, tmp_path: Path) -> Path:
    """The generated project with a logging node, and conf/production naming its own store and credentials."""
    root = tmp_path / "demo"
    shutil.copytree(generated, root)
    (root / "src/demo/pipelines/logs").mkdir(parents=True)
    (root / "src/demo/pipelines/logs/__init__.py").write_text(NODE, encoding="utf-8")
    (root / "src/demo/train.py").write_text(TRAIN, encoding="utf-8")
    (root / "conf/base/mlflow.yml").write_text("tracking:\n  experiment:\n    name: churn\n", encoding="utf-8")
    (root / "conf/production").mkdir()
    (root / "conf/production/mlflow.yml").write_text(
        "server:\n  mlflow_tracking_uri: prod_runs\n  credentials: store\n", encoding="utf-8"
    )
    (root / "conf/production/credentials.yml").write_text("store:\n  MLFLOW_TRACKING_USERNAME: alice\n")
    return root


def run(root: Path, *command: str, chosen: dict[str, str] | None = None, options: tuple[str, ...] = ()) -> None:
    """``layered-mlflow [OPTIONS] run -- COMMAND`` from notebooks/, production chosen by ``chosen`` (KEDRO_ENV)."""
    env = {**os.environ, **QUIET, **({"KEDRO_ENV": "production"} if chosen is None else chosen)}
    env.pop("MLFLOW_ALLOW_FILE_STORE")  # layered-mlflow derives it for a file: store
    argv = [COMMAND, *options, "run", "--", *command]
    before = sorted(os.listdir(root / "notebooks"))
    done = subprocess.run(argv, cwd=root / "notebooks", env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(os.listdir(root / "notebooks")) == before  # nothing lands in the working directory
    assert not (root / "mlruns").exists()


@pytest.mark.parametrize("hook", ["kedro-mlflow-hook", "no-hook"])
def test_kedro_run_lands_in_the_environments_store(production: Path, hook: str) -> None:
    """`kedro run` from notebooks/, with kedro-mlflow's hook or without: one run in prod_runs, experiment churn."""
    if hook == "no-hook":
        settings = production / "src/demo/settings.py"
        settings.write_text(DISABLED, encoding="utf-8")
    run(production, KEDRO, "run")
    assert client_query((production / "prod_runs").as_uri(), RUNS) == [[{"score": 0.5}, "alice"]]


@pytest.mark.parametrize(
    ("chosen", "options"),
    [
        pytest.param({}, ("--env", "production"), id="--env"),
        pytest.param({"ENV_FOR_DYNACONF": "production"}, (), id="ENV_FOR_DYNACONF"),
        pytest.param({"KEDRO_ENV": "local"}, ("--env", "production"), id="--env-over-KEDRO_ENV"),
    ],
)
def test_the_environment_chosen_here_is_the_one_kedro_runs(
    production: Path, chosen: dict[str, str], options: tuple[str, ...]
) -> None:
    """`layered-mlflow --env production run -- kedro run`: Kedro gets KEDRO_ENV, so it runs production, not local."""
    (production / "conf/local/mlflow.yml").write_text("server:\n  mlflow_tracking_uri: local_runs\n", encoding="utf-8")
    run(production, KEDRO, "run", chosen=chosen, options=options)
    assert client_query((production / "prod_runs").as_uri(), RUNS) == [[{"score": 0.5}, "alice"]]
    assert not (production / "local_runs").exists()  # kedro-mlflow's hook read conf/production, as we did


# layered-mlflow's own hook off (SPEC §15): Kedro compares the distribution's name, `layered-mlflow`.
OURS_DISABLED = 'DISABLE_HOOKS_FOR_PLUGINS = ("layered-mlflow",)\n'


@pytest.mark.parametrize(
    ("settings_py", "store"),
    [
        pytest.param("", "env.db", id="both-hooks-the-environment-wins"),
        pytest.param(OURS_DISABLED, "prod.db", id="kedro-mlflow-alone-the-files-uri-wins"),
        pytest.param(
            'DISABLE_HOOKS_FOR_PLUGINS = ("layered-mlflow", "kedro-mlflow")\n',
            "prod.db",
            id="misspelt-disables-nothing",
        ),
        pytest.param(DISABLED, "env.db", id="kedro-mlflow-disabled-the-environment-wins"),
    ],
)
def test_inside_kedro_run_the_hook_decides_unless_disabled(production: Path, settings_py: str, store: str) -> None:
    """The Kedro page says: kedro-mlflow's hook alone sets the file's URI over MLFLOW_TRACKING_URI; with
    layered-mlflow's hook (or without kedro-mlflow's), the environment wins."""
    (production / "src/demo/settings.py").write_text(settings_py, encoding="utf-8")
    stores = {name: f"sqlite:///{production / name}" for name in ("prod.db", "env.db")}
    conf = f"server:\n  mlflow_tracking_uri: {stores['prod.db']}\n  credentials: store\n"
    (production / "conf/production/mlflow.yml").write_text(conf, encoding="utf-8")
    run(production, KEDRO, "run", chosen={"KEDRO_ENV": "production", "MLFLOW_TRACKING_URI": stores["env.db"]})
    assert client_query(stores[store], RUNS) == [[{"score": 0.5}, "alice"]]
    assert not (production / ("prod.db" if store == "env.db" else "env.db")).exists()


def test_with_the_hook_disabled_a_metric_dataset_needs_its_key(production: Path) -> None:
    """The Kedro page: the hook names an MlflowMetricDataset after its entry; disabled, one without key fails."""
    (production / "src/demo/settings.py").write_text(DISABLED, encoding="utf-8")
    dataset = "score:\n  type: kedro_mlflow.io.metrics.MlflowMetricDataset\n"
    (production / "conf/base/catalog.yml").write_text(dataset, encoding="utf-8")
    env = {**os.environ, **QUIET, "KEDRO_ENV": "production"}
    argv = [COMMAND, "run", "--", KEDRO, "run"]
    done = subprocess.run(argv, cwd=production, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "Metric name cannot be None" in " ".join((done.stdout + done.stderr).split())
    (production / "conf/base/catalog.yml").write_text(dataset + "  key: score\n", encoding="utf-8")
    run(production, KEDRO, "run")


def test_a_script_of_the_project_lands_in_the_environments_store(production: Path) -> None:
    """`python src/demo/train.py` from notebooks/: the same store and experiment, no Kedro involved."""
    run(production, sys.executable, str(production / "src/demo/train.py"))
    assert client_query((production / "prod_runs").as_uri(), RUNS) == [[{"score": 0.5}, None]]


def test_kedro_refuses_a_checkout_without_conf_local_where_check_warns(production: Path) -> None:
    """What `check`'s warning foretells: with conf/local missing, a real `kedro run` stops (Kedro's refusal)."""
    shutil.rmtree(production / "conf/local")
    env = {**os.environ, **QUIET}
    argv = [KEDRO, "run"]
    done = subprocess.run(argv, cwd=production, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "MissingConfigException" in done.stdout + done.stderr
    checked = subprocess.run([COMMAND, "check"], cwd=production, env=env, capture_output=True, text=True, check=False)
    assert "warning: conf/local/ does not exist" in checked.stdout, checked.stdout + checked.stderr
