"""Distributed jobs (SPEC §13): the one rule, worker_setup/worker_variables, and each engine's rendering.

The engines themselves (Ray, Spark, Dask) run in tests/test_engines.py; here, the installed command in
a temporary project, Kubernetes' schemas offline, and moto's server as AWS for the ECS/Batch output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import layered_mlflow
from layered_mlflow.distributed import targets
from tests.conftest import COMMAND, PRINT_ENV, Project
from tests.servers import LOOPBACK, answers, free_port, started

LITERAL = "hunter2-literal-secret"
DB_PASSWORD = "pg-pw-in-a-uri"  # noqa: S105 (a test's own)
REFERENCE = "aws-sm:prod/mlflow#password"
MULTI_LINE = "-----BEGIN KEY-----\nline two: with # and 'quotes'\n  indented \"x\" é\n-----END KEY-----\n"
REGION = "eu-west-1"


def literal_settings(project: Project) -> None:
    """A password written as it is, and one inside a URI: two literal secrets, under two rules."""
    project.write(
        "settings/mlflow.yml",
        f"""\
        mlflow_tracking_uri: http://127.0.0.1:5000
        mlflow_tracking_password: {LITERAL}
        env:
          DATABASE_URI: postgresql://alice:{DB_PASSWORD}@db/x
        """,
    )


@pytest.mark.parametrize("fmt", targets.TARGETS)
def test_a_literal_secret_never_goes_through_an_engine(project: Project, fmt: str) -> None:
    """Exit 2 naming each variable that holds a literal secret, with a hint to use a reference; no value printed."""
    literal_settings(project)
    result = project.cli("env", "--format", fmt)
    assert result.returncode == 2, result
    assert result.stdout == "", result
    line = result.stderr.strip()
    assert line.startswith("layered-mlflow: error: DATABASE_URI, MLFLOW_TRACKING_PASSWORD hold literal secrets"), result
    assert "hint: write a secret reference in its place (aws-sm:NAME" in line, result
    assert len(result.stderr.splitlines()) == 1, result
    assert LITERAL not in result.stderr, result
    assert DB_PASSWORD not in result.stderr, result


def test_show_secrets_inlines_a_literal_secret(project: Project) -> None:
    """--show-secrets says to inline it: Ray's env_vars hold the value (and the URI's password) as they are."""
    literal_settings(project)
    result = project.cli("env", "--format", "ray", "--show-secrets")
    assert result.returncode == 0, result
    env_vars = result.json()["env_vars"]
    assert env_vars["MLFLOW_TRACKING_PASSWORD"] == LITERAL
    assert env_vars["DATABASE_URI"] == f"postgresql://alice:{DB_PASSWORD}@db/x"
    assert "worker_process_setup_hook" not in result.json()  # no reference, no token: nothing for a worker to do


def reference_settings(project: Project, aws_port: int | None = None) -> None:
    project.write(
        "settings/mlflow.yml",
        f"""\
        mlflow_tracking_uri: http://127.0.0.1:5000
        mlflow_experiment_name: distributed
        mlflow_tracking_password: {REFERENCE}
        env:
          AWS_DEFAULT_REGION: {REGION}
          AWS_ENDPOINT_URL: http://{LOOPBACK}:{aws_port or free_port()}
          HF_TOKEN: aws-ssm:/ml/hf-token
          NOTES: {json.dumps(MULTI_LINE)}
        """,
    )


def test_ray_runtime_env_carries_references_and_the_hook(project: Project) -> None:
    """env_vars are every variable `run` sets, references unresolved; a reference brings the setup hook."""
    reference_settings(project)
    result = project.cli("env", "--format", "ray")
    assert result.returncode == 0, result
    document = result.json()
    assert document["worker_process_setup_hook"] == "layered_mlflow.worker_setup"
    env_vars = document["env_vars"]
    assert env_vars == project.cli("env", "--format", "json").json()  # what `run` sets
    assert env_vars["MLFLOW_TRACKING_PASSWORD"] == REFERENCE
    assert env_vars["HF_TOKEN"] == "aws-ssm:/ml/hf-token"  # noqa: S105 (a reference)
    assert env_vars["NOTES"] == MULTI_LINE
    assert env_vars["MLFLOW_EXPERIMENT_NAME"] == "distributed"
    assert env_vars == layered_mlflow.worker_variables(project_dir=project.root)


def test_a_token_section_brings_the_setup_hook(project: Project) -> None:
    """With a `token` section and no reference, the hook still runs: it points MLflow's request-auth at it."""
    project.write("settings/mlflow.yml", "token:\n  file: token.txt\n")
    document = project.cli("env", "--format", "ray").json()
    assert document["worker_process_setup_hook"] == "layered_mlflow.worker_setup"
    assert document["env_vars"]["LAYERED_MLFLOW_AUTH_FILE"] == str(project.root / "token.txt")


