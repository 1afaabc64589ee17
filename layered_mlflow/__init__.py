"""layered-mlflow: where and how a process logs to MLflow, resolved from layered settings.

The public API is ``__all__``. The subpackages are the layers of the implementation (docs/development.md,
"Package layout"): they are internal, and may change in any release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layered_mlflow._version import __version__
from layered_mlflow.errors import LayeredMlflowError
from layered_mlflow.resolution.resolve import Resolved, resolve
from layered_mlflow.sources.layers import Setting

if TYPE_CHECKING:
    from layered_mlflow.distributed.worker import worker_setup, worker_variables
    from layered_mlflow.integrations.configure import configure

__all__ = [
    "LayeredMlflowError",
    "Resolved",
    "Setting",
    "__version__",
    "configure",
    "resolve",
    "worker_setup",
    "worker_variables",
]


def __getattr__(name: str) -> object:
    # `configure` brings the experiment set-up with it, which the console script (every `run`) never needs.
    if name == "configure":
        from layered_mlflow.integrations.configure import configure

        return configure
    if name in ("worker_setup", "worker_variables"):  # a distributed job's (SPEC §13); Ray imports it by name
        from layered_mlflow.distributed import worker

        return getattr(worker, name)
    if name == "load_ipython_extension":  # `%load_ext layered_mlflow`; IPython stays the kernel's to import
        from layered_mlflow.cli.ipython import load_ipython_extension

        return load_ipython_extension
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
