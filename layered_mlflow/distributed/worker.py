"""What a worker of a distributed job calls first, and what a launcher hands every worker (SPEC §13).

The one rule: a secret value never travels through an engine's channel. Non-secrets
travel as they are, secrets as their references (SPEC §11), which ``worker_setup``
fetches in the worker; a literal secret is refused, naming each variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from layered_mlflow.errors import ConfigError, shown
from layered_mlflow.secrets import references, tokens

if TYPE_CHECKING:
    from layered_mlflow.resolution.resolve import Resolved

# For each channel: who would see a literal secret there, and the channel's own way to carry one.
_CHANNELS = {
    "ray": (
        "Ray records its runtime_env in its dashboard and logs",
        "or give it to the cluster's nodes yourself, or pass --show-secrets to inline it",
    ),
    "k8s": (
        "anyone who may read the namespace may read its ConfigMaps",
        "or pass --show-secrets to put it in the Secret beside the ConfigMap",
    ),
    "ecs": (
        "the console shows a container definition's environment",
        "or pass --show-secrets to inline it",
    ),
    "spark": (
        "Spark's UI and event logs show its conf",
        "or pass --show-secrets to inline it (its name joins spark.redaction.regex)",
    ),
    "workers": (
        "a launcher hands it to the workers in the clear (Ray's env_vars, Dask's Environ plugin)",
        "or hand it to the workers through the cluster's own secret store",
    ),
}
_REFERENCE_HINT = "write a secret reference in its place (aws-sm:NAME, aws-ssm:NAME, op://VAULT/ITEM/FIELD)"


def worker_setup() -> None:
    """Resolve the secret references among this process's environment variables, in place (SPEC §13).

    What a worker process calls first (Ray calls it as the `worker_process_setup_hook`;
    Spark and Dask code call it themselves). Fetching is bounded as for `run`; a failure
    raises ``LayeredMlflowError`` with the one-line message `run` would print. With a
    `token` section's variables, MLflow's request-auth is pointed at layered-mlflow's
    provider. Needs no project files; with nothing to do, it does nothing.
    """
    if any(map(references.is_reference, os.environ.values())):
        from layered_mlflow.secrets.fetching import fetch_variables  # its fetchers only for a reference

        # A `sops:` file's relative path starts from the worker's folder: it has no project root.
        os.environ.update(fetch_variables(dict(os.environ), references.BOUND, Path.cwd()))
    if (tokens.FILE in os.environ or tokens.COMMAND in os.environ) and not os.environ.get(tokens.AUTH):
        os.environ[tokens.AUTH] = tokens.PROVIDER


def worker_variables(
    env: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, str] | Sequence[str] | None = None,
) -> dict[str, str]:
    """The variables a launcher hands every worker: ``env --format ray``'s ``env_vars`` (SPEC §13).

    Resolved as ``resolve()`` resolves (same arguments), once each `required` key has a
    value; secret references stay references, for ``worker_setup()`` to fetch on the worker.
    A literal secret raises ``LayeredMlflowError`` naming each variable that holds one.
    """
    from layered_mlflow.resolution.required import refuse_missing
    from layered_mlflow.resolution.resolve import resolve

    resolved = refuse_missing(resolve(env, project_dir, overrides), os.environ)
    refuse_literal_secrets(resolved, "workers")
    return dict(resolved.variables)


def needs_setup(variables: Mapping[str, str]) -> bool:
    """Whether a worker must call ``worker_setup()``: a value is a reference, or a `token` section is set."""
    return variables.get(tokens.AUTH) == tokens.PROVIDER or any(map(references.is_reference, variables.values()))


def literal_secrets(resolved: Resolved) -> list[str]:
    """The variables that hold a secret itself, not a reference to it: what masking would change."""
    from layered_mlflow.secrets.masking import secrets_of

    secrets = secrets_of(resolved)
    return [
        name
        for name, value in resolved.variables.items()
        if not references.is_reference(value) and secrets.mask(name, value) != value
    ]


def refuse_literal_secrets(resolved: Resolved, channel: str) -> None:
    """Exit 2 naming every variable that holds a literal secret, which ``channel`` would carry in the clear."""
    found = literal_secrets(resolved)
    if found:
        where, own = _CHANNELS[channel]
        held = "holds a literal secret" if len(found) == 1 else "hold literal secrets"
        raise ConfigError(
            f"{', '.join(map(shown, found))} {held}, and {where}",
            hint=f"{_REFERENCE_HINT}, fetched on the worker by layered_mlflow.worker_setup(); {own}",
        )
