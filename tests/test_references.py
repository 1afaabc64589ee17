"""Secret references fetched for real: moto's server on 127.0.0.1 as Secrets Manager and Parameter Store."""

from __future__ import annotations

import http.server
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PRINT_ENV, Project
from tests.servers import LOOPBACK, answers, free_port, running_with, started

pytestmark = pytest.mark.server

PLAIN = "s3cr3t-plain-value"
JSON_SECRET = json.dumps({"password": "pw-from-json", "port": 5432, "user": "alice"})
LOOKS_BINARY = "\x01\x02\x7f é€ \u2028 ÿ\t"
MULTI_LINE = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
BINARY = b"\xff\xfe\x80not-utf-8\x01"
SSM_VALUE = "ssm-decrypted-password"
REGION = "eu-west-1"


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
    """moto's server as AWS, holding a secret of each kind; yields its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(log.parent), "MOTO_ENABLE_RECORDING": "True"}
    with started(
        [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
        log,
        answers(port, "/moto-api/"),
        cwd=log.parent,  # its recorder writes a file where it runs
        env=env,
    ):
        sm = _client("secretsmanager", port)
        for name, value in (
            ("plain", PLAIN),
            ("json", JSON_SECRET),
            ("looks-binary", LOOKS_BINARY),
            ("pem", MULTI_LINE),
        ):
            sm.create_secret(Name=f"prod/{name}", SecretString=value)
        sm.create_secret(Name="prod/binary", SecretBinary=BINARY)
        ssm = _client("ssm", port)
        ssm.put_parameter(Name="/mlflow/prod/password", Value=SSM_VALUE, Type="SecureString")
        yield port


def aws_settings(port: int) -> str:
    """The env section that feeds boto3's chain: region, endpoint and keys resolved like any variable."""
    return (
        "env:\n"
        f"  AWS_DEFAULT_REGION: {REGION}\n"
        f"  AWS_ENDPOINT_URL: http://{LOOPBACK}:{port}\n"
        "  AWS_ACCESS_KEY_ID: testing\n"
        "  AWS_SECRET_ACCESS_KEY: testing\n"
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        pytest.param("aws-sm:prod/plain", PLAIN, id="sm-plain"),
        pytest.param("aws-sm:prod/json#password", "pw-from-json", id="sm-json-field"),
        pytest.param("aws-sm:prod/json#port", "5432", id="sm-json-number-field"),
        pytest.param("aws-sm:prod/json", JSON_SECRET, id="sm-json-whole"),
        pytest.param("aws-sm:prod/looks-binary", LOOKS_BINARY, id="sm-binary-looking-string"),
        pytest.param("aws-sm:prod/pem", MULTI_LINE, id="sm-multi-line"),
        pytest.param("aws-sm:prod/binary", os.fsdecode(BINARY), id="sm-secret-binary"),
        pytest.param("aws-ssm:/mlflow/prod/password", SSM_VALUE, id="ssm-secure-string"),
    ],
)
def test_run_gives_the_command_the_fetched_value(project: Project, moto: int, reference: str, expected: str) -> None:
    """Each kind of secret reaches the command byte for byte, whatever its key's name (here a plain variable)."""
    project.write("settings/mlflow.yml", aws_settings(moto) + f"  SERVICE_SETTING: {json.dumps(reference)}\n")
    result = project.cli("run", "--", sys.executable, "-c", _PRINT_BYTES.format(name="SERVICE_SETTING"))
    assert result.returncode == 0, result
    assert bytes.fromhex(result.stdout.strip()) == os.fsencode(expected)


_PRINT_BYTES = "import os; print(os.environb[b'{name}'].hex())"


