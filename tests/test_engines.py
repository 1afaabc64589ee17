"""The engines of a distributed job, for real, offline (SPEC §13): Ray, Spark and Dask workers get the settings,
and a secret reaches a worker only as its reference, fetched there from moto's Secrets Manager.

Ray finds its own address by reaching out to a public one, so its test runs in a network namespace of its
own with only the loopback up (as root: CI's and the developers' machines run as root).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMMAND, NO_TELEMETRY, Project
from tests.servers import LOOPBACK, answers, free_port, started, stop

pytestmark = [pytest.mark.distributed, pytest.mark.server]

SECRET = "s3cr3t-fetched-on-the-worker"  # noqa: S105 (moto's, made up)
REFERENCE = "aws-sm:prod/mlflow#password"  # field `password` of a JSON secret
REGION = "eu-west-1"
# The node's own credentials (an instance role's, on a real cluster): the settings name no AWS key.
NODE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
BIN = os.path.dirname(sys.executable)
CLEAN = {"PATH": f"{BIN}:/usr/bin:/bin", "LANG": "C.UTF-8", **NO_TELEMETRY}


def settings(project: Project, aws_port: int, tracking_uri: str, experiment: str) -> None:
    project.write(
        "settings/mlflow.yml",
        f"""\
        mlflow_tracking_uri: {tracking_uri}
        mlflow_experiment_name: {experiment}
        mlflow_tracking_password: {REFERENCE}
        env:
          AWS_DEFAULT_REGION: {REGION}
          AWS_ENDPOINT_URL: http://{LOOPBACK}:{aws_port}
          NOTES: "two\\nlines é"
          # A secret name Spark's own redaction regex misses: env --format spark adds it.
          AZURE_STORAGE_CONNECTION_STRING: {REFERENCE}
        """,
    )


CREATE_SECRET = f"""
import boto3, sys
client = boto3.session.Session().client(
    "secretsmanager", endpoint_url=sys.argv[1], region_name="{REGION}",
    aws_access_key_id="testing", aws_secret_access_key="testing",
)
client.create_secret(Name="prod/mlflow", SecretString='{{"password": "{SECRET}"}}')
"""


@contextlib.contextmanager
def moto_server(log: Path, prefix: Sequence[str] = (), ready: Callable[[int], bool] | None = None) -> Iterator[int]:
    """moto's server holding the secret (in the namespace ``prefix`` enters, if any); yields its port."""
    port = free_port()
    argv = [*prefix, sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    check = (lambda: ready(port)) if ready else answers(port, "/moto-api/")
    with started(argv, log, check, cwd=log.parent, env={**CLEAN, "HOME": str(log.parent)}):
        done = subprocess.run(
            [*prefix, sys.executable, "-c", CREATE_SECRET, f"http://{LOOPBACK}:{port}"],
            env=CLEAN,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield port


def files_holding(folder: Path, text: str) -> list[str]:
    """The files under ``folder`` whose bytes hold ``text``."""
    found = []
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_socket() and text.encode() in path.read_bytes():
                found.append(str(path.relative_to(folder)))
    return found


# Ray ----------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def network_namespace() -> Iterator[list[str]]:
    """A network namespace with only its loopback up; yields the prefix that runs a command inside it."""
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.fail("the Ray test needs util-linux's unshare and nsenter")
    holder = subprocess.Popen(["unshare", "--net", "sh", "-c", "ip link set lo up && exec sleep 3600"])
    try:
        prefix = ["nsenter", f"--net=/proc/{holder.pid}/ns/net", "--"]
        for _ in range(100):
            shown = subprocess.run([*prefix, "ip", "-o", "link", "show", "lo"], capture_output=True, text=True)
            if ",UP" in shown.stdout:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"no loopback in the network namespace: {shown.stderr}")
        yield prefix
    finally:
        stop(holder)


def listens_inside(prefix: Sequence[str]) -> Callable[[int], bool]:
    """A readiness check run inside the namespace: the port takes a connection there.

    moto's first answer loads its backends, which on a loaded machine outlasted a 10 s request again and again
    (a Spark run in CI never saw /moto-api/ answer within 120 s); the secret it is then asked to create waits
    for that answer with boto3's own timeouts and retries.
    """
    probe = f"import socket, sys; socket.create_connection(('{LOOPBACK}', int(sys.argv[1])), timeout=10).close()"

    def check(port: int) -> bool:
        argv = [*prefix, sys.executable, "-c", probe, str(port)]
        return subprocess.run(argv, capture_output=True, env=CLEAN, check=False).returncode == 0

    return check


def answers_inside(prefix: Sequence[str], path: str) -> Callable[[int], bool]:
    """A readiness check run inside the namespace: ``path`` answers 200 there."""
    probe = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)"  # a loaded machine's

    def check(port: int) -> bool:
        argv = [*prefix, sys.executable, "-c", probe, f"http://{LOOPBACK}:{port}{path}"]
        return subprocess.run(argv, capture_output=True, env=CLEAN, check=False).returncode == 0

    return check


