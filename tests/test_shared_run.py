"""SPEC §14: one MLflow run across processes, `run --shared-run KEY` / `--parent-run KEY`, `env`, `configure()`.

Every case runs on a local sqlite store and on a real `mlflow server` on 127.0.0.1 (sqlite behind it),
except the refusals, which never reach a store. The repeated race (8 processes reaching the store with one key at
the same moment, 20 times) records how many duplicate runs it created and removed (`race_duplicates`), listed
at the end of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMMAND, Project, client_query
from tests.servers import LOOPBACK, answers, free_port, started
from tests.test_kedro_agreement import KEDRO, generated

__all__ = ["generated"]  # the session's project from `kedro new`, a fixture shared with the Kedro tests

RACERS = 8  # processes started together with one key
TRIES = 20  # races, each with a key of its own
# The command each process runs: logs a metric named by its argument, prints the run and what it was given.
LOG = """\
import json, os, sys
import mlflow
given = {name: os.environ.get(name) for name in ("MLFLOW_RUN_ID", "MLFLOW_RUN_CONTEXT")}
with mlflow.start_run() as run:
    mlflow.log_metric(sys.argv[1], 1.0)
print(json.dumps({"run_id": run.info.run_id, **given}))
"""
# A process of the repeated race: mlflow imported once, then for each race a barrier (every racer's file in the
# folder), so that all reach the store at the same moment, configure(shared_run=KEY), and a metric logged.
RACER = """\
import json, pathlib, sys, time
import mlflow, layered_mlflow
folder, racers, tries, me = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
runs = []
for n in range(tries):
    (folder / f"{n}-{me}").touch()
    while len(list(folder.glob(f"{n}-*"))) < racers:
        time.sleep(0.002)
    layered_mlflow.configure(shared_run=f"race-{n}")
    with mlflow.start_run() as run:
        mlflow.log_metric(f"m{me}", 1.0)
    runs.append(run.info.run_id)
print(json.dumps({"runs": runs}))
"""
# Every run of an experiment, deleted ones too.
RUNS = """\
import json, mlflow
from mlflow.entities import ViewType
c = mlflow.MlflowClient()
e = c.get_experiment_by_name({name!r})
runs = c.search_runs([e.experiment_id], run_view_type=ViewType.ALL, max_results=5000)
print(json.dumps([{{"id": r.info.run_id, "stage": r.info.lifecycle_stage, "name": r.info.run_name,
  "metrics": sorted(r.data.metrics), "tags": r.data.tags}} for r in runs]))