def test_the_chain_is_fed_by_dotenv_and_the_winning_value_only(project: Project, moto: int) -> None:
    """Region and endpoint from .env work; a higher layer's literal over a reference fetches nothing."""
    project.write("settings/mlflow.yml", "mlflow_tracking_password: aws-sm:prod/does-not-exist\n")
    project.write(
        ".env",
        f"AWS_DEFAULT_REGION={REGION}\nAWS_ENDPOINT_URL=http://{LOOPBACK}:{moto}\n"
        "AWS_ACCESS_KEY_ID=testing\nAWS_SECRET_ACCESS_KEY=testing\nMLFLOW_TRACKING_USERNAME=aws-ssm:/mlflow/prod/password\n",
    )
    child = project.child_env(env={"MLFLOW_TRACKING_PASSWORD": "literal-wins"})
    assert child["MLFLOW_TRACKING_PASSWORD"] == "literal-wins"  # noqa: S105 (a test value)
    assert child["MLFLOW_TRACKING_USERNAME"] == SSM_VALUE


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        pytest.param("aws-sm:prod/missing", "ResourceNotFoundException", id="sm-missing"),
        pytest.param("aws-ssm:/mlflow/missing", "ParameterNotFound", id="ssm-missing"),
        pytest.param("aws-sm:prod/json#nope", "no field 'nope'", id="sm-missing-field"),
        pytest.param("aws-sm:prod/plain#field", "not a JSON object", id="sm-field-of-a-string"),
    ],
)
def test_a_failed_fetch_names_key_reference_and_code(
    project: Project, moto: int, tmp_path: Path, reference: str, code: str
) -> None:
    """One line, exit 2, the command not started; the message names the key, the reference and AWS's code."""
    project.write("settings/mlflow.yml", aws_settings(moto) + f"mlflow_tracking_password: {reference}\n")
    marker = tmp_path / "started"
    result = project.cli("run", "--", "touch", str(marker))
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1, result
    assert result.stderr.startswith(
        f"layered-mlflow: error: mlflow_tracking_password (settings/mlflow.yml) = {reference}:"
    )
    assert code in result.stderr, result
    assert not marker.exists()
    assert "pw-from-json" not in result.stderr, result
    assert PLAIN not in result.stderr, result


def test_wrong_credentials_are_aws_s_own_code(project: Project, tmp_path: Path) -> None:
    """moto with authentication on refuses unknown keys: the error is AWS's code, not a traceback."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with started(argv, tmp_path / "moto.log", answers(port, "/moto-api/"), cwd=tmp_path, env=env):
        project.write("settings/mlflow.yml", aws_settings(port) + "mlflow_tracking_password: aws-sm:prod/plain\n")
        result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert "AWS answered InvalidClientTokenId" in result.stderr, result
    assert "hint: check AWS_ACCESS_KEY_ID" in result.stderr, result


def test_a_hung_endpoint_ends_at_the_bound(project: Project) -> None:
    """A socket that accepts and never answers: exit 2 saying timeout (10 s in all), not boto3's minutes of retries."""
    with socket.socket() as hung:
        hung.bind((LOOPBACK, 0))
        hung.listen(8)  # the kernel accepts; nobody ever answers
        project.write("settings/mlflow.yml", aws_settings(hung.getsockname()[1]) + "  X_TOKEN: aws-sm:a\n")
        result = project.cli("run", "--", "true", timeout=60)
    assert result.returncode == 2, result
    assert "env.X_TOKEN (settings/mlflow.yml) = aws-sm:a:" in result.stderr, result
    assert "timeout" in result.stderr, result


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("show",), id="show"),
        pytest.param(("show", "--format", "json"), id="show-json"),
        pytest.param(("explain", "MLFLOW_TRACKING_PASSWORD"), id="explain"),
        pytest.param(("env",), id="env"),
        pytest.param(("env", "--format", "json"), id="env-json"),
        pytest.param(("run", "--dry-run", "--", "true"), id="run-dry-run"),
        pytest.param(("server", "--dry-run"), id="server-dry-run"),
    ],
)
def test_printing_commands_show_the_reference_and_fetch_nothing(project: Project, args: tuple[str, ...]) -> None:
    """With AWS unreachable (a refused port), these still succeed: they print the reference and fetch nothing."""
    project.write(
        "settings/mlflow.yml", aws_settings(free_port()) + "mlflow_tracking_password: aws-sm:prod/json#password\n"
    )
    result = project.cli(*args)
    assert result.returncode == 0, result
    assert "aws-sm:prod/json#password" in result.stdout, result


def test_env_show_secrets_and_check_online_fetch(project: Project, moto: int) -> None:
    """env --show-secrets prints the fetched value; check --online fetches (and reports a failed fetch as an error)."""
    project.write("settings/mlflow.yml", aws_settings(moto) + "mlflow_tracking_password: aws-sm:prod/json#password\n")
    shown = project.cli("env", "--show-secrets")
    assert shown.returncode == 0, shown
    assert 'MLFLOW_TRACKING_PASSWORD="pw-from-json"' in shown.stdout, shown
    project.write("settings/mlflow.yml", aws_settings(moto) + "mlflow_tracking_password: aws-sm:prod/gone\n")
    checked = project.cli("check", "--online", "--timeout", "5")
    assert checked.returncode == 1, checked
    failure = "error: mlflow_tracking_password (settings/mlflow.yml) = aws-sm:prod/gone: AWS answered "
    assert failure + "ResourceNotFoundException" in checked.stdout, checked