RAY_DRIVER = """
import json, os, sys
import mlflow, ray

address = sys.argv[2]
runtime_env = lambda: json.load(open(sys.argv[1]))  # afresh: ray.init adds to the one it is given
mlflow.set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"])  # the driver's own settings, from `layered-mlflow run`

@ray.remote
def train(worker):
    with mlflow.start_run() as run:  # where to, from the runtime_env alone
        mlflow.log_param("worker", worker)
    return {
        "uri": os.environ.get("MLFLOW_TRACKING_URI"),
        "password": os.environ.get("MLFLOW_TRACKING_PASSWORD"),
        "notes": os.environ.get("NOTES"),
        "driver_only": os.environ.get("DRIVER_ONLY"),
        "experiment_id": run.info.experiment_id,
        "recorded": ray.get_runtime_context().runtime_env,
    }

@ray.remote
def password():
    return os.environ.get("MLFLOW_TRACKING_PASSWORD")

ray.init(address=address, runtime_env=runtime_env(), log_to_driver=False, logging_level="ERROR")
job_level = ray.get([train.remote(worker) for worker in range(2)])
ray.shutdown()
ray.init(address=address, log_to_driver=False, logging_level="ERROR")  # a job without a job-level runtime_env
per_task = ray.get(password.options(runtime_env=runtime_env()).remote())
runs = mlflow.search_runs(experiment_names=[os.environ["MLFLOW_EXPERIMENT_NAME"]], output_format="list")
print(json.dumps({
    "job_level": job_level,
    "per_task": per_task,
    "experiment_id": mlflow.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"]).experiment_id,
    "runs": sorted(run.data.params["worker"] for run in runs),
}))
"""


def test_ray_workers_get_the_settings_and_fetch_the_secret(project: Project, tmp_path: Path) -> None:
    """A Ray head started with a clean environment; a driver started by `layered-mlflow run` with
    `env --format ray`'s runtime_env: workers get the tracking URI and fetch the password from moto themselves
    (the job-level setup hook), log runs that land in the resolved experiment, and see nothing of the driver's
    own environment. A task's own runtime_env does not run the hook. No file Ray wrote holds the secret."""
    ray_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    try:
        with network_namespace() as inside:
            ready = listens_inside(inside)
            with moto_server(tmp_path / "moto.log", inside, ready) as aws_port:
                mlflow_port = free_port()
                server = [*inside, sys.executable, "-m", "mlflow", "server", "--host", LOOPBACK]
                server += ["--port", str(mlflow_port), "--workers", "1"]
                server += ["--backend-store-uri", f"sqlite:///{tmp_path}/mlflow.db"]
                server += ["--default-artifact-root", str(tmp_path / "artifacts")]
                serving = answers_inside(inside, "/health")
                with started(server, tmp_path / "mlflow.log", lambda: serving(mlflow_port), env=CLEAN):
                    found = ray_job(project, tmp_path, ray_dir, inside, aws_port, mlflow_port)
        for worker in found["job_level"]:
            assert worker["uri"] == f"http://{LOOPBACK}:{mlflow_port}", found
            assert worker["password"] == SECRET, found
            assert worker["notes"] == "two\nlines é", found
            assert worker["driver_only"] is None, found  # the head's clean environment, not the driver's
            assert worker["experiment_id"] == found["experiment_id"], found
            recorded = worker["recorded"]
            assert recorded["env_vars"]["MLFLOW_TRACKING_PASSWORD"] == REFERENCE, recorded
            assert recorded["worker_process_setup_hook"] == "layered_mlflow.worker_setup", recorded
        assert found["per_task"] == REFERENCE  # the hook ran not: a task's runtime_env does not run it
        assert found["runs"] == ["0", "1"]
        assert files_holding(ray_dir, REFERENCE)  # Ray's records were searched: they hold the reference ...
        assert files_holding(ray_dir, SECRET) == []  # ... and never the secret
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)


