"""The `experiment` section: an experiment created with its artifact location and tags (issue 14).

MLflow creates a missing ``MLFLOW_EXPERIMENT_NAME`` with the server's default
location, and no variable can say otherwise; so `layered-mlflow experiment` and
``configure()`` create it first, as kedro-mlflow does with
``create_experiment_kwargs``. An experiment's location never changes once it is
created: a different one is reported, not "fixed".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from layered_mlflow.checks import experiments
from layered_mlflow.errors import ConfigError
from layered_mlflow.mlflow_names import variables as mlflow_vars
from layered_mlflow.problems import ERROR, NOTE, Problem
from layered_mlflow.resolution.exports import child_environment, holds_nul
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import Secrets, printable, secrets_of

# MLflow's client retries a refused port for minutes (249 s); `experiment` answers within seconds, as `check --online`.
_BOUNDS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


class Wanted(NamedTuple):
    """The experiment the settings describe."""

    name: str
    artifact_location: str | None = None
    tags: Mapping[str, str] = MappingProxyType({})
    restore_if_deleted: bool = True


def wanted(resolved: Resolved) -> Wanted:
    """The experiment of ``resolved``; an error (exit 2) without an experiment name, or one MLflow cannot use."""
    name = resolved.variables.get("MLFLOW_EXPERIMENT_NAME")
    if not name:
        raise ConfigError(
            "no experiment to set up: mlflow_experiment_name is not set",
            hint="set mlflow_experiment_name in settings/mlflow.yml (or MLFLOW_EXPERIMENT_NAME)",
        )
    refuse_unusable(resolved)
    location = resolved.settings.get("experiment.artifact_location")
    restore = resolved.settings.get("experiment.restore_if_deleted")
    tags = {
        setting.key[2]: str(setting.value)
        for setting in resolved.settings.values()
        if setting.key[:2] == ("experiment", "tags") and len(setting.key) == 3 and isinstance(setting.value, str)
    }
    return Wanted(
        name,
        None if location is None else str(location.value),
        tags,
        restore is None or mlflow_vars.boolean(str(restore.value)) is not False,
    )


def refuse_unusable(resolved: Resolved) -> None:
    """An error (exit 2) for an experiment name MLflow's store cannot look up or refuses to hold, as `check` says."""
    for problem in (experiments.unsearchable(resolved), experiments.unstorable(resolved)):
        if problem is not None:
            raise ConfigError(problem.message, problem.hint)


def refusal(error: Exception, resolved: Resolved, secrets: Secrets) -> str:
    """What MLflow (or a store under it) raised, as one bounded line without a secret: its type and first line.

    A server's words in it may echo the request, Authorization header and all: they are scrubbed as
    `check --online` scrubs a server's.
    """
    from layered_mlflow.checks.online.tracking import echoed

    lines = str(getattr(error, "message", None) or error).strip().splitlines()
    if not lines:
        return type(error).__name__
    known = echoed(resolved.variables.get("MLFLOW_TRACKING_URI", ""), resolved.variables, secrets)
    return f"{type(error).__name__}: {printable(known.scrub(lines[0]))}"


def described(resolved: Resolved) -> bool:
    """Whether the settings say more about the experiment than its name (else MLflow's own creation will do)."""
    return any(name.startswith("experiment.") for name in resolved.settings)


def apply(client: Any, want: Wanted, secrets: Secrets) -> list[Problem]:
    """Create, restore or tag ``want`` through ``client`` (an ``mlflow.MlflowClient``); what happened, as lines.

    The lines show the name and the locations as ``secrets`` masks them (the `secrets` list may name them).
    """
    return list(_apply(client, want, secrets))


def _apply(client: Any, want: Wanted, secrets: Secrets) -> Iterator[Problem]:
    shown = repr(secrets.mask("mlflow_experiment_name", want.name))

    def location(value: str) -> str:
        return secrets.mask("experiment.artifact_location", value)

    found = client.get_experiment_by_name(want.name)
    if found is None:
        number = client.create_experiment(want.name, artifact_location=want.artifact_location, tags=dict(want.tags))
        where = location(client.get_experiment(number).artifact_location)
        yield Problem(NOTE, f"created experiment {shown} (id {number}), artifacts at {where}")
        return
    if found.lifecycle_stage == "deleted":
        if not want.restore_if_deleted:
            yield Problem(
                ERROR,
                f"experiment {shown} (id {found.experiment_id}) is deleted, and restore_if_deleted is false",
                "restore it in the UI, or pick another mlflow_experiment_name",
            )
            return
        client.restore_experiment(found.experiment_id)
        yield Problem(NOTE, f"restored the deleted experiment {shown} (id {found.experiment_id})")
    else:
        yield Problem(NOTE, f"experiment {shown} exists (id {found.experiment_id})")
    for name, value in want.tags.items():
        if found.tags.get(name) != value:
            client.set_experiment_tag(found.experiment_id, name, value)
            yield Problem(NOTE, f"set the experiment's tag {secrets.scrub_values(name)!r}")
    if want.artifact_location is not None and not same_location(found.artifact_location, want.artifact_location):
        yield Problem(
            ERROR,
            f"experiment {shown} keeps its artifacts at {location(found.artifact_location)}, "
            f"not at {location(want.artifact_location)} (experiment.artifact_location); it was left as it is",
            "an experiment's location never changes: pick a new mlflow_experiment_name, or drop the setting",
        )


def same_location(found: str, wanted: str) -> bool:
    """``/p/a``, ``file:///p/a`` and ``file:///p/a/`` are one place."""

    def plain(location: str) -> str:
        return location.removeprefix("file://").rstrip("/")

    return plain(found) == plain(wanted)


def use_environment(resolved: Resolved, environ: Mapping[str, str], bounds: Mapping[str, str] = _BOUNDS) -> None:
    """Make os.environ the command's, with ``bounds`` (MLflow's retries, unless the caller bounds the time
    itself): MLflow's client reads credentials, endpoint and certificates there."""
    import os

    child = child_environment(environ, resolved)
    if any("\0" in value for value in child.values()):  # os.environ would refuse it half-way
        raise holds_nul(child)
    os.environ.clear()
    os.environ.update(child)
    for name, bound in bounds.items():  # the settings' own value, where they give one, wins
        os.environ.setdefault(name, bound)


def command(resolved: Resolved, environ: Mapping[str, str]) -> tuple[list[str], int]:
    """`layered-mlflow experiment`: the lines to print and the exit code (0 done, 1 a problem), as `check`'s."""
    want = wanted(resolved)
    use_environment(resolved, environ)
    import mlflow

    secrets = secrets_of(resolved)
    try:
        problems = apply(mlflow.MlflowClient(resolved.variables["MLFLOW_TRACKING_URI"]), want, secrets)
    except Exception as exc:  # MLflow's, or its store's beneath (a URL's ValueError, a name's UnicodeEncodeError)
        problems = [Problem(ERROR, f"the tracking store refused: {refusal(exc, resolved, secrets)}")]
    return [p.line() for p in problems], 1 if any(p.level == ERROR for p in problems) else 0