def test_configure_fetches_in_process(project: Project, moto: int) -> None:
    """configure() in a notebook's process sets the fetched value, and leaves no AWS_* of the settings behind it."""
    project.write(
        "settings/mlflow.yml", aws_settings(moto) + "mlflow_tracking_password: aws-ssm:/mlflow/prod/password\n"
    )
    script = (
        "import os, json, layered_mlflow\n"
        f"layered_mlflow.configure(project_dir={str(project.root)!r})\n"
        "print(json.dumps(os.environ['MLFLOW_TRACKING_PASSWORD']))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == SSM_VALUE


def _stand_in(folder: Path, body: str) -> None:
    script = folder / "op"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_one_password_through_op_read(project: Project, tmp_path: Path) -> None:
    """1Password's `op` cannot be installed here: a stand-in script on PATH keeps its `op read` contract.

    It answers `op read --no-newline op://VAULT/ITEM/FIELD` with the value alone, as the real one does,
    and fails with exit 1 and `[ERROR] date time message` on stderr for an unknown item.
    """
    _stand_in(
        tmp_path,
        '[ "$1 $2" = "read --no-newline" ] || exit 9\n'
        'case "$3" in\n'
        '  op://ml/mlflow/password) printf "op-pass%%word\\nline2" ;;\n'
        '  *) echo "[ERROR] 2026/12/01 08:00:00 could not read secret $3: item not found" >&2; exit 1 ;;\n'
        "esac\n",
    )
    path = f"{tmp_path}:{os.environ['PATH']}"
    project.write("settings/mlflow.yml", "mlflow_tracking_password: op://ml/mlflow/password\n")
    assert project.child_env(env={"PATH": path})["MLFLOW_TRACKING_PASSWORD"] == "op-pass%word\nline2"  # noqa: S105
    project.write("settings/mlflow.yml", "mlflow_tracking_password: op://ml/other/password\n")
    failed = project.cli("run", "--", "true", env={"PATH": path})
    assert failed.returncode == 2, failed
    assert "`op read` failed: could not read secret op://ml/other/password: item not found" in failed.stderr, failed


def test_missing_op_is_one_line(project: Project, tmp_path: Path) -> None:
    """No `op` on PATH: exit 2 saying so, with where to get it."""
    project.write("settings/mlflow.yml", "mlflow_tracking_password: op://ml/mlflow/password\n")
    result = project.cli("run", "--", "/bin/true", env={"PATH": str(tmp_path)})
    assert result.returncode == 2, result
    assert "1Password's `op` command is not on PATH" in result.stderr, result


@pytest.mark.parametrize(
    ("where", "named"),
    [
        pytest.param("settings/mlflow.yml", "mlflow_tracking_password (settings/mlflow.yml)", id="a-file-by-its-key"),
        pytest.param(".env", "MLFLOW_TRACKING_PASSWORD (.env)", id="dotenv-as-it-spells-it"),
        pytest.param("environment", "MLFLOW_TRACKING_PASSWORD (environment)", id="the-environment-by-its-variable"),
    ],
)
def test_a_failed_reference_is_named_as_its_layer_spells_it(
    project: Project, tmp_path: Path, where: str, named: str
) -> None:
    """The one way `check` names a setting (Resolved.where) names a reference that cannot be fetched too."""
    reference = "op://ml/mlflow/password"
    env = {"PATH": str(tmp_path)}
    if where == "environment":
        env["MLFLOW_TRACKING_PASSWORD"] = reference
    elif where == ".env":
        project.write(".env", f"MLFLOW_TRACKING_PASSWORD={reference}\n")
    else:
        project.write(where, f"mlflow_tracking_password: {reference}\n")
    result = project.cli("run", "--", "/bin/true", env=env)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {named} = {reference}: "), result


def test_missing_boto3_says_which_extra(project: Project, tmp_path: Path) -> None:
    """Without boto3 (here shadowed by a package on PYTHONPATH that fails to import), the hint is the aws extra."""
    (tmp_path / "boto3").mkdir()
    (tmp_path / "boto3" / "__init__.py").write_text("raise ImportError('No module named boto3')\n")
    project.write("settings/mlflow.yml", "mlflow_tracking_password: aws-sm:prod/plain\n")
    result = project.cli("run", "--", "true", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result
    assert "hint: pip install 'layered-mlflow[aws]'" in result.stderr, result


def test_one_request_per_distinct_reference(project: Project, moto: int) -> None:
    """Two keys naming one reference cost one request (moto's recorder counts them), and both get the value."""
    import urllib.request

    base = f"http://{LOOPBACK}:{moto}/moto-api/recorder"
    for step in ("reset-recording", "start-recording"):  # earlier tests' requests were recorded too
        with urllib.request.urlopen(urllib.request.Request(f"{base}/{step}", method="POST")):  # noqa: S310
            pass
    project.write(
        "settings/mlflow.yml",
        aws_settings(moto) + "  A_SECRET: aws-sm:prod/plain\n  B_SECRET: aws-sm:prod/plain\n",
    )
    child = project.child_env()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/stop-recording", method="POST")):  # noqa: S310
        pass
    with urllib.request.urlopen(f"{base}/download-recording") as answer:  # noqa: S310
        recorded = [line for line in answer.read().decode().splitlines() if "GetSecretValue" in line]
    assert (child["A_SECRET"], child["B_SECRET"]) == (PLAIN, PLAIN)
    assert len(recorded) == 1, recorded


# No fetch may reach past 127.0.0.1: boto3 would otherwise ask the instance metadata service or read ~/.aws.
NO_OTHER_CREDENTIALS = (
    "  AWS_EC2_METADATA_DISABLED: 'true'\n"
    "  AWS_SHARED_CREDENTIALS_FILE: /nonexistent/credentials\n"
    "  AWS_CONFIG_FILE: /nonexistent/config\n"
)


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        pytest.param("not a url", "AWS_ENDPOINT_URL is not a URL boto3 accepts", id="not-a-url"),
        pytest.param("http://[::1", "AWS_ENDPOINT_URL is not a URL boto3 accepts", id="broken-ipv6"),
    ],
)
def test_an_endpoint_that_is_no_url_is_one_line(project: Project, endpoint: str, message: str) -> None:
    """AWS_ENDPOINT_URL that is not a URL: exit 2 naming the variable, the key and the reference (was exit 70)."""
    project.write(
        "settings/mlflow.yml",
        "env:\n  AWS_DEFAULT_REGION: eu-west-1\n"
        f"  AWS_ENDPOINT_URL: {json.dumps(endpoint)}\n  AWS_ACCESS_KEY_ID: a\n  AWS_SECRET_ACCESS_KEY: b\n"
        "mlflow_tracking_password: aws-ssm:/mlflow/prod/password\n",
    )
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1, result
    key = "mlflow_tracking_password (settings/mlflow.yml)"
    assert result.stderr.startswith(f"layered-mlflow: error: {key} = aws-ssm:/mlflow/prod/password: {message}"), result


