"""`check --online`: reaching the artifact store the runs will log to, before `log_model` finds it broken.

Where artifacts go is the experiment's location, which only the tracking server
knows: ``mlflow-artifacts:`` (the server proxies them) is reached through the
server's artifact API; ``s3://`` is the bucket itself, with the credentials and
endpoint the command gets. Without a tracking server, the `server` section's
S3 stores are reached the same way (the machine that runs it); behind one,
they are the server's business, checked through its artifact API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit

from layered_mlflow.checks.online.refused import Refused
from layered_mlflow.checks.online.tracking import get, within
from layered_mlflow.problems import ERROR, NOTE, Problem
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import Secrets, printable

_S3_KEYS = ("server.artifacts_destination", "server.default_artifact_root", "experiment.artifact_location")
_CLIENT_KEYS = ("experiment.artifact_location",)  # where the job's own experiment is created, when it is


def reach(resolved: Resolved, environment: Mapping[str, str], timeout: float, secrets: Secrets) -> list[Problem]:
    """A line for each artifact store the settings lead to, each bounded by ``timeout``."""
    tracking = environment.get("MLFLOW_TRACKING_URI", "")
    locations: list[str] = []
    served = tracking.split(":", 1)[0] in ("http", "https")
    if served:
        found = _bounded(lambda: _experiment_location(tracking, environment, timeout), timeout)
        if isinstance(found, Problem):
            return [found]
        locations.append(found)
    # Behind a server, the job writes where the server says (through it, when it proxies, which proves the
    # server reaches its own destination): the `server` section's stores are the server's, with its own keys.
    for name in _CLIENT_KEYS if served else _S3_KEYS:
        setting = resolved.settings.get(name)
        if setting is not None and str(setting.value).startswith("s3://") and setting.value not in locations:
            locations.append(str(setting.value))
    return [_reach_one(location, tracking, environment, timeout, secrets) for location in locations]


def _reach_one(
    location: str, tracking: str, environment: Mapping[str, str], timeout: float, secrets: Secrets
) -> Problem:
    shown = secrets.scrub(location)
    if location.startswith("mlflow-artifacts:"):
        probe: Callable[[], str] = lambda: _proxied(location, tracking, environment, timeout)  # noqa: E731
    elif location.startswith("s3://"):
        probe = lambda: _bucket(location, environment, timeout)  # noqa: E731
    else:
        return Problem(NOTE, f"artifacts at {shown}: not checked online")
    outcome = _bounded(probe, timeout)
    if isinstance(outcome, Problem):
        return Problem(outcome.level, f"artifacts at {shown}: {outcome.message}", outcome.hint)
    return Problem(NOTE, f"artifacts at {shown}: {outcome}")


def _bounded(probe: Callable[[], str], timeout: float) -> str | Problem:
    answer = within(probe, timeout)
    if answer is None:
        return Problem(ERROR, f"no answer within {timeout:g} s", "is the store up, and its endpoint right?")
    if isinstance(answer, Refused):
        return Problem(ERROR, str(answer), answer.hint)
    if isinstance(answer, Exception):
        return Problem(ERROR, f"the check failed ({type(answer).__name__})")
    return answer


def _experiment_location(tracking: str, environment: Mapping[str, str], timeout: float) -> str:
    """The experiment's location; for one not created yet, the Default's shows where the server puts them."""
    name = environment.get("MLFLOW_EXPERIMENT_NAME")
    for path in ([f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={quote(name)}"] if name else []) + [
        f"/api/2.0/mlflow/experiments/get?experiment_id={quote(environment.get('MLFLOW_EXPERIMENT_ID') or '0')}"
    ]:
        response, body = get(tracking, path, environment, timeout)
        if response.status == 200:
            try:
                return str(json.loads(body)["experiment"]["artifact_location"])
            except (ValueError, KeyError, TypeError):
                break  # not MLflow's answer: said below
    raise Refused(f"the tracking server did not say where artifacts go (HTTP {response.status})")


def _proxied(location: str, tracking: str, environment: Mapping[str, str], timeout: float) -> str:
    """List the experiment's folder through the server: it reaches its own destination with its own keys."""
    path = urlsplit(location).path.lstrip("/")
    response, body = get(tracking, f"/api/2.0/mlflow-artifacts/artifacts?path={quote(path)}", environment, timeout)
    if response.status == 200:
        return "the server's artifact API answered (it proxies them)"
    try:
        said = str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        said = ""
    detail = printable(said.splitlines()[0][:200]) if said else f"HTTP {response.status}"
    hint = "the server's own artifacts_destination, credentials and MLFLOW_S3_ENDPOINT_URL"
    raise Refused(f"the server cannot reach its artifact store ({detail})", f"check {hint}")


