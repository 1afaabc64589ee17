"""layered-mlflow: where and how a process logs to MLflow, resolved from layered settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layered_mlflow.errors import LayeredMlflowError
from layered_mlflow.layers import Setting
from layered_mlflow.resolve import Resolved, resolve

if TYPE_CHECKING:
    from layered_mlflow.apply import configure
    from layered_mlflow.distributed.worker import worker_setup, worker_variables

__version__ = "0.1.0"
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
        from layered_mlflow.apply import configure

        return configure
    if name in ("worker_setup", "worker_variables"):  # a distributed job's (SPEC §13); Ray imports it by name
        from layered_mlflow.distributed import worker

        return getattr(worker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