class _EmptyOk(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every request with 200 and nothing: not AWS's API."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("reference", ["aws-sm:prod/plain", "aws-ssm:/mlflow/prod/password"])
def test_an_empty_answer_is_one_line(project: Project, reference: str) -> None:
    """An endpoint answering an empty 200: exit 2 saying the answer holds no value (was exit 70, KeyError)."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _EmptyOk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project.write(
            "settings/mlflow.yml", aws_settings(server.server_port) + f"mlflow_tracking_password: {reference}\n"
        )
        result = project.cli("run", "--", "true")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result
    assert f"= {reference}: the endpoint answered without the secret's value" in result.stderr, result
    assert "AWS_ENDPOINT_URL" in result.stderr, result


def test_partial_aws_keys_say_which_half_is_missing(project: Project) -> None:
    """An access key id without its secret: the hint says they go together and names the missing one."""
    project.write(
        "settings/mlflow.yml",
        f"env:\n  AWS_DEFAULT_REGION: eu-west-1\n  AWS_ENDPOINT_URL: http://{LOOPBACK}:{free_port()}\n"
        "  AWS_ACCESS_KEY_ID: only-the-id\n" + NO_OTHER_CREDENTIALS + "mlflow_tracking_password: aws-sm:prod/plain\n",
    )
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert "cannot reach AWS (PartialCredentialsError) (hint: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go" in (
        result.stderr
    ), result
    assert "AWS_SECRET_ACCESS_KEY has no value" in result.stderr, result


def test_a_hung_op_gets_its_own_hint_and_leaves_no_process(project: Project, tmp_path: Path) -> None:
    """`op read` that never answers (and starts a child): exit 2 with 1Password's hint, nothing left running."""
    marker = tmp_path / "op-was-here"
    sleep = f"{sys.executable} -c 'import time; time.sleep(600)' {marker}"
    _stand_in(tmp_path, f"{sleep} &\nexec {sleep}\n")
    project.write("settings/mlflow.yml", "mlflow_tracking_password: op://ml/mlflow/password\n")
    result = project.cli("run", "--", "true", env={"PATH": f"{tmp_path}:{os.environ['PATH']}"}, timeout=60)
    assert result.returncode == 2, result
    assert "= op://ml/mlflow/password: `op read` gave no answer" in result.stderr, result
    assert "op signin" in result.stderr, result
    assert "AWS_ENDPOINT_URL" not in result.stderr, result
    assert running_with(str(marker)) == []


@pytest.fixture(scope="module")
def moto_checking_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    """moto's server checking every signature against its IAM, as AWS does; yields its port and the keys.

    The `fetcher` key is the machine's own (a profile); the `artifacts` key pair is kept in Parameter Store,
    as the secrets page's example keeps the artifact store's keys.
    """
    import boto3

    port = free_port()
    folder = tmp_path_factory.mktemp("moto-keys")
    env = {"PATH": os.environ["PATH"], "HOME": str(folder), "INITIAL_NO_AUTH_ACTION_COUNT": "6"}
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with started(argv, folder / "moto.log", answers(port, "/moto-api/"), cwd=folder, env=env):
        iam = _client("iam", port)
        allow = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
        keys: dict[str, str] = {}
        for user in ("fetcher", "artifacts"):  # six calls without authentication, then none
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=allow)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[f"{user}_id"], keys[f"{user}_secret"] = key["AccessKeyId"], key["SecretAccessKey"]
        session = boto3.session.Session(keys["fetcher_id"], keys["fetcher_secret"], region_name=REGION)
        ssm = session.client("ssm", endpoint_url=f"http://{LOOPBACK}:{port}")
        ssm.put_parameter(Name="/ml/artifacts/access-key-id", Value=keys["artifacts_id"], Type="SecureString")
        ssm.put_parameter(Name="/ml/artifacts/secret-key", Value=keys["artifacts_secret"], Type="SecureString")
        sm = session.client("secretsmanager", endpoint_url=f"http://{LOOPBACK}:{port}")
        sm.create_secret(Name="prod/mlflow", SecretString='{"password": "pw-of-mlflow"}')
        (folder / "credentials").write_text(
            f"[fetcher]\naws_access_key_id = {keys['fetcher_id']}\naws_secret_access_key = {keys['fetcher_secret']}\n"
        )
        keys["credentials"] = str(folder / "credentials")
        yield port, keys