def test_a_token_command_travels_only_with_show_secrets(project: Project) -> None:
    """token.command's argv may carry a credential: a literal secret for the one rule, inlined on request."""
    project.write("settings/mlflow.yml", "token:\n  command: [get-token, --profile, ml]\n")
    refused = project.cli("env", "--format", "ray")
    assert refused.returncode == 2, refused
    assert "LAYERED_MLFLOW_AUTH_COMMAND holds a literal secret" in refused.stderr, refused
    inlined = project.cli("env", "--format", "ray", "--show-secrets").json()
    assert json.loads(inlined["env_vars"]["LAYERED_MLFLOW_AUTH_COMMAND"]) == ["get-token", "--profile", "ml"]
    assert inlined["worker_process_setup_hook"] == "layered_mlflow.worker_setup"


def test_ray_refuses_what_it_would_expand(project: Project) -> None:
    """Ray runs os.path.expandvars on env_vars: a `$NAME` would reach workers as another value, so exit 2."""
    project.write("settings/mlflow.yml", "env:\n  PATTERN: 'cost$HOME'\n")
    result = project.cli("env", "--format", "ray")
    assert result.returncode == 2, result
    assert "PATTERN holds `$` before a name, which Ray replaces" in result.stderr, result


def test_worker_variables_refuses_a_literal_secret(project: Project) -> None:
    """The Python API keeps the one rule too: LayeredMlflowError naming the variables, no value in it."""
    literal_settings(project)
    with pytest.raises(layered_mlflow.LayeredMlflowError) as raised:
        layered_mlflow.worker_variables(project_dir=project.root)
    assert raised.value.message.startswith("DATABASE_URI, MLFLOW_TRACKING_PASSWORD hold literal secrets")
    assert LITERAL not in str(raised.value)
    assert DB_PASSWORD not in str(raised.value)


def test_worker_variables_takes_resolves_arguments(project: Project) -> None:
    """env, project_dir and overrides as in resolve(): the environment's file and a --set-like override count."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\n")
    project.write("settings/mlflow.staging.yml", "mlflow_experiment_name: staging\n")
    found = layered_mlflow.worker_variables("staging", project.root, {"tags.team": "vision"})
    assert found["MLFLOW_EXPERIMENT_NAME"] == "staging"
    assert json.loads(found["MLFLOW_RUN_CONTEXT"]) == {"layered_mlflow.env": "staging", "team": "vision"}
    assert "worker_variables" in layered_mlflow.__all__
    assert "worker_setup" in layered_mlflow.__all__


def test_worker_setup_does_nothing_when_there_is_nothing_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reference, no token: the environment is left exactly as it was."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    before = dict(os.environ)
    layered_mlflow.worker_setup()
    assert dict(os.environ) == before


def test_worker_setup_points_request_auth_at_the_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A worker that got the token section's variables without MLFLOW_TRACKING_AUTH gets it set."""
    monkeypatch.delenv("MLFLOW_TRACKING_AUTH", raising=False)
    monkeypatch.setenv("LAYERED_MLFLOW_AUTH_FILE", str(tmp_path / "token"))
    layered_mlflow.worker_setup()
    assert os.environ["MLFLOW_TRACKING_AUTH"] == "layered-mlflow"


