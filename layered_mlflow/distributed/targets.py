"""`env --format ray|k8s|ecs|spark`: the variables `run` sets, in each engine's own channel (SPEC §13).

Every rendering keeps the one rule (worker.py): secret references travel unresolved,
and a literal secret is refused unless --show-secrets says to inline it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from layered_mlflow.distributed.worker import literal_secrets, needs_setup, refuse_literal_secrets
from layered_mlflow.errors import ConfigError, UsageError, shown
from layered_mlflow.secrets.references import is_reference

if TYPE_CHECKING:
    from layered_mlflow.resolution.resolve import Resolved

TARGETS = ("ray", "k8s", "ecs", "spark")
SETUP_HOOK = "layered_mlflow.worker_setup"
# Spark's own default (4.x: `spark.redaction.regex` in org.apache.spark.internal.config), which 3.x's
# `(?i)secret|password|token` is part of: hiding more on an older Spark is safe.
SPARK_REDACTION = "(?i)secret|password|token|access[.]?key|credential"
SPARK_PREFIXES = ("spark.executorEnv.", "spark.yarn.appMasterEnv.", "spark.kubernetes.driverEnv.")
_EXPANDED = re.compile(r"\$(\w|\{)")  # what Ray's os.path.expandvars would replace in an env_vars value
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")  # a ConfigMap's and a Secret's keys (Kubernetes' validation)
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")  # RFC 1123 subdomain


def render(
    fmt: str, resolved: Resolved, show_secrets: bool, environ: Mapping[str, str], name: str | None = None
) -> str:
    """What `env --format FMT` prints for an engine; ``name`` names the Kubernetes objects."""
    if name is not None and fmt != "k8s":
        raise UsageError(f"--name names the Kubernetes objects, and goes with --format k8s, not --format {fmt}")
    variables = dict(resolved.variables)
    for variable, value in variables.items():
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):  # a byte that was not UTF-8 (os.fsdecode)
            raise ConfigError(
                f"{shown(variable)} holds bytes that are not UTF-8, which --format {fmt} cannot carry",
                hint="write the value in UTF-8, or as a secret reference fetched on the worker",
            )
    if not show_secrets:
        refuse_literal_secrets(resolved, fmt)
    if fmt == "k8s":
        return kubernetes(variables, literal_secrets(resolved), name or default_name(resolved.environment))
    if fmt == "ecs":
        from layered_mlflow.resolution.exports import child_environment

        return ecs(variables, child_environment(environ, resolved))
    if fmt == "spark":
        from layered_mlflow.secrets.masking import secrets_of

        secrets = secrets_of(resolved)
        hidden = set(literal_secrets(resolved))
        return spark(variables, [v for v in variables if v in hidden or secrets.is_secret(v)])
    return ray(variables)


def _json(document: object) -> str:
    """JSON in ASCII: every control character and every character beyond ASCII escaped, so that it is also
    YAML's double-quoted scalar (YAML allows no raw C1 control character), and safe to print on a terminal."""
    return json.dumps(document, indent=None if isinstance(document, str) else 2)


def ray(variables: Mapping[str, str]) -> str:
    """A `runtime_env` for `ray.init(runtime_env=…)` or `ray job submit --runtime-env-json`.

    Its `worker_process_setup_hook` fetches the references in each worker; Ray runs it for a
    job-level runtime_env, not for a task's own (tests/test_engines.py shows both).
    """
    for name, value in variables.items():
        if _EXPANDED.search(value):
            raise ConfigError(
                f"{shown(name)} holds `$` before a name, which Ray replaces in env_vars (os.path.expandvars), "
                "so the workers would get another value",
                hint="write it without `$NAME` or `${`, or as a secret reference, fetched on the worker as it is",
            )
    document: dict[str, object] = {"env_vars": dict(variables)}
    if needs_setup(variables):
        document["worker_process_setup_hook"] = SETUP_HOOK
    return _json(document) + "\n"


def default_name(environment: str) -> str:
    """``layered-mlflow-<env>``, made a Kubernetes object name (lower case, `-` for what it cannot hold)."""
    suffix = re.sub(r"[^a-z0-9]+", "-", environment.lower()).strip("-")
    return f"layered-mlflow-{suffix}"[:253].rstrip("-") if suffix else "layered-mlflow"


