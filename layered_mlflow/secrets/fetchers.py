"""Fetching one secret reference: AWS Secrets Manager and Parameter Store with boto3, 1Password with `op read`;
the other stores' references are handed to their module of ``stores/``.

Imported only when a reference is present: boto3 costs `run` about 150 ms.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from layered_mlflow.secrets import subprocesses
from layered_mlflow.secrets.masking import Secrets, environment_secrets, printable, scrubbed
from layered_mlflow.secrets.references import BOUND, OP_WAITS, FetchError
from layered_mlflow.secrets.stores import common
from layered_mlflow.sources.reading import MIB, VALUE_LIMIT

_KILLED_WITHIN = 0.5  # seconds the command's wait leaves for killing `op` and its children
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


def fetch(reference: str, environment: Mapping[str, str], where: str, deadline: float, root: Path) -> str:
    """The value ``reference`` names, byte-exact; ``environment`` is the command's; ``where`` names the key.

    ``deadline`` (monotonic) is when the command stops waiting: `op` and `sops` are killed before it, with their
    children. ``root`` is the project's (a `sops:` file's path is anchored to it).
    """
    if not reference.startswith(("aws-", "op://")):
        return _store(reference, environment, where, deadline, root)
    if reference.startswith("op://"):
        return _one_password(reference, environment, where, deadline - time.monotonic() - _KILLED_WITHIN)
    service, _, name = reference.partition(":")
    if service == "aws-ssm":
        answer = _aws("ssm", environment, where, reference, lambda c: c.get_parameter(Name=name, WithDecryption=True))
        value = answer.get("Parameter", {}).get("Value")
        if not isinstance(value, str):
            raise _no_value(where, reference, "ssm")
        return value
    secret, _, field = name.partition("#")
    answer = _aws("secretsmanager", environment, where, reference, lambda c: c.get_secret_value(SecretId=secret))
    if isinstance(answer.get("SecretString"), str):
        text = answer["SecretString"]
    elif isinstance(answer.get("SecretBinary"), bytes):
        text = common.decoded(answer["SecretBinary"], where, reference)
    else:
        raise _no_value(where, reference, "secretsmanager")
    return _field(text, field, where, reference) if field else text


def _store(reference: str, environment: Mapping[str, str], where: str, deadline: float, root: Path) -> str:
    """A reference to one of the stores of ``stores/``, each module imported only for a reference of its kind."""
    if reference.startswith("vault:"):
        from layered_mlflow.secrets.stores import vault

        return vault.fetch(reference, environment, where, deadline, root)
    if reference.startswith("gcp-sm:"):
        from layered_mlflow.secrets.stores import gcp

        return gcp.fetch(reference, environment, where, deadline)
    if reference.startswith("azure-kv:"):
        from layered_mlflow.secrets.stores import azure_kv

        return azure_kv.fetch(reference, environment, where, deadline)
    from layered_mlflow.secrets.stores import sops

    return sops.fetch(reference, environment, where, deadline - _KILLED_WITHIN, root)


def secret_arn(reference: str, environment: Mapping[str, str], where: str, deadline: float) -> str:
    """The ARN of an ``aws-sm:`` reference's secret, from one DescribeSecret: no value is fetched (SPEC §13).

    One attempt, bounded by the client's own timeouts; ``deadline`` is the caller's, which stops waiting.
    """
    secret = reference.partition(":")[2].partition("#")[0]
    answer = _aws("secretsmanager", environment, where, reference, lambda c: c.describe_secret(SecretId=secret))
    arn = answer.get("ARN")
    if not isinstance(arn, str):
        raise FetchError(f"{where} = {reference}: the endpoint answered without the secret's ARN (not AWS's API?)")
    return arn


def _no_value(where: str, reference: str, service: str) -> FetchError:
    """An answer of 200 without the value: not AWS's API (an empty reply, a proxy's page)."""
    return FetchError(
        f"{where} = {reference}: the endpoint answered without the secret's value (not AWS's API?)",
        hint=f"check {' or '.join(_endpoint_variables(service))}: it must name the service's endpoint",
    )


def _endpoint_variables(service: str) -> tuple[str, str]:
    """The variables boto3 takes the service's endpoint from, the service's own first."""
    return f"AWS_ENDPOINT_URL_{_SERVICE_IDS[service]}", "AWS_ENDPOINT_URL"


_SERVICE_IDS = {"ssm": "SSM", "secretsmanager": "SECRETS_MANAGER"}  # botocore's names of their endpoint variables


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
    # One attempt, bounded: the whole fetch must end within BOUND seconds (the command stops waiting then).
    config = Config(connect_timeout=BOUND, read_timeout=BOUND, retries={"total_max_attempts": 1})
    try:
        with common.variables(environment, ("AWS_",)):
            client = _client(boto3, service, config, environment, where, reference)
            answer: dict[str, Any] = call(client)
    except ClientError as exc:
        code = _error_code(exc.response.get("Error", {}))
        # An endpoint (a proxy) may echo the request in its code: the Authorization header, the key id in it.
        shown = printable(Secrets(values=scrubbed(environment_secrets(environment))).scrub(code))
        raise FetchError(f"{where} = {reference}: AWS answered {shown}", hint=_AWS_HINTS.get(code)) from None
    except BotoCoreError as exc:
        code = "timeout" if "Timeout" in type(exc).__name__ else type(exc).__name__
        raise FetchError(f"{where} = {reference}: cannot reach AWS ({code})", hint=_hint(exc, code)) from None
    return answer


def _client(boto3: Any, service: str, config: Any, environment: Mapping[str, str], where: str, reference: str) -> Any:
    """boto3's client; an endpoint that is no URL is named (boto3's ValueError quotes it: it may hold a password)."""
    try:
        return boto3.session.Session().client(service, config=config)
    except ValueError:
        named = [name for name in _endpoint_variables(service) if environment.get(name)]
        said = named[0] if named else "the AWS endpoint (of the profile's config file)"
        raise FetchError(
            f"{where} = {reference}: {said} is not a URL boto3 accepts",
            hint="write it as http(s)://host[:port], as https://ssm.eu-west-1.amazonaws.com",
        ) from None


def _hint(exc: Exception, code: str) -> str | None:
    """What to do about a BotoCoreError; a partial pair of keys says which half is missing."""
    if code == "PartialCredentialsError":
        missing = str(getattr(exc, "kwargs", {}).get("cred_var", "one of them")).upper()
        return (
            f"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together, and {missing} has no value: "
            "set both, or neither to use AWS_PROFILE or the machine's role"
        )
    return _AWS_HINTS.get(code)


def _error_code(error: Mapping[str, Any]) -> str:
    """AWS's error code; a bare HTTP status (an XML error to a JSON API, as some endpoints send) is looked into."""
    code = str(error.get("Code", "an error"))
    if code.isdigit():
        found = re.search(r"<Code>(\w+)</Code>", str(error.get("Message", "")))
        return found.group(1) if found else f"HTTP {code}"
    return code


