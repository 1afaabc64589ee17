"""Issue 14: `check --online` reaches the artifact store, against moto's S3 and real `mlflow server`s.

moto and MLflow are started on 127.0.0.1 on free ports and stopped by PID. One
server proxies artifacts (`mlflow-artifacts:`), the other hands out `s3://`
locations the client reaches itself; each broken set-up is one named line.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import COMMAND, Project
from tests.servers import LOOPBACK, answers, free_port, started
from tests.test_tracking_server import environment

pytestmark = [pytest.mark.server, pytest.mark.mlflow]
KEYS = "AWS_ACCESS_KEY_ID=moto-key\nAWS_SECRET_ACCESS_KEY=moto-secret\nAWS_DEFAULT_REGION=us-east-1\n"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 on loopback with the bucket `team`; yields its endpoint."""
    boto3 = pytest.importorskip("boto3")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with started(argv, log, answers(port, "/moto-api/"), env=environment()):
        endpoint = f"http://{LOOPBACK}:{port}"
        keys = {"aws_access_key_id": "moto", "aws_secret_access_key": "moto"}  # moto takes any
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
        s3.create_bucket(Bucket="team")
        yield endpoint


@contextlib.contextmanager
def mlflow_server(project: Project, endpoint: str, options: str) -> Iterator[int]:
    """`layered-mlflow --env server server` with ``options``, the moto endpoint and keys of its own."""
    port = free_port()
    project.write(
        "settings/mlflow.server.yml",
        f"mlflow_s3_endpoint_url: {endpoint}\nserver:\n  port: {port}\n  workers: 1\n{options}",
    )
    project.write(".env.server", KEYS)
    log = project.root.parent / f"server-{port}.log"
    argv = [COMMAND, "--env", "server", "--env-file", ".env.server", "server"]
    with started(argv, log, answers(port, "/health"), cwd=project.root, env=environment()):
        yield port


def check(project: Project, port: int, settings: str, dotenv: str, record: Callable[[str, object], None]) -> str:
    """`check --online` as the training job would run it; its stdout. The time it took is recorded."""
    project.write("settings/mlflow.client.yml", f"mlflow_tracking_uri: http://{LOOPBACK}:{port}\n{settings}")
    project.write(".env", dotenv)
    begun = time.monotonic()
    result = project.cli("--env", "client", "check", "--online", base_env=environment())
    record("check_online_s", round(time.monotonic() - begun, 2))
    assert "Traceback" not in result.stderr, result
    return f"exit {result.returncode}\n{result.stdout}"


@pytest.fixture
def team(project: Project) -> Project:
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\n")
    return project


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory, moto: str) -> Iterator[int]:
    """A server that does not proxy: new experiments' artifacts are s3://team/direct/<id>; yields its port."""
    root = tmp_path_factory.mktemp("direct") / "project"
    (root / "settings").mkdir(parents=True)
    options = "  serve_artifacts: false\n  default_artifact_root: s3://team/direct\n"
    with mlflow_server(Project(root), moto, options) as port:
        yield port


def test_proxied_artifacts(team: Project, moto: str, record_property: Callable[[str, object], None]) -> None:
    """A server that proxies to a bucket it reaches passes; one whose destination bucket is missing is named."""
    with mlflow_server(team, moto, "  artifacts_destination: s3://team/proxied\n") as port:
        good = check(team, port, "", KEYS, record_property)
        assert good.startswith("exit 0"), good
        assert "artifacts at mlflow-artifacts:" in good, good
        assert "the server's artifact API answered" in good, good
    with mlflow_server(team, moto, "  artifacts_destination: s3://missing-bucket/proxied\n") as port:
        broken = check(team, port, "", KEYS, record_property)
        assert broken.startswith("exit 1"), broken
        assert "the server cannot reach its artifact store" in broken, broken


def test_the_team_recipe_checks_what_the_job_uses(
    team: Project, moto: str, record_property: Callable[[str, object], None]
) -> None:
    """docs/server.md's team recipe: the job's environment holds the server section (proxied, an S3 destination) and no
    S3 keys, which the job does not need: the artifacts are reached through the server, the bucket is not probed."""
    with mlflow_server(team, moto, "  artifacts_destination: s3://team/proxied\n") as port:
        server = "server:\n  serve_artifacts: true\n  artifacts_destination: s3://team/proxied\n"
        output = check(team, port, server, "", record_property)
    assert output.startswith("exit 0"), output
    assert "the server's artifact API answered" in output, output
    assert "artifacts at s3://team/proxied" not in output, output