def kubernetes(variables: Mapping[str, str], secret_names: list[str], name: str) -> str:
    """A YAML stream: a ConfigMap of the non-secret variables and references, a Secret of the literal secrets.

    Every string is YAML's double-quoted scalar (JSON's escapes): a multi-line value is one line, read back
    exactly, and a key such as `on` or `null` stays a string.
    """
    if len(name) > 253 or not _DNS_NAME.fullmatch(name):
        raise UsageError(
            f"--name {name!r} is not a Kubernetes object name",
            hint="lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
        )
    for variable in variables:
        if not _CONFIG_KEY.fullmatch(variable):
            raise ConfigError(
                f"{shown(variable)} is not a key a ConfigMap or a Secret can hold (letters, digits, '-', '_', '.')",
                hint="rename it, or set it in the Job's own env list",
            )
    plain = {key: value for key, value in variables.items() if key not in secret_names}
    hidden = {key: value for key, value in variables.items() if key in secret_names}
    sources = [("configMapRef", "ConfigMap", "data", plain), ("secretRef", "Secret", "stringData", hidden)]
    kept = [source for source in sources if source[3] or source[1] == "ConfigMap"]
    lines = ["# In the Job's container:", "#   envFrom:"]
    for reference, _, _, _ in kept:
        lines += [f"#     - {reference}:", f"#         name: {_json(name)}"]
    for _, kind, field, data in kept:
        lines += ["---", "apiVersion: v1", f"kind: {kind}", "metadata:", f"  name: {_json(name)}"]
        lines += ["type: Opaque"] if kind == "Secret" else []
        lines += [f"{field}:" + ("" if data else " {}")]
        lines += [f"  {_json(key)}: {_json(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def ecs(variables: Mapping[str, str], environment: Mapping[str, str]) -> str:
    """A container definition's `environment` and `secrets` (AWS Batch, ECS): the platform injects the secrets.

    An ``aws-sm:`` reference becomes its secret's ARN (one DescribeSecret, no value fetched), with
    ``#FIELD`` as ECS's JSON-key suffix; an ``aws-ssm:`` one passes its parameter's name or ARN.
    """
    from layered_mlflow.secrets.fetching import secret_arns
    from layered_mlflow.secrets.references import BOUND

    # One DescribeSecret a secret, however many variables name it (with a field or not); the first names it.
    where: dict[str, str] = {}
    for name, value in variables.items():
        if _is_sm(value):
            where.setdefault(value.partition("#")[0], f"{name} (--format ecs)")
    arns = secret_arns(where, environment, BOUND)
    plain: list[dict[str, str]] = []
    injected: list[dict[str, str]] = []
    for name, value in variables.items():
        if _is_sm(value):
            secret, _, field = value.partition("#")
            injected.append({"name": name, "valueFrom": f"{arns[secret]}:{field}::" if field else arns[secret]})
        elif is_reference(value) and value.startswith("aws-ssm:"):
            injected.append({"name": name, "valueFrom": value.removeprefix("aws-ssm:")})
        else:
            plain.append({"name": name, "value": value})
    return _json({"environment": plain, "secrets": injected}) + "\n"


def _is_sm(value: str) -> bool:
    return is_reference(value) and value.startswith("aws-sm:")


def spark(variables: Mapping[str, str], secret_names: list[str]) -> str:
    """A properties file for `spark-submit --properties-file`: each variable for the executors, YARN's
    application master and the Kubernetes driver, and `spark.redaction.regex` extended with the secret names."""
    for name, value in variables.items():
        if value != _spark_trimmed(value):
            raise ConfigError(
                f"{shown(name)} begins or ends with a space or a control character, which Spark trims "
                "from a properties file's values",
                hint="write it without, or as a secret reference, fetched on the worker as it is",
            )
    lines = [
        f"{_property(prefix + name)}={_property(value, key=False)}"
        for name, value in variables.items()
        for prefix in SPARK_PREFIXES
    ]
    names = "".join(f"|{re.escape(name)}" for name in secret_names)
    lines.append(f"spark.redaction.regex={_property(SPARK_REDACTION + names, key=False)}")
    return "\n".join(lines) + "\n"


def _spark_trimmed(value: str) -> str:
    """``value`` as Spark reads it from a properties file: trimmed of what is <= ' ', but CR and LF."""
    trimmed = re.sub(r"^[\x00-\x09\x0b\x0c\x0e-\x20]+", "", value)
    return re.sub(r"[\x00-\x09\x0b\x0c\x0e-\x20]+$", "", trimmed)


_PROPERTY_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}


def _property(text: str, key: bool = True) -> str:
    """``text`` as java.util.Properties reads it back exactly: escapes, and \\uXXXX beyond printable ASCII.

    A key escapes what would end it; a value's leading spaces need no escape, as Spark trims them anyway.
    """
    pieces = []
    for char in text:
        if char in _PROPERTY_ESCAPES:
            pieces.append(_PROPERTY_ESCAPES[char])
        elif key and char in "=:#! ":
            pieces.append("\\" + char)
        elif " " <= char <= "~":
            pieces.append(char)
        else:
            units = char.encode("utf-16-be")
            pieces += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
    return "".join(pieces)