@pytest.mark.parametrize(
    "key_id",
    [
        pytest.param("aws-ssm:/ml/artifacts/access-key-id", id="both-keys-references"),
        pytest.param("{artifacts_id}", id="only-the-secret-a-reference"),
    ],
)
def test_aws_keys_that_are_references_are_fetched_first(
    project: Project, moto_checking_keys: tuple[int, dict[str, str]], key_id: str
) -> None:
    """The secrets page's `AWS_SECRET_ACCESS_KEY: aws-ssm:…`: fetched with the machine's profile, never handed to boto3
    unresolved; the other references are then fetched with the keys the command gets."""
    port, keys = moto_checking_keys
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_password: aws-sm:prod/mlflow#password\n"
        f"env:\n  AWS_DEFAULT_REGION: {REGION}\n  AWS_ENDPOINT_URL: http://{LOOPBACK}:{port}\n"
        f"  AWS_SHARED_CREDENTIALS_FILE: {keys['credentials']}\n  AWS_PROFILE: fetcher\n"
        f"  AWS_ACCESS_KEY_ID: {key_id.format(**keys)}\n"
        "  AWS_SECRET_ACCESS_KEY: aws-ssm:/ml/artifacts/secret-key\n",
    )
    result = project.cli("run", "--", *PRINT_ENV)
    assert result.returncode == 0, result
    child = result.json()
    assert (child["AWS_ACCESS_KEY_ID"], child["AWS_SECRET_ACCESS_KEY"]) == (
        keys["artifacts_id"],
        keys["artifacts_secret"],
    )
    assert child["MLFLOW_TRACKING_PASSWORD"] == "pw-of-mlflow"  # noqa: S105 (a test value)