"""


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` on 127.0.0.1 with a sqlite store; its URI."""
    folder, port = tmp_path_factory.mktemp("server"), free_port()
    argv = [sys.executable, "-m", "mlflow", "server", "--host", LOOPBACK, "--port", str(port), "--workers", "1"]
    argv += ["--backend-store-uri", f"sqlite:///{folder}/mlflow.db", "--default-artifact-root", str(folder)]
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no job runner left busy after the server stops
    with started(argv, folder / "server.log", answers(port, "/health"), cwd=folder, env=env):
        yield f"http://{LOOPBACK}:{port}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.mlflow),
        pytest.param("server", marks=[pytest.mark.mlflow, pytest.mark.server]),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A tracking URI: a local sqlite file (its tables made, as after a pipeline's first step), or the server."""
    if request.param == "server":
        uri: str = request.getfixturevalue("mlflow_server")
        return uri
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client_query(uri, "import mlflow; mlflow.MlflowClient().search_experiments(); print(0)")
    return uri


@pytest.fixture
def shared(project: Project, store: str) -> Project:
    """A project logging to ``store``, into an experiment of its own, with a team tag."""
    name = f"shared-{uuid.uuid4().hex[:8]}"
    project.write("settings/mlflow.yml", f"mlflow_tracking_uri: {store}\nmlflow_experiment_name: {name}\n")
    project.write("settings/mlflow.local.yml", "tags:\n  team: vision\n")
    return project


def experiment(project: Project) -> str:
    return str(project.root.joinpath("settings/mlflow.yml").read_text().split("mlflow_experiment_name: ")[1].strip())


def store_of(project: Project) -> str:
    return project.root.joinpath("settings/mlflow.yml").read_text().split("\n")[0].split(": ", 1)[1]


def runs_of(project: Project) -> list[dict[str, Any]]:
    """Every run of the project's experiment, as a client reads the store."""
    found = client_query(store_of(project), RUNS.format(name=experiment(project)))
    assert isinstance(found, list)
    return found


def logging(*options: str, metric: str) -> list[str]:
    """``layered-mlflow run OPTIONS -- python LOG metric``."""
    return [COMMAND, "run", *options, "--", sys.executable, "-c", LOG, metric]


def together(project: Project, argvs: list[list[str]], timeout: float = 300) -> list[dict[str, Any]]:
    """Start every argv at once in ``project``; each must succeed (a hang fails after ``timeout`` s); what each
    printed."""
    environment = dict(os.environ)
    processes = [
        subprocess.Popen(argv, cwd=project.root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for argv in argvs
    ]
    printed = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err.decode(errors="replace")
        printed.append(json.loads(out.decode().strip().splitlines()[-1]))
    return printed


def with_key(runs: list[dict[str, Any]], key: str, stage: str = "active") -> list[dict[str, Any]]:
    return [r for r in runs if r["tags"].get("layered_mlflow.run_key") == key and r["stage"] == stage]


def test_two_steps_with_one_key_log_into_one_run(shared: Project) -> None:
    """A pipeline's steps, one after the other: one run, named by the key, with the settings' tags; the second
    step reuses it although the first has finished it."""
    first = together(shared, [logging("--shared-run", "wf-1", metric="prepare")])
    second = together(shared, [logging("--shared-run", "wf-1", metric="train")])
    runs = runs_of(shared)
    assert len(runs) == 1, runs
    (run,) = runs
    assert first[0]["run_id"] == second[0]["run_id"] == first[0]["MLFLOW_RUN_ID"] == run["id"]
    assert run["metrics"] == ["prepare", "train"]
    assert run["name"] == "wf-1"
    assert run["tags"]["team"] == "vision"
    assert run["tags"]["layered_mlflow.env"] == "development"


def test_processes_started_together_with_one_key_end_in_one_run(shared: Project) -> None:
    """8 `run --shared-run` processes started at once with one key: one active run holds every process's metric,
    and every process logged into it."""
    printed = together(shared, [logging("--shared-run", "wf-8", metric=f"m{i}") for i in range(RACERS)])
    runs = runs_of(shared)
    (kept,) = with_key(runs, "wf-8")
    assert kept["metrics"] == [f"m{i}" for i in range(RACERS)]
    assert {p["run_id"] for p in printed} == {kept["id"]}
    assert all(not run["metrics"] for run in with_key(runs, "wf-8", "deleted"))


def test_racing_processes_end_in_one_run_every_time(
    shared: Project, record_property: Callable[[str, object], None]
) -> None:
    """8 processes reach the store with one key at the same moment (a barrier before each lookup), 20 times:
    each time one active run holds every process's metric, and each duplicate the race created is marked
    deleted with nothing logged into it."""
    barrier = shared.root.parent / "barrier"
    barrier.mkdir()
    argv = [sys.executable, "-c", RACER, str(barrier), str(RACERS), str(TRIES)]
    printed = together(shared, [[*argv, str(i)] for i in range(RACERS)], timeout=1800)  # 20 races: minutes
    runs = runs_of(shared)
    duplicates = 0
    for n in range(TRIES):
        key = f"race-{n}"
        (kept,) = with_key(runs, key)
        assert kept["metrics"] == [f"m{i}" for i in range(RACERS)], key
        assert {p["runs"][n] for p in printed} == {kept["id"]}, key
        deleted = with_key(runs, key, "deleted")
        assert all(not run["metrics"] for run in deleted), key  # nothing was logged into a duplicate
        duplicates += len(deleted)
    assert len(runs) == TRIES + duplicates  # no run without a key
    record_property("race_duplicates", duplicates)


def test_parent_run_nests_every_process_under_one_parent(shared: Project) -> None:
    """--parent-run: each of 4 processes started at once logs into a run of its own, nested under one parent
    run of the key; none is given MLFLOW_RUN_ID as well."""
    printed = together(shared, [logging("--parent-run", "job-7", metric=f"m{i}") for i in range(4)])
    runs = runs_of(shared)
    (parent,) = with_key(runs, "job-7")
    children = [r for r in runs if r["tags"].get("mlflow.parentRunId") == parent["id"]]
    assert sorted(c["id"] for c in children) == sorted(p["run_id"] for p in printed)
    assert sorted(m for c in children for m in c["metrics"]) == [f"m{i}" for i in range(4)]
    assert all(p["MLFLOW_RUN_ID"] is None for p in printed)
    assert all(json.loads(p["MLFLOW_RUN_CONTEXT"])["mlflow.parentRunId"] == parent["id"] for p in printed)
    assert parent["metrics"] == []
    assert parent["name"] == "job-7"


def test_torchrun_ranks_log_into_one_run(shared: Project) -> None:
    """Two ranks as torchrun starts them (RANK, WORLD_SIZE, TORCHELASTIC_RUN_ID), each running the page's
    recipe: one run holds both ranks' metrics, each named by its rank."""
    shared.write(
        "train.py",
        """\
        import os
        import mlflow

        rank = int(os.environ["RANK"])
        with mlflow.start_run():
            mlflow.log_metric(f"loss/rank{rank}", 0.1 * rank)
        """,
    )
    recipe = f'exec {COMMAND} run --shared-run "$TORCHELASTIC_RUN_ID" -- {sys.executable} train.py'
    torchrun = {"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "fa1e2d3c-elastic"}
    environment = {**os.environ, **torchrun, "MASTER_ADDR": LOOPBACK, "MASTER_PORT": str(free_port())}
    ranks = [
        subprocess.Popen(["sh", "-c", recipe], cwd=shared.root, env={**environment, "RANK": r, "LOCAL_RANK": r})
        for r in ("0", "1")
    ]
    assert [rank.wait(timeout=300) for rank in ranks] == [0, 0]
    (run,) = with_key(runs_of(shared), "fa1e2d3c-elastic")
    assert run["metrics"] == ["loss/rank0", "loss/rank1"]


def test_env_and_configure_give_the_same_run(shared: Project) -> None:
    """`env --shared-run KEY` prints the run's MLFLOW_RUN_ID; `configure(shared_run=KEY)` sets it in-process;
    `configure(parent_run=KEY)` gives the parent tag instead."""
    printed = shared.cli("env", "--format", "json", "--shared-run", "nb-1")
    assert printed.returncode == 0, printed
    run_id = printed.json()["MLFLOW_RUN_ID"]
    script = (
        "import json, os, layered_mlflow\n"
        "layered_mlflow.configure(shared_run='nb-1')\n"
        "shared = os.environ['MLFLOW_RUN_ID']\n"
        "layered_mlflow.configure(parent_run='nb-1')\n"
        "print(json.dumps([shared, os.environ.get('MLFLOW_RUN_ID'), os.environ['MLFLOW_RUN_CONTEXT']]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=shared.root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    shared_id, after, context = json.loads(done.stdout.strip().splitlines()[-1])
    assert shared_id == run_id
    assert after is None
    assert json.loads(context)["mlflow.parentRunId"] == run_id
    assert [r["id"] for r in runs_of(shared)] == [run_id]


@pytest.mark.parametrize(
    ("options", "settings", "says"),
    [
        pytest.param(("--shared-run", ""), "", "--shared-run was given an empty key", id="empty-key"),
        pytest.param(("--parent-run", "a'b"), "", "a key holds no quote", id="quote-in-key"),
        pytest.param(("--shared-run", "a\x1bb"), "", "'a\\x1bb': a key holds no", id="control-character"),
        pytest.param(
            ("--shared-run", "a", "--parent-run", "b"), "", "--shared-run and --parent-run", id="both-options"
        ),
        pytest.param(
            ("--parent-run", "k"), "mlflow_run_id: abc\n", "the settings already give MLFLOW_RUN_ID", id="run-id-set"
        ),
        pytest.param(
            ("--shared-run", "k"),
            "tags:\n  mlflow.parentRunId: abc\n",
            "the settings already give tags.mlflow.parentRunId",
            id="parent-set",
        ),
        pytest.param(("--shared-run", "k"), "UNREACHABLE", "connection refused", id="store-unreachable"),
    ],
)
def test_refused_before_the_command_starts(
    project: Project, options: tuple[str, ...], settings: str, says: str
) -> None:
    """A key that cannot be one, a run or parent named twice, a store that does not answer: one line, exit 2,
    and the command never starts."""
    if settings == "UNREACHABLE":
        settings = f"mlflow_tracking_uri: http://{LOOPBACK}:{free_port()}\n"
    project.write("settings/mlflow.yml", settings or "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    result = project.cli("run", *options, "--", "touch", "started")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert says in result.stderr, result
    assert len(result.stderr.splitlines()) == 1, result
    assert not (project.root / "started").exists()
    assert not (project.root / "mlflow.db").exists()  # refused before reaching the store


NODES = """\
import mlflow
from kedro.pipeline import Pipeline, node


def prepare() -> int:
    mlflow.log_metric("prepared", 1.0)
    return 1


def train() -> int:
    mlflow.log_metric("trained", 1.0)
    return 2


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline([node(prepare, None, "prepared", name="prepare"), node(train, None, "trained", name="train")])
"""


@pytest.mark.mlflow
def test_kedro_nodes_run_as_processes_log_into_one_run(generated: Path, tmp_path: Path) -> None:
    """A Kedro project whose two nodes run as two `kedro run --nodes` processes (an Argo workflow's steps), each
    wrapped with --shared-run, kedro-mlflow's hook installed: one run holds both nodes' metrics."""
    root = tmp_path / "demo"
    shutil.copytree(generated, root)
    (root / "src/demo/pipelines/steps").mkdir(parents=True)
    (root / "src/demo/pipelines/steps/__init__.py").write_text(NODES, encoding="utf-8")
    (root / "conf/base/mlflow.yml").write_text(
        "server:\n  mlflow_tracking_uri: sqlite:///mlflow.db\ntracking:\n  experiment:\n    name: wf\n",
        encoding="utf-8",
    )
    for step in ("prepare", "train"):
        argv = [COMMAND, "run", "--shared-run", "argo-wf-1", "--", KEDRO, "run", "--nodes", step]
        done = subprocess.run(argv, cwd=root, env=dict(os.environ), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    runs = client_query(f"sqlite:///{root}/mlflow.db", RUNS.format(name="wf"))
    assert isinstance(runs, list)
    (run,) = runs
    assert run["metrics"] == ["prepared", "trained"]
    assert run["tags"]["layered_mlflow.run_key"] == "argo-wf-1"