def test_worker_setup_failure_is_the_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS unreachable (a refused port): LayeredMlflowError naming the variable and the reference, as `run` says."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{LOOPBACK}:{free_port()}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "aws-sm:prod/x")
    with pytest.raises(layered_mlflow.LayeredMlflowError) as raised:
        layered_mlflow.worker_setup()
    said = raised.value.message
    assert said.startswith("MLFLOW_TRACKING_PASSWORD (the worker's environment) = aws-sm:prod/x: cannot reach"), said
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "aws-sm:prod/x"  # noqa: S105 (nothing half-done)


def test_show_json_marks_each_key_secret(project: Project) -> None:
    """`"secret": true` for a secret name, a reference under one, and a URI with a password; false otherwise."""
    project.write(
        "settings/mlflow.yml",
        """\
        mlflow_tracking_uri: https://alice:pw12345@mlflow.example
        mlflow_experiment_name: x
        mlflow_tracking_password: aws-sm:prod/pw
        secrets: [WANDB_ENTITY]
        env:
          WANDB_ENTITY: team
          PLAIN: value
        """,
    )
    shown = project.cli("show", "--format", "json").json()["settings"]
    marks = {name: setting["secret"] for name, setting in shown.items()}
    assert marks == {
        "mlflow_experiment_name": False,
        "mlflow_tracking_password": True,
        "mlflow_tracking_uri": True,
        "secrets": False,
        "env.PLAIN": False,
        "env.WANDB_ENTITY": True,
    }


# Kubernetes ---------------------------------------------------------------------------------------------------------


def k8s_documents(text: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(text) if document is not None]


def test_k8s_is_a_configmap_valid_for_kubernetes(project: Project) -> None:
    """ConfigMap named layered-mlflow-<env> holding references and a multi-line value exactly; the envFrom comment;
    kubernetes-validate accepts it, strict, for every Kubernetes version it ships."""
    import kubernetes_validate

    reference_settings(project)
    project.write("settings/mlflow.staging_eu.yml", "mlflow_experiment_name: eu\n")
    result = project.cli("--env", "staging_eu", "env", "--format", "k8s")
    assert result.returncode == 0, result
    assert '#   envFrom:\n#     - configMapRef:\n#         name: "layered-mlflow-staging-eu"' in result.stdout
    (config_map,) = k8s_documents(result.stdout)
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["name"] == "layered-mlflow-staging-eu"
    assert config_map["data"]["NOTES"] == MULTI_LINE
    assert config_map["data"]["MLFLOW_TRACKING_PASSWORD"] == REFERENCE
    for version in sorted(set(kubernetes_validate.utils.all_versions())):
        kubernetes_validate.validate(config_map, version, strict=True)


def test_k8s_show_secrets_puts_literal_secrets_in_a_secret(project: Project) -> None:
    """With --show-secrets, literal secrets go to a Secret's stringData, not the ConfigMap; both valid; --name used."""
    import kubernetes_validate

    literal_settings(project)
    result = project.cli("env", "--format", "k8s", "--show-secrets", "--name", "train-job")
    assert result.returncode == 0, result
    config_map, secret = k8s_documents(result.stdout)
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == "train-job"
    assert secret["stringData"] == {
        "MLFLOW_TRACKING_PASSWORD": LITERAL,
        "DATABASE_URI": f"postgresql://alice:{DB_PASSWORD}@db/x",
    }
    assert LITERAL not in json.dumps(config_map)
    assert DB_PASSWORD not in json.dumps(config_map)
    assert '#     - secretRef:\n#         name: "train-job"' in result.stdout
    for document in (config_map, secret):
        for version in sorted(set(kubernetes_validate.utils.all_versions())):
            kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        pytest.param(("--format", "k8s", "--name", "Bad_Name"), "--name 'Bad_Name' is not a Kubernetes", id="bad-name"),
        pytest.param(("--format", "ray", "--name", "x"), "--name names the Kubernetes objects", id="name-not-k8s"),
        pytest.param(("--name", "x"), "--name names the Kubernetes objects", id="name-with-dotenv"),
    ],
)
def test_k8s_name_errors(project: Project, args: tuple[str, ...], said: str) -> None:
    """A name Kubernetes refuses, or --name without --format k8s: exit 2, one line."""
    result = project.cli("env", *args)
    assert result.returncode == 2, result
    assert said in result.stderr, result