@pytest.mark.parametrize(
    ("settings", "dotenv", "expected"),
    [
        pytest.param("mlflow_s3_endpoint_url: {endpoint}\n", KEYS, "the bucket answered", id="good"),
        pytest.param("", KEYS, "MLFLOW_S3_ENDPOINT_URL is not set for the command", id="endpoint-server-only"),
        pytest.param("mlflow_s3_endpoint_url: {endpoint}\n", "", "no AWS credentials", id="no-credentials"),
        pytest.param(
            "mlflow_s3_endpoint_url: {endpoint}\n",
            "AWS_ACCESS_KEY_ID=moto-key\n",
            "half an AWS key pair: AWS_ACCESS_KEY_ID is set, its other half has no value (hint: AWS_ACCESS_KEY_ID",
            id="half-a-key-pair",
        ),
        pytest.param(
            "mlflow_s3_endpoint_url: {endpoint}\nexperiment:\n  artifact_location: s3://nobucket/x\n",
            KEYS,
            "the bucket 'nobucket' does not exist",
            id="missing-bucket",
        ),
    ],
)
def test_direct_artifacts(
    team: Project,
    moto: str,
    direct: int,
    settings: str,
    dotenv: str,
    expected: str,
    record_property: Callable[[str, object], None],
) -> None:
    """A server that hands out s3:// locations: the client reaches the bucket itself, or is told what is missing."""
    output = check(team, direct, settings.format(endpoint=moto), dotenv, record_property)
    assert expected in output, output
    assert output.startswith("exit 0" if expected == "the bucket answered" else "exit 1"), output
    assert "moto-secret" not in output


@pytest.fixture(scope="module")
def moto_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """moto's S3 checking keys against its IAM: yields the endpoint and a user's access key id and secret."""
    boto3 = pytest.importorskip("boto3")
    port = free_port()
    log = tmp_path_factory.mktemp("moto-auth") / "moto.log"
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    # The first four calls (creating the user, its policy and key, and the bucket) go unauthenticated.
    with started(argv, log, answers(port, "/moto-api/"), env=environment(INITIAL_NO_AUTH_ACTION_COUNT="4")):
        endpoint = f"http://{LOOPBACK}:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **_ANY_KEYS)
        iam.create_user(UserName="ci")
        allow = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
        iam.put_user_policy(UserName="ci", PolicyName="s3", PolicyDocument=allow)
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        s3.create_bucket(Bucket="team")
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]


_ANY_KEYS = {"aws_access_key_id": "moto", "aws_secret_access_key": "moto"}  # before auth starts, moto takes any


@pytest.mark.parametrize(
    ("key_id", "secret", "expected"),
    [
        pytest.param("{key_id}", "{secret}", "the bucket answered", id="good"),
        pytest.param("AKIAWRONG0000000000", "{secret}", "the store does not know AWS_ACCESS_KEY_ID", id="wrong-key"),
        pytest.param("{key_id}", "not-the-secret-key", "AWS_SECRET_ACCESS_KEY is wrong", id="wrong-secret"),
    ],
)
def test_keys_checked_by_the_store(
    project: Project,
    moto_with_auth: tuple[str, str, str],
    key_id: str,
    secret: str,
    expected: str,
    record_property: Callable[[str, object], None],
) -> None:
    """A local tracking store with an S3 experiment location: the bucket is reached with the job's keys, or named."""
    endpoint, good_id, good_secret = moto_with_auth
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: churn\n"
        f"mlflow_s3_endpoint_url: {endpoint}\nexperiment:\n  artifact_location: s3://team/churn\n",
    )
    values = {"key_id": good_id, "secret": good_secret}
    project.write(
        ".env", f"AWS_ACCESS_KEY_ID={key_id.format(**values)}\nAWS_SECRET_ACCESS_KEY={secret.format(**values)}\n"
    )
    begun = time.monotonic()
    result = project.cli("check", "--online", base_env=environment())
    record_property("check_online_s", round(time.monotonic() - begun, 2))
    assert f"artifacts at s3://team/churn: {expected}" in result.stdout, result
    assert result.returncode == (0 if expected == "the bucket answered" else 1), result
    assert good_secret not in result.stdout + result.stderr