def _field(text: str, field: str, where: str, reference: str) -> str:
    """Field ``field`` of a secret's JSON object: strings as they are, other JSON values as JSON."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
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


def _one_password(reference: str, environment: Mapping[str, str], where: str, timeout: float) -> str:
    """``op read``: 1Password's CLI, signed in as the command would be (OP_SERVICE_ACCOUNT_TOKEN, a session)."""
    import shutil

    program = shutil.which("op", path=environment.get("PATH", os.defpath))
    if program is None:
        raise FetchError(
            f"{where} = {reference}: 1Password's `op` command is not on PATH",
            hint="install 1Password's CLI (developer.1password.com/docs/cli) and sign in, "
            "or set OP_SERVICE_ACCOUNT_TOKEN",
        )
    try:  # its own process group, killed whole: a hung `op` leaves nothing behind
        done = subprocesses.run(
            [program, "read", "--no-newline", reference], max(timeout, 0.1), VALUE_LIMIT, environment
        )
    except subprocesses.TimedOut:
        raise FetchError(f"{where} = {reference}: `op read` gave no answer in time (timeout)", hint=OP_WAITS) from None
    except OSError as exc:
        raise FetchError(f"{where} = {reference}: `op` cannot be run ({exc.strerror})") from None
    if done.returncode != 0:
        said = os.fsdecode(done.stderr).strip().splitlines()
        reason = printable(re.sub(r"^\[ERROR\] (\S+ \S+ )?", "", said[-1])) if said else f"exit {done.returncode}"
        raise FetchError(f"{where} = {reference}: `op read` failed: {reason}", hint="is `op` signed in?")
    if len(done.stdout) > VALUE_LIMIT:
        raise FetchError(f"{where} = {reference}: the value is larger than {VALUE_LIMIT // MIB} MiB, the most read")
    return os.fsdecode(done.stdout)
