"""Applying the resolved settings to this Python process, for notebooks and code that cannot be wrapped (SPEC §7).

`run` sets the variables before the command starts; a notebook is already
running, so ``configure()`` sets them in ``os.environ`` and tells an already
imported mlflow through its own setters as well.

A second call must answer as a first call in a fresh process would, so each
call remembers what it (and mlflow's setters) changed in ``os.environ`` and the
next call resolves against the environment as it was before: a variable the
user has changed by hand since is the user's again.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence

from layered_mlflow.errors import ConfigError, LayeredMlflowError
from layered_mlflow.integrations import experiment_setup
from layered_mlflow.integrations import shared_run as shared_run_lookup
from layered_mlflow.resolution import exports
from layered_mlflow.resolution.exports import holds_nul
from layered_mlflow.resolution.fetched import fetched
from layered_mlflow.resolution.required import refuse_missing
from layered_mlflow.resolution.resolve import Resolved, resolve
from layered_mlflow.secrets.masking import printable, secrets_of

# Each variable an earlier call changed: (its value before the first change, the value left); None: unset.
_changed: dict[str, tuple[str | None, str | None]] = {}
_experiment_id: str | None = None  # the experiment the last call made active, if any
_registry_set = False  # whether the last call set a registry URI


def configure(
    env: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, str] | Sequence[str] | None = None,
    *,
    shared_run: str | None = None,
    parent_run: str | None = None,
) -> Resolved:
    """Resolve as ``resolve()`` does, then apply the result to this process; return it.

    Exports the variables `run` would set into ``os.environ`` (removing the
    inherited empty ``MLFLOW_*`` ones), then calls ``mlflow.set_tracking_uri``,
    ``mlflow.set_registry_uri`` (when one is set) and ``mlflow.set_experiment``
    (when an experiment name is set). The tags reach every run started
    afterwards through ``MLFLOW_RUN_CONTEXT``. Like `run`, it refuses when a
    `required` key has no value, and fetches secret references. Calling it again (another
    environment, other overrides) gives what a first call would.

    ``shared_run=KEY`` sets ``MLFLOW_RUN_ID`` to the run tagged with KEY, found or created;
    ``parent_run=KEY`` nests every run started afterwards under it instead (`run --shared-run`, SPEC §14).
    """
    return apply(env, project_dir, overrides, shared_run=shared_run, parent_run=parent_run)


def apply(
    env: str | None,
    project_dir: str | os.PathLike[str] | None,
    overrides: Mapping[str, str] | Sequence[str] | None,
    env_given_as: str = "the env argument",
    *,
    shared_run: str | None = None,
    parent_run: str | None = None,
) -> Resolved:
    """``configure()``, with messages naming ``env`` as ``env_given_as`` (the notebook magic's ``--env``)."""
    inherited = _inherited()
    resolved = resolve(env, project_dir, overrides, environ=inherited, env_given_as=env_given_as)
    resolved = refuse_missing(resolved, inherited)
    resolved = fetched(resolved, inherited)
    run = shared_run_lookup.assignment(resolved, inherited, shared_run, parent_run)
    if run is not None:
        overrides = _joined(overrides, run)
        resolved = fetched(
            refuse_missing(
                resolve(env, project_dir, overrides, environ=inherited, env_given_as=env_given_as), inherited
            ),
            inherited,
        )
    if "MLFLOW_EXPERIMENT_NAME" in resolved.variables:
        experiment_setup.refuse_unusable(resolved)
    environment = exports.child_environment(inherited, resolved)
    if any("\0" in value for value in environment.values()):  # os.environ would refuse it half-way
        raise holds_nul(environment)
    _set_environment(environment)
    before = dict(os.environ)
    try:
        _tell_mlflow(resolved)
    except LayeredMlflowError:
        raise
    except Exception as exc:
        # MLflow's, or what its stores raise (ValueError, UnicodeEncodeError …): one line, no secret;
        # the original stays reachable as the error's __context__, out of a notebook's traceback.
        raise _refused(exc, resolved) from None
    finally:
        _remember(before)  # mlflow's setters export variables too (MLFLOW_EXPERIMENT_ID)
    return resolved


def _joined(overrides: Mapping[str, str] | Sequence[str] | None, run: str) -> Mapping[str, str] | Sequence[str]:
    """``overrides`` and ``run``, an assignment ``NAME=VALUE``, in the form ``overrides`` has."""
    if isinstance(overrides, Mapping):
        name, _, value = run.partition("=")
        return {**overrides, name: value}
    return [*(overrides or ()), run]


def _refused(error: Exception, resolved: Resolved) -> ConfigError:
    secrets = secrets_of(resolved)
    uri = secrets.mask("MLFLOW_TRACKING_URI", resolved.variables["MLFLOW_TRACKING_URI"])
    name = resolved.variables.get("MLFLOW_EXPERIMENT_NAME")
    what = f"experiment {printable(secrets.mask('MLFLOW_EXPERIMENT_NAME', name), 100)!r} in " if name else ""
    refused = experiment_setup.refusal(error, resolved, secrets)
    return ConfigError(
        f"configure(): MLflow refused the settings ({what}tracking store {uri}): {refused}",
        hint="`layered-mlflow check` validates them, and `layered-mlflow explain KEY` shows where a key is set",
    )


def _tell_mlflow(resolved: Resolved) -> None:
    """Set mlflow's own state as a first call would leave it, undoing what only an earlier call set."""
    global _experiment_id, _registry_set
    variables = resolved.variables
    # Imported only now: importing layered_mlflow or resolving must stay cheap (SPEC §1),
    # and mlflow reads some variables (MLFLOW_CONFIGURE_LOGGING) as it is imported.
    import mlflow
    from mlflow.tracking import fluent

    mlflow.set_tracking_uri(variables["MLFLOW_TRACKING_URI"])
    if "MLFLOW_REGISTRY_URI" in variables:
        mlflow.set_registry_uri(variables["MLFLOW_REGISTRY_URI"])
    elif _registry_set:
        # Typed `str`, but None is what a fresh process has: MLflow then derives it from the tracking URI.
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]
    _registry_set = "MLFLOW_REGISTRY_URI" in variables
    if "MLFLOW_EXPERIMENT_NAME" in variables and experiment_setup.described(resolved):
        # Created with its location and tags before set_experiment would create it without them.
        want, secrets = experiment_setup.wanted(resolved), secrets_of(resolved)
        for problem in experiment_setup.apply(mlflow.MlflowClient(), want, secrets):
            if problem.level == "error":
                warnings.warn(problem.message, stacklevel=4)
    if "MLFLOW_EXPERIMENT_NAME" in variables:
        _experiment_id = mlflow.set_experiment(variables["MLFLOW_EXPERIMENT_NAME"]).experiment_id
    elif _experiment_id is not None:
        if fluent._active_experiment_id == _experiment_id:  # unless the user has chosen another since
            fluent._active_experiment_id = None  # an earlier call's, perhaps in another store
        _experiment_id = None


def _inherited() -> dict[str, str]:
    """``os.environ`` with earlier calls' changes undone, except where the user changed a variable since."""
    environ = dict(os.environ)
    for name, (before, left) in list(_changed.items()):
        if environ.get(name) != left:
            del _changed[name]  # set or removed by hand since: the user's now
        elif before is None:
            environ.pop(name, None)
        else:
            environ[name] = before
    return environ


def _set_environment(wanted: Mapping[str, str]) -> None:
    """Make ``os.environ`` ``wanted``, remembering each change."""
    before = dict(os.environ)
    for name in set(before) - set(wanted):
        del os.environ[name]
    os.environ.update(wanted)
    _remember(before)


def _remember(before: Mapping[str, str]) -> None:
    for name in set(before) | set(os.environ):
        old, new = before.get(name), os.environ.get(name)
        if old == new:
            continue
        first = _changed[name][0] if name in _changed else old
        if first == new:
            _changed.pop(name, None)  # back as it was: nothing to undo
        else:
            _changed[name] = (first, new)
