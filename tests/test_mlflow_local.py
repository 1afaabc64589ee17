"""End to end with real MLflow: a wrapped training script logs under the project root's mlruns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project, client_query

pytestmark = pytest.mark.mlflow
TRAIN = Path(__file__).parent.parent / "examples" / "train.py"


def test_wrapped_training_logs_under_the_project_root(project: Project) -> None:
    """From a subdirectory, with no configuration code: the run lands in <root>/mlruns with its tags."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: e2e\ntags:\n  project: demo\n")
    sub = project.root / "src" / "jobs"
    sub.mkdir(parents=True)
    shutil.copy(TRAIN, sub / "train.py")
    result = project.cli(
        "run", "--", sys.executable, "train.py", cwd=sub, env={"LAYERED_MLFLOW_TAGS__team": "vision"}, timeout=300
    )
    assert result.returncode == 0, result
    assert sorted(p.name for p in sub.iterdir()) == ["train.py"], "nothing may be created in the subdirectory"
    assert (project.root / "mlruns").is_dir()
    found = client_query(
        (project.root / "mlruns").as_uri(),
        "import json, mlflow\n"
        "c = mlflow.MlflowClient()\n"
        "e = c.get_experiment_by_name('e2e')\n"
        "r = c.search_runs([e.experiment_id])[0]\n"
        "print(json.dumps({'params': r.data.params, 'metrics': sorted(r.data.metrics), 'tags': r.data.tags,\n"
        "  'artifacts': [a.path for a in c.list_artifacts(r.info.run_id)]}))\n",
    )
    assert isinstance(found, dict)
    assert found["params"] == {"lr": "0.1", "epochs": "50", "n": "200", "seed": "7"}
    assert found["metrics"] == ["final_loss", "loss"]
    assert found["artifacts"] == ["weights.json"]
    assert found["tags"]["layered_mlflow.env"] == "development"
    assert found["tags"]["team"] == "vision"
    assert found["tags"]["project"] == "demo"


def test_mlflow_commands_need_the_wrapper_on_the_default_store(project: Project) -> None:
    """Plain `mlflow experiments search` fails on the project's mlruns (MLflow's file-store guard); wrapped it lists it.

    docs/getting-started.md and docs/settings.md say so and shows the wrapped command.
    """
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\n")
    logged = project.cli("run", "--", sys.executable, "-c", "import mlflow; mlflow.start_run(); mlflow.end_run()")
    assert logged.returncode == 0, logged
    mlflow_cli = [sys.executable, "-m", "mlflow", "experiments", "search"]
    plain = subprocess.run(mlflow_cli, cwd=project.root, capture_output=True, text=True, timeout=300)
    assert plain.returncode != 0, plain.stdout
    assert "MLFLOW_ALLOW_FILE_STORE=true" in plain.stderr, plain.stderr
    wrapped = project.cli("run", "--", *mlflow_cli, timeout=300)
    assert wrapped.returncode == 0, wrapped
    assert " churn " in wrapped.stdout, wrapped
