"""layered-mlflow: where and how a process logs to MLflow, resolved from layered settings."""

from layered_mlflow.apply import configure
from layered_mlflow.errors import LayeredMlflowError
from layered_mlflow.resolve import Resolved, Setting, resolve

__version__ = "0.1.0"
__all__ = ["LayeredMlflowError", "Resolved", "Setting", "__version__", "configure", "resolve"]
