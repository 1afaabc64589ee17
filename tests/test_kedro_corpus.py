"""SPEC §10 on real-world files: public `conf/base/mlflow.yml` files (tests/data/kedro_mlflow, origin in each header).

kedro-mlflow's verdict is its own: Kedro's OmegaConfigLoader reads the file and
kedro-mlflow's pydantic model, KedroMlflowConfig, validates it. What it accepts,
layered-mlflow accepts with the same tracking URI and experiment; what it refuses
is an error here or a `check` warning, never a silent wrong store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.test_kedro_layout import PYPROJECT

pytestmark = pytest.mark.mlflow  # kedro-mlflow's model imports MLflow

CORPUS = sorted((Path(__file__).parent / "data" / "kedro_mlflow").glob("*.yml"))
# For every file, in one process: kedro-mlflow's tracking URI and experiment, or why it refuses the file.
VERDICTS = """
import json, sys, tempfile, shutil
from pathlib import Path
from kedro.config import OmegaConfigLoader
from kedro_mlflow.config.kedro_mlflow_config import KedroMlflowConfig, _validate_uri

verdicts = {}
for name in sys.argv[2:]:
    root = Path(tempfile.mkdtemp())
    (root / "conf/base").mkdir(parents=True)
    (root / "conf/local").mkdir()
    shutil.copy(name, root / "conf/base/mlflow.yml")
    try:
        loader = OmegaConfigLoader(
            str(root / "conf"), base_env="base", default_run_env="local",
            config_patterns={"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
        )
        raw = loader["mlflow"]
        config = KedroMlflowConfig.model_validate(raw)
    except Exception as exc:
        verdicts[name] = {"refused": type(exc).__name__}
        continue
    experiment = raw.get("tracking", {}).get("experiment", {}).get("name")
    verdicts[name] = {
        "tracking_uri": _validate_uri(str(root), config.server.mlflow_tracking_uri or "mlruns")
        .replace(str(root), "{root}"),
        "experiment": sys.argv[1] if experiment is None else experiment,
    }
print(json.dumps(verdicts))
"""


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict[str, str]]:
    """kedro-mlflow's word on each file of the corpus."""
    argv = [sys.executable, "-c", VERDICTS, "demo", *map(str, CORPUS)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_corpus_has_at_least_fifteen_public_files() -> None:
    """Each file says where it comes from: repository, path and commit."""
    assert len(CORPUS) >= 15
    for path in CORPUS:
        assert path.read_text(encoding="utf-8").startswith("# origin: https://github.com/"), path


def anchored(uri: str, root: Path) -> str:
    """kedro-mlflow's URI as layered-mlflow writes it: a relative sqlite: anchored to the root (documented)."""
    uri = uri.replace("{root}", str(root))
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return f"sqlite:///{root}/{uri.removeprefix('sqlite:///')}"
    return uri


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_a_real_world_file_means_what_it_means_to_kedro_mlflow(
    project: Project, verdicts: dict[str, dict[str, str]], path: Path
) -> None:
    """Accepted by kedro-mlflow: the same store and experiment. Refused: an error, or a warning from `check`."""
    (project.root / "settings").rmdir()
    project.write("pyproject.toml", PYPROJECT)
    project.write("conf/base/mlflow.yml", path.read_text(encoding="utf-8"))
    project.write("conf/local/credentials.yml", "{}\n")
    verdict = verdicts[str(path)]
    result = project.cli("env", "--format", "json")
    if "refused" not in verdict:
        assert result.returncode == 0, result
        variables = result.json()
        assert variables["MLFLOW_TRACKING_URI"] == anchored(verdict["tracking_uri"], project.root)
        assert variables["MLFLOW_EXPERIMENT_NAME"] == verdict["experiment"]
        return
    if result.returncode == 2:
        assert result.stderr.startswith("layered-mlflow: error: "), result
        return
    check = project.cli("check")
    assert not check.stdout.startswith("local: 0 errors, 0 warnings"), check