def test_an_aws_key_that_only_it_could_fetch_is_refused_clearly(
    project: Project, moto_checking_keys: tuple[int, dict[str, str]]
) -> None:
    """No other credentials to fetch the secret key with: one line saying the key is itself a reference."""
    port, keys = moto_checking_keys
    project.write(
        "settings/mlflow.yml",
        f"env:\n  AWS_DEFAULT_REGION: {REGION}\n  AWS_ENDPOINT_URL: http://{LOOPBACK}:{port}\n"
        + NO_OTHER_CREDENTIALS
        + f"  AWS_ACCESS_KEY_ID: {keys['artifacts_id']}\n  AWS_SECRET_ACCESS_KEY: aws-ssm:/ml/artifacts/secret-key\n",
    )
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert result.stderr.startswith(
        "layered-mlflow: error: env.AWS_SECRET_ACCESS_KEY (settings/mlflow.yml) = aws-ssm:/ml/artifacts/secret-key: "
        "cannot reach AWS (NoCredentialsError) (hint: AWS_SECRET_ACCESS_KEY is itself a reference"
    ), result
    assert keys["artifacts_secret"] not in result.stderr


def test_check_online_bounds_a_slow_secret_store_by_its_timeout(project: Project) -> None:
    """`check --online --timeout 1` with a secret store that never answers: the error line, on stdout, after 1 s."""
    with socket.socket() as hung:
        hung.bind((LOOPBACK, 0))
        hung.listen(8)  # the kernel accepts; nobody ever answers
        project.write("settings/mlflow.yml", aws_settings(hung.getsockname()[1]) + "  X_TOKEN: aws-sm:a\n")
        result = project.cli("check", "--online", "--timeout", "1", timeout=60)
    assert result.returncode == 1, result
    assert "error: env.X_TOKEN (settings/mlflow.yml) = aws-sm:a: no answer within 1 s (timeout)" in result.stdout


class _Reflecting(http.server.BaseHTTPRequestHandler):
    """An endpoint (a proxy, a stand-in) whose error code is the request's Authorization header, key id and all."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"__type": self.headers.get("Authorization", ""), "message": "no"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("reference", ["aws-sm:prod/plain", "aws-ssm:/mlflow/prod/password"])
def test_an_error_code_that_echoes_the_keys_is_scrubbed(project: Project, reference: str) -> None:
    """Whatever AWS's error code says is masked as free text is: the access key id never reaches the terminal."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Reflecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key_id = "AKIAREFLECTED0KEYID"
    settings = aws_settings(server.server_port).replace("AWS_ACCESS_KEY_ID: testing", f"AWS_ACCESS_KEY_ID: {key_id}")
    try:
        project.write("settings/mlflow.yml", settings + f"mlflow_tracking_password: {reference}\n")
        result = project.cli("run", "--", "true")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result
    assert result.stderr.startswith(
        f"layered-mlflow: error: mlflow_tracking_password (settings/mlflow.yml) = {reference}: AWS answered "
    ), result
    assert "AWS4-HMAC-SHA256" in result.stderr, result  # the code is there, masked
    assert key_id not in result.stderr, result
    assert "Signature=" not in result.stderr or "Signature=***" in result.stderr, result


class _ReflectingS3(http.server.BaseHTTPRequestHandler):
    """An S3 stand-in whose error code is the request's Authorization header."""

    def do_GET(self) -> None:
        code = self.headers.get("Authorization", "").replace("&", "&amp;").replace("<", "&lt;")
        body = f"<Error><Code>{code}</Code><Message>no</Message></Error>".encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_check_online_scrubs_an_s3_error_code_that_echoes_the_keys(project: Project) -> None:
    """`check --online`'s bucket probe prints S3's error code masked: the access key id in it never shows."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _ReflectingS3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key_id = "AKIAREFLECTED0KEYID"
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: sqlite:///mlflow.db\nexperiment:\n  artifact_location: s3://team/churn\n",
    )
    project.write(
        ".env",
        f"MLFLOW_S3_ENDPOINT_URL=http://{LOOPBACK}:{server.server_port}\n"
        f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY=moto-secret\n",
    )
    try:
        result = project.cli("check", "--online")
    finally:
        server.shutdown()
        server.server_close()
    assert "artifacts at s3://team/churn: the store refused (AWS4-HMAC-SHA256 Credential=***" in result.stdout, result
    assert key_id not in result.stdout + result.stderr, result
