"""Applying the resolved settings to this Python process, for notebooks and code that cannot be wrapped (SPEC §7).

`run` sets the variables before the command starts; a notebook is already
running, so ``configure()`` sets them in ``os.environ`` and tells an already
imported mlflow through its own setters as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from layered_mlflow.resolve import Resolved, resolve


def configure(
    env: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, str] | Sequence[str] | None = None,
) -> Resolved:
    """Resolve as ``resolve()`` does, then apply the result to this process; return it.

    Exports the variables `run` would set into ``os.environ`` (removing the
    inherited empty ``MLFLOW_*`` ones), then calls ``mlflow.set_tracking_uri``,
    ``mlflow.set_registry_uri`` (when one is set) and ``mlflow.set_experiment``
    (when an experiment name is set). The tags reach every run started
    afterwards through ``MLFLOW_RUN_CONTEXT``.
    """
    resolved = resolve(env, project_dir, overrides)
    _export(resolved)
    # Imported only now: importing layered_mlflow or resolving must stay cheap (SPEC §1),
    # and mlflow reads some variables (MLFLOW_CONFIGURE_LOGGING) as it is imported.
    import mlflow

    variables = resolved.variables
    mlflow.set_tracking_uri(variables["MLFLOW_TRACKING_URI"])
    if "MLFLOW_REGISTRY_URI" in variables:
        mlflow.set_registry_uri(variables["MLFLOW_REGISTRY_URI"])
    if "MLFLOW_EXPERIMENT_NAME" in variables:
        mlflow.set_experiment(variables["MLFLOW_EXPERIMENT_NAME"])
    return resolved


def _export(resolved: Resolved) -> None:
    for name in resolved.unset:
        os.environ.pop(name, None)
    os.environ.update(resolved.variables)