def test_k8s_refuses_a_name_a_configmap_cannot_hold(project: Project) -> None:
    """`.env` may name `my.var` (a ConfigMap holds it) but not `café`: exit 2 naming it."""
    project.write(".env", "my.var=x\ncafé=y\n")
    result = project.cli("env", "--format", "k8s")
    assert result.returncode == 2, result
    assert "café is not a key a ConfigMap or a Secret can hold" in result.stderr, result
    project.write(".env", "my.var=x\n")
    assert k8s_documents(project.cli("env", "--format", "k8s").stdout)[0]["data"]["my.var"] == "x"


@pytest.mark.parametrize(
    ("environment", "name"),
    [
        pytest.param("", "layered-mlflow", id="base-only"),
        pytest.param("prod", "layered-mlflow-prod", id="plain"),
        pytest.param("Staging_EU", "layered-mlflow-staging-eu", id="upper-and-underscore"),
        pytest.param("__", "layered-mlflow", id="nothing-left"),
    ],
)
def test_default_k8s_name(environment: str, name: str) -> None:
    """layered-mlflow-<env>, lower-cased, with `-` for what an object name cannot hold."""
    assert targets.default_name(environment) == name


# Spark's properties file, as java.util.Properties reads it (its escapes, its \uXXXX).


@pytest.mark.parametrize(
    ("text", "key", "written"),
    [
        pytest.param("a=b:c d", True, "a\\=b\\:c\\ d", id="key-separators"),
        pytest.param("a=b:c #d", False, "a=b:c #d", id="value-as-is"),
        pytest.param("a\\b\nc\td", False, "a\\\\b\\nc\\td", id="escapes"),
        pytest.param("é€😀", False, "\\u00e9\\u20ac\\ud83d\\ude00", id="utf-16-units"),
    ],
)
def test_java_properties_quoting(text: str, key: bool, written: str) -> None:
    """What Properties.load reads back exactly."""
    assert targets._property(text, key) == written


def test_spark_properties(project: Project) -> None:
    """Each variable for executors, YARN's application master and the Kubernetes driver; the redaction regex
    extended with every secret name; references unresolved."""
    reference_settings(project)
    result = project.cli("env", "--format", "spark")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    for prefix in targets.SPARK_PREFIXES:
        assert f"{prefix}MLFLOW_TRACKING_PASSWORD=aws-sm:prod/mlflow#password" in lines
        assert f"{prefix}NOTES={targets._property(MULTI_LINE, key=False)}" in lines
    assert lines[-1] == f"spark.redaction.regex={targets.SPARK_REDACTION}|HF_TOKEN|MLFLOW_TRACKING_PASSWORD"


def test_spark_refuses_what_it_would_trim(project: Project) -> None:
    """Spark trims a properties file's values: a value with a trailing space is exit 2, not another value."""
    project.write("settings/mlflow.yml", "env:\n  PADDED: 'x '\n")
    result = project.cli("env", "--format", "spark")
    assert result.returncode == 2, result
    assert "PADDED begins or ends with a space" in result.stderr, result


# AWS Batch / ECS, against moto's server ------------------------------------------------------------------------------