def _bucket(location: str, environment: Mapping[str, str], timeout: float) -> str:
    """List one key of the bucket, with the keys and endpoint the command gets."""
    try:
        import boto3
        import botocore.config
        import botocore.exceptions as errors
    except ImportError:
        raise Refused("boto3 is not installed", "pip install 'layered-mlflow[aws]'") from None
    parts = urlsplit(location)
    endpoint = environment.get("MLFLOW_S3_ENDPOINT_URL") or None
    pair = [name for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if environment.get(name)]
    if len(pair) == 1:  # boto3 would sign with half a key, or fail with a TypeError
        raise Refused(
            f"half an AWS key pair: {pair[0]} is set, its other half has no value",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both (in .env), or neither",
        )
    session = boto3.session.Session(
        aws_access_key_id=environment.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=environment.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=environment.get("AWS_SESSION_TOKEN"),
        region_name=environment.get("AWS_DEFAULT_REGION") or environment.get("AWS_REGION") or "us-east-1",
        profile_name=environment.get("AWS_PROFILE") or None,
    )
    config = botocore.config.Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
    try:
        client = session.client("s3", endpoint_url=endpoint, config=config)
    except ValueError:  # its text quotes the endpoint, which may hold a password
        raise Refused("MLFLOW_S3_ENDPOINT_URL is not a URL boto3 accepts", "write it as http://host:port") from None
    try:
        client.list_objects_v2(Bucket=parts.netloc, Prefix=parts.path.lstrip("/"), MaxKeys=1)
    except errors.NoCredentialsError:
        raise Refused("no AWS credentials", "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in .env)") from None

    except errors.ClientError as exc:
        raise _refusal(str(exc.response.get("Error", {}).get("Code", "")), parts.netloc) from None
    except (errors.EndpointConnectionError, errors.ConnectTimeoutError) as exc:
        raise _unreachable(endpoint, type(exc).__name__) from None
    return "the bucket answered with these credentials" + (f" at {endpoint}" if endpoint else "")


def _refusal(code: str, bucket: str) -> Refused:
    known = {
        "NoSuchBucket": (f"the bucket {bucket!r} does not exist", "create it, or correct the artifact location"),
        "InvalidAccessKeyId": ("the store does not know AWS_ACCESS_KEY_ID", "check the access key"),
        "SignatureDoesNotMatch": ("AWS_SECRET_ACCESS_KEY is wrong for that access key", "check the secret key"),
        "AccessDenied": ("these credentials may not list the bucket", "check the key's permissions"),
    }
    message, hint = known.get(code, (f"the store refused ({code or 'no reason given'})", None))
    return Refused(message, hint)


def _unreachable(endpoint: str | None, kind: str) -> Refused:
    if endpoint is None:
        return Refused(
            f"AWS S3 does not answer ({kind}), and MLFLOW_S3_ENDPOINT_URL is not set for the command",
            "if the server uses an S3-compatible endpoint (MinIO, moto), set the same MLFLOW_S3_ENDPOINT_URL here",
        )
    return Refused(f"the endpoint {endpoint} does not answer ({kind})", "is MLFLOW_S3_ENDPOINT_URL right?")