@contextlib.contextmanager
def ray_head(argv: list[str], log: Path, env: dict[str, str]) -> Iterator[None]:
    """The head until the block ends, started again once if Ray's own wait for its raylet (30 s, fixed in its
    code) ran out: on two cores other jobs load, the raylet sometimes registers later than that."""

    def blocking() -> bool:
        return "will now block" in log.read_text(errors="replace")

    with contextlib.ExitStack() as stack:
        for attempt in range(2):
            try:
                stack.enter_context(started(argv, log, blocking, env=env))
                break
            except pytest.fail.Exception:
                if attempt or "timed out during startup" not in log.read_text(errors="replace"):
                    raise
        yield


def ray_job(
    project: Project, tmp_path: Path, ray_dir: Path, inside: list[str], aws_port: int, mlflow_port: int
) -> dict[str, Any]:
    """The head, then the driver; the driver's JSON report."""
    settings(project, aws_port, f"http://{LOOPBACK}:{mlflow_port}", "ray-job")
    runtime_env = project.cli("env", "--format", "ray")
    assert runtime_env.returncode == 0, runtime_env
    (tmp_path / "runtime_env.json").write_text(runtime_env.stdout)
    (tmp_path / "driver.py").write_text(RAY_DRIVER)
    head_port = free_port()
    ray = shutil.which("ray", path=BIN) or "ray"
    head = [*inside, ray, "start", "--head", "--block", "--node-ip-address", LOOPBACK, "--port", str(head_port)]
    head += ["--include-dashboard=false", "--disable-usage-stats", "--num-cpus=2", "--object-store-memory=100000000"]
    head += ["--temp-dir", str(ray_dir)]
    log = tmp_path / "ray.log"
    node = {**CLEAN, "HOME": str(tmp_path), **NODE_CREDENTIALS}
    with ray_head(head, log, node):
        driver = [*inside, COMMAND, "run", "--", sys.executable, str(tmp_path / "driver.py")]
        driver += [str(tmp_path / "runtime_env.json"), f"{LOOPBACK}:{head_port}"]
        environment = {**os.environ, **NODE_CREDENTIALS, "DRIVER_ONLY": "the driver's", "RAY_USAGE_STATS_ENABLED": "0"}
        done = subprocess.run(driver, cwd=project.root, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stderr}\n{log.read_text(errors='replace')}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# Spark --------------------------------------------------------------------------------------------------------------

SPARK_APP = """
import json, os
from pyspark.sql import SparkSession
from pyspark.sql.functions import udf

spark = SparkSession.builder.getOrCreate()

@udf
def seen(_):
    names = ("MLFLOW_TRACKING_URI", "NOTES", "MLFLOW_TRACKING_PASSWORD")
    return json.dumps({name: os.environ.get(name) for name in names})

@udf
def set_up(_):
    import layered_mlflow

    layered_mlflow.worker_setup()
    return os.environ["MLFLOW_TRACKING_PASSWORD"]

numbers = spark.range(4).repartition(2)
print(json.dumps({
    "seen": [json.loads(row.seen) for row in numbers.select(seen("id").alias("seen")).collect()],
    "passwords": [row.password for row in numbers.select(set_up("id").alias("password")).collect()],
    "executors": spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1,
    "redaction": spark.sparkContext.getConf().get("spark.redaction.regex"),
}))
spark.stop()
"""