def _client(service: str, port: int) -> Any:
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=f"http://{LOOPBACK}:{port}",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (moto takes any)
    )


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """moto's server as AWS with the secret the settings name; yields its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(log.parent), "MOTO_ENABLE_RECORDING": "True"}
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with started(argv, log, answers(port, "/moto-api/"), cwd=log.parent, env=env):
        _client("secretsmanager", port).create_secret(Name="prod/mlflow", SecretString='{"password": "from-sm"}')
        _client("ssm", port).put_parameter(Name="/ml/hf-token", Value="hf-from-ssm", Type="SecureString")
        yield port


def moto_api(url: str, method: str = "POST") -> str:
    """What moto's own API at ``url`` answers (its recorder's steps)."""
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, method=method)) as answer:  # noqa: S310 (127.0.0.1)
        text: str = answer.read().decode()
        return text


AWS_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.mark.server
def test_ecs_secrets_become_arns_that_aws_accepts(project: Project, moto: int) -> None:
    """aws-sm: becomes the secret's ARN (moto's own) with ECS's `:FIELD::`; aws-ssm: passes its name; no value is
    fetched; register_task_definition and Batch's register_job_definition accept the lists."""
    reference_settings(project, moto)
    recorder = f"http://{LOOPBACK}:{moto}/moto-api/recorder"
    for step in ("reset-recording", "start-recording"):
        moto_api(f"{recorder}/{step}")
    result = project.cli("--set", "env.DB_SECRET=aws-sm:prod/mlflow", "env", "--format", "ecs", env=AWS_KEYS)
    recorded = moto_api(f"{recorder}/stop-recording") + moto_api(f"{recorder}/download-recording", "GET")
    assert result.returncode == 0, result
    document = result.json()
    arn = _client("secretsmanager", moto).describe_secret(SecretId="prod/mlflow")["ARN"]
    assert document["secrets"] == [
        {"name": "DB_SECRET", "valueFrom": arn},
        {"name": "HF_TOKEN", "valueFrom": "/ml/hf-token"},
        {"name": "MLFLOW_TRACKING_PASSWORD", "valueFrom": f"{arn}:password::"},
    ]
    assert recorded.count("DescribeSecret") == 1, recorded  # one metadata call for the two variables ...
    assert "GetSecretValue" not in recorded  # ... and no value fetched
    assert "GetParameter" not in recorded
    environment = {entry["name"]: entry["value"] for entry in document["environment"]}
    assert environment["NOTES"] == MULTI_LINE
    assert environment["MLFLOW_EXPERIMENT_NAME"] == "distributed"
    assert "from-sm" not in result.stdout
    assert "hf-from-ssm" not in result.stdout
    container = {"name": "train", "image": "train:1", "memory": 512, **document}
    ecs = _client("ecs", moto).register_task_definition(family="train", containerDefinitions=[container])
    assert ecs["taskDefinition"]["containerDefinitions"][0]["secrets"] == document["secrets"]
    batch = _client("batch", moto).register_job_definition(
        jobDefinitionName="train",
        type="container",
        containerProperties={"image": "train:1", "vcpus": 1, "memory": 512, **document},
    )
    assert batch["jobDefinitionName"] == "train"


@pytest.mark.server
def test_ecs_names_a_secret_aws_does_not_know(project: Project, moto: int) -> None:
    """DescribeSecret's refusal is the usual one-line error naming the variable and the reference."""
    project.write(
        "settings/mlflow.yml",
        f"env:\n  AWS_DEFAULT_REGION: {REGION}\n  AWS_ENDPOINT_URL: http://{LOOPBACK}:{moto}\n"
        "  DB_PASSWORD: aws-sm:prod/gone\n",
    )
    result = project.cli("env", "--format", "ecs", env=AWS_KEYS)
    assert result.returncode == 2, result
    assert "DB_PASSWORD (--format ecs) = aws-sm:prod/gone: AWS answered ResourceNotFoundException" in result.stderr


def test_two_nodes_in_different_folders_resolve_the_same(project: Project) -> None:
    """`layered-mlflow run -- torchrun …` on each node: two processes at once, one at the root and one in a
    subfolder (each node's own working directory), give their commands the same variables, paths anchored alike."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: nodes\n")
    (project.root / "src" / "trainer").mkdir(parents=True)
    argv = [COMMAND, "--env", "development", "run", "--", *PRINT_ENV]
    nodes = [
        subprocess.Popen(argv, cwd=folder, stdout=subprocess.PIPE, text=True, env=os.environ)
        for folder in (project.root, project.root / "src" / "trainer")
    ]
    seen = [json.loads(node.communicate(timeout=60)[0]) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0]
    wanted = layered_mlflow.worker_variables(project_dir=project.root).keys()
    first, second = ({name: value for name, value in env.items() if name in wanted} for env in seen)
    assert first == second
    assert first["MLFLOW_EXPERIMENT_NAME"] == "nodes"
    assert first["MLFLOW_TRACKING_URI"] == f"sqlite:///{project.root}/mlflow.db"


def test_the_kubernetes_example_uses_the_configmap_of_env_format_k8s(tmp_path: Path) -> None:
    """examples/kubernetes/job.yaml's envFrom names the ConfigMap that `--env production env --format k8s` makes
    from the repository's settings, and that ConfigMap is valid."""
    import kubernetes_validate

    repo = Path(__file__).parent.parent
    job = yaml.safe_load((repo / "examples" / "kubernetes" / "job.yaml").read_text(encoding="utf-8"))
    (container,) = job["spec"]["template"]["spec"]["containers"]
    (source,) = container["envFrom"]
    project = Project(tmp_path / "image")
    for name in ("mlflow.yml", "mlflow.production.yml"):  # what examples/docker/Dockerfile bakes in
        project.write(f"settings/{name}", (repo / "settings" / name).read_text(encoding="utf-8"))
    result = project.cli("--env", "production", "env", "--format", "k8s")
    assert result.returncode == 0, result
    (config_map,) = k8s_documents(result.stdout)
    assert source["configMapRef"]["name"] == config_map["metadata"]["name"]
    kubernetes_validate.validate(config_map, kubernetes_validate.utils.latest_version(), strict=True)


