"""Fetching one secret reference: AWS Secrets Manager and Parameter Store with boto3, 1Password with `op read`.

Imported only when a reference is present: boto3 costs `run` about 150 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from typing import Any

from layered_mlflow.masking import printable
from layered_mlflow.references import BOUND, FetchError

_AWS_HINTS = {
    "ResourceNotFoundException": "check the secret's name (or ARN) and the region",
    "ParameterNotFound": "check the parameter's name (it starts with /) and the region",
    "AccessDeniedException": "the credentials may not read it: check the IAM policy",
    "UnrecognizedClientException": "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
    "InvalidClientTokenId": "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
    "NoCredentialsError": "give AWS credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or a role",
    "NoRegionError": "set AWS_DEFAULT_REGION (in the env section, .env or the environment)",
    "EndpointConnectionError": "is the endpoint reachable from here (AWS_ENDPOINT_URL, the network)?",
}


def fetch(reference: str, environment: Mapping[str, str], where: str) -> str:
    """The value ``reference`` names, byte-exact; ``environment`` is the command's; ``where`` names the key."""
    if reference.startswith("op://"):
        return _one_password(reference, environment, where)
    service, _, name = reference.partition(":")
    if service == "aws-ssm":
        answer = _aws("ssm", environment, where, reference, lambda c: c.get_parameter(Name=name, WithDecryption=True))
        return str(answer["Parameter"]["Value"])
    secret, _, field = name.partition("#")
    answer = _aws("secretsmanager", environment, where, reference, lambda c: c.get_secret_value(SecretId=secret))
    text = answer["SecretString"] if "SecretString" in answer else _binary(answer["SecretBinary"], where, reference)
    return _field(text, field, where, reference) if field else text


def _aws(service: str, environment: Mapping[str, str], where: str, reference: str, call: Any) -> dict[str, Any]:
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise FetchError(
            f"{where} = {reference}: fetching it needs boto3, which is not installed",
            hint="pip install 'layered-mlflow[aws]'",
        ) from None
    # One attempt, bounded: the whole fetch must end within BOUND seconds.
    config = Config(connect_timeout=BOUND, read_timeout=BOUND, retries={"total_max_attempts": 1})
    try:
        with _aws_variables(environment):
            client = boto3.session.Session().client(service, config=config)
            answer: dict[str, Any] = call(client)
    except ClientError as exc:
        code = _error_code(exc.response.get("Error", {}))
        raise FetchError(f"{where} = {reference}: AWS answered {code}", hint=_AWS_HINTS.get(code)) from None
    except BotoCoreError as exc:
        code = "timeout" if "Timeout" in type(exc).__name__ else type(exc).__name__
        raise FetchError(f"{where} = {reference}: cannot reach AWS ({code})", hint=_AWS_HINTS.get(code)) from None
    return answer


def _error_code(error: Mapping[str, Any]) -> str:
    """AWS's error code; a bare HTTP status (an XML error to a JSON API, as some endpoints send) is looked into."""
    code = str(error.get("Code", "an error"))
    if code.isdigit():
        found = re.search(r"<Code>(\w+)</Code>", str(error.get("Message", "")))
        return found.group(1) if found else f"HTTP {code}"
    return code


@contextlib.contextmanager
def _aws_variables(environment: Mapping[str, str]) -> Iterator[None]:
    """The command's AWS_* variables in ``os.environ`` while boto3 reads them, the process's own after.

    boto3's credential chain (profiles, web identity, containers, endpoints) reads
    ``os.environ`` in many places; there is no mapping to hand it instead.
    """
    before = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    wanted = {name: value for name, value in environment.items() if name.startswith("AWS_")}
    for name in before.keys() - wanted.keys():
        del os.environ[name]
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name in wanted.keys() - before.keys():
            os.environ.pop(name, None)
        os.environ.update(before)


def _binary(data: bytes, where: str, reference: str) -> str:
    if b"\0" in data:
        raise FetchError(
            f"{where} = {reference}: the secret is binary with a NUL byte, which no environment variable can hold",
            hint="store it as a SecretString (base64, for example)",
        )
    return os.fsdecode(data)  # byte-exact, whatever its encoding


def _field(text: str, field: str, where: str, reference: str) -> str:
    """Field ``field`` of a secret's JSON object: strings as they are, other JSON values as JSON."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise FetchError(f"{where} = {reference}: the secret is not a JSON object, so it has no field {field!r}")
    if field not in document:
        raise FetchError(
            f"{where} = {reference}: the secret has no field {field!r}",
            hint=f"its fields are {', '.join(sorted(document)) or 'none'}",
        )
    value = document[field]
    return value if isinstance(value, str) else json.dumps(value)


def _one_password(reference: str, environment: Mapping[str, str], where: str) -> str:
    """``op read``: 1Password's CLI, signed in as the command would be (OP_SERVICE_ACCOUNT_TOKEN, a session)."""
    import shutil

    program = shutil.which("op", path=environment.get("PATH", os.defpath))
    if program is None:
        raise FetchError(
            f"{where} = {reference}: 1Password's `op` command is not on PATH",
            hint="install 1Password's CLI (developer.1password.com/docs/cli) and sign in, "
            "or set OP_SERVICE_ACCOUNT_TOKEN",
        )
    try:
        done = subprocess.run(  # noqa: S603 (`op read`, an argv without a shell)
            [program, "read", "--no-newline", reference],
            env=dict(environment),
            capture_output=True,
            timeout=BOUND,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FetchError(f"{where} = {reference}: `op read` gave no answer within {BOUND:g} s (timeout)") from None
    if done.returncode != 0:
        said = os.fsdecode(done.stderr).strip().splitlines()
        reason = printable(re.sub(r"^\[ERROR\] (\S+ \S+ )?", "", said[-1])) if said else f"exit {done.returncode}"
        raise FetchError(f"{where} = {reference}: `op read` failed: {reason}", hint="is `op` signed in?")
    return os.fsdecode(done.stdout)