def test_spark_executors_get_the_properties_file(project: Project, tmp_path: Path) -> None:
    """`spark-submit --properties-file` with env --format spark on a local-cluster (two executors, JVMs of their
    own, in a clean environment): UDFs see the variables, a UDF that calls worker_setup() gets the secret from moto;
    the properties file and Spark's event log hold the reference only, redacted under its name."""
    with (
        network_namespace() as inside,
        moto_server(tmp_path / "moto.log", inside, listens_inside(inside)) as aws_port,
    ):
        settings(project, aws_port, "http://mlflow.example:5000", "spark-job")
        properties = project.cli("env", "--format", "spark")
        assert properties.returncode == 0, properties
        (tmp_path / "job.properties").write_text(properties.stdout)
        (tmp_path / "app.py").write_text(SPARK_APP)
        events = tmp_path / "events"
        events.mkdir()
        submit = [*inside, shutil.which("spark-submit", path=BIN) or "spark-submit"]
        submit += ["--properties-file", str(tmp_path / "job.properties"), "--master", "local-cluster[2,1,512]"]
        for conf in (
            "spark.executor.memory=512m",
            f"spark.driver.host={LOOPBACK}",
            "spark.ui.enabled=false",
            "spark.eventLog.enabled=true",
            "spark.eventLog.compress=false",
            f"spark.eventLog.dir={events.as_uri()}",
        ):
            submit += ["--conf", conf]
        node = {**CLEAN, "HOME": str(tmp_path), "SPARK_LOCAL_IP": LOOPBACK, "PYSPARK_PYTHON": sys.executable}
        done = subprocess.run(
            [*submit, str(tmp_path / "app.py")],
            env={**node, **NODE_CREDENTIALS},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    expected = {"MLFLOW_TRACKING_URI": "http://mlflow.example:5000", "NOTES": "two\nlines é"}
    assert found["executors"] == 2
    assert found["seen"] == [{**expected, "MLFLOW_TRACKING_PASSWORD": REFERENCE}] * 4
    assert found["passwords"] == [SECRET] * 4
    assert found["redaction"].endswith("|AZURE_STORAGE_CONNECTION_STRING|MLFLOW_TRACKING_PASSWORD")
    assert SECRET not in properties.stdout
    assert files_holding(events, "spark.executorEnv.AZURE_STORAGE_CONNECTION_STRING")  # the event log was searched
    assert files_holding(events, REFERENCE) == []  # ... the references redacted under their names ...
    assert files_holding(events, SECRET) == []  # ... and the secret never there


# Dask ---------------------------------------------------------------------------------------------------------------

# What a worker process re-imports of it (multiprocessing's spawn: the module as __mp_main__) stays light, so that
# Environ's restart of the workers is quick however loaded the machine: mlflow is imported in the functions.
DASK_DRIVER = """
import json, os

import layered_mlflow


def train(worker):
    import mlflow

    layered_mlflow.worker_setup()
    with mlflow.start_run() as run:
        mlflow.log_param("worker", worker)
    return {
        "uri": os.environ.get("MLFLOW_TRACKING_URI"),
        "password": os.environ.get("MLFLOW_TRACKING_PASSWORD"),
        "notes": os.environ.get("NOTES"),
        "experiment_id": run.info.experiment_id,
    }


if __name__ == "__main__":
    import mlflow
    from distributed import Client, LocalCluster
    from distributed.diagnostics.plugin import Environ

    variables = layered_mlflow.worker_variables()  # the project around the working directory
    tracking = mlflow.MlflowClient(variables["MLFLOW_TRACKING_URI"])  # mlflow.set_tracking_uri would export it
    experiment_id = tracking.create_experiment(variables["MLFLOW_EXPERIMENT_NAME"])
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    with cluster, Client(cluster) as client:
        before = sorted(map(str, client.run(lambda: os.environ.get("MLFLOW_TRACKING_URI")).values()))
        client.register_plugin(Environ(variables))
        trained = client.gather([client.submit(train, worker, pure=False) for worker in range(2)])
    runs = tracking.search_runs([experiment_id])
    print(json.dumps({
        "before": before,
        "trained": trained,
        "experiment_id": experiment_id,
        "runs": sorted(run.data.params["worker"] for run in runs),
        "driver": os.environ.get("MLFLOW_TRACKING_URI"),
    }))
"""


def test_dask_workers_get_worker_variables_through_environ(project: Project, tmp_path: Path) -> None:
    """A driver in a clean environment hands worker_variables() to a LocalCluster's worker processes with
    distributed's Environ plugin: tasks see the settings, fetch the secret with worker_setup(), and log runs
    to the resolved experiment. The driver's own environment never had them."""
    with (
        network_namespace() as inside,
        moto_server(tmp_path / "moto.log", inside, listens_inside(inside)) as aws_port,
    ):
        settings(project, aws_port, "sqlite:///mlflow.db", "dask-job")
        (tmp_path / "driver.py").write_text(DASK_DRIVER)
        done = subprocess.run(
            [*inside, sys.executable, str(tmp_path / "driver.py")],
            cwd=project.root,
            env={**CLEAN, "HOME": str(tmp_path), **NODE_CREDENTIALS},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["driver"] is None
    assert found["before"] == ["None", "None"]  # the workers started with nothing of the settings
    tracking_uri = f"sqlite:///{project.root}/mlflow.db"
    for trained in found["trained"]:
        assert trained == {
            "uri": tracking_uri,
            "password": SECRET,
            "notes": "two\nlines é",
            "experiment_id": found["experiment_id"],
        }
    assert found["runs"] == ["0", "1"]