READ_ONLY_POD = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def pod_start_imports(image: Path, cache: Path) -> list[str]:
    """What a fresh `env` imports in a pod-like start: the image's folder read-only, the image's cache folder."""
    from tests.test_imports import PROBE

    probe = PROBE.replace('("mlflow", "flask"', '("dynaconf", "flask"')  # Dynaconf is what a warm cache skips
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_POD, "pod", str(image)]
    argv += [sys.executable, "-c", probe, json.dumps(["--env", "production", "env", "--format", "k8s"])]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "LAYERED_MLFLOW_PROJECT_DIR": str(image)}
    done = subprocess.run(argv, cwd="/", env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


def test_an_image_carries_a_warm_cache_for_a_read_only_pod(tmp_path: Path) -> None:
    """examples/docker/Dockerfile's warm-up, done here: a pod-like start (read-only filesystem, fresh process)
    then parses no settings file (no Dynaconf); without the warm-up it does, and writes nothing."""
    repo = Path(__file__).parent.parent
    dockerfile = (repo / "examples" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    warm_up = "RUN layered-mlflow show > /dev/null && layered-mlflow --env production show > /dev/null"
    assert warm_up in dockerfile
    assert "ENV XDG_CACHE_HOME=/app/.cache" in dockerfile
    image = Project(tmp_path / "app")
    for name in ("mlflow.yml", "mlflow.production.yml"):
        image.write(f"settings/{name}", (repo / "settings" / name).read_text(encoding="utf-8"))
    cache = image.root / ".cache"
    cache.mkdir(mode=0o700)
    assert pod_start_imports(image.root, cache) == ["dynaconf"]  # cold: parsed at every start
    assert list(cache.iterdir()) == []  # and nothing kept: the filesystem is read-only
    for command in ("show", "--env production show"):
        built = subprocess.run(
            [COMMAND, *command.split()],
            cwd="/",
            env={**os.environ, "XDG_CACHE_HOME": str(cache), "LAYERED_MLFLOW_PROJECT_DIR": str(image.root)},
            capture_output=True,
            check=False,
        )
        assert built.returncode == 0, built.stderr
    assert pod_start_imports(image.root, cache) == []  # warm: the image's cache answers


def test_ecs_is_bounded_as_fetching_is(project: Project) -> None:
    """An endpoint that accepts and never answers: exit 2 saying timeout within the 10 s of every fetch."""
    import socket

    with socket.socket() as hung:
        hung.bind((LOOPBACK, 0))
        hung.listen(8)  # the kernel accepts; nobody ever answers
        project.write(
            "settings/mlflow.yml",
            f"env:\n  AWS_DEFAULT_REGION: {REGION}\n  AWS_ENDPOINT_URL: http://{LOOPBACK}:{hung.getsockname()[1]}\n"
            "  DB_PASSWORD: aws-sm:prod/db\n  DB_USER: aws-sm:prod/db#user\n",
        )
        result = project.cli("env", "--format", "ecs", env=AWS_KEYS, timeout=60)
    assert result.returncode == 2, result
    assert "DB_PASSWORD (--format ecs) = aws-sm:prod/db: no answer within 10 s (timeout)" in result.stderr, result
