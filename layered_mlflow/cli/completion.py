"""Shell completion of the project's own names: environments for --env, keys for `explain` and --set.

Click calls these while a shell completes a word (`_LAYERED_MLFLOW_COMPLETE`);
no group callback has run then, so the global options already typed are read
from the root context. A project that does not load completes what it can:
completion must never print an error into the shell.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from layered_mlflow.errors import LayeredMlflowError
from layered_mlflow.mlflow_names.server_options import installed
from layered_mlflow.mlflow_names.variables import mlflow_variables

if TYPE_CHECKING:  # only a completing shell needs them: `run` starts without
    import click
    from click.shell_completion import CompletionItem


def environments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The project's known environments (`development` and one per settings/mlflow.<env>.yml)."""
    from click.shell_completion import CompletionItem

    from layered_mlflow.layouts.discovery import locate

    try:
        known = locate(ctx.find_root().params.get("project_dir"), os.environ)[1].environments
    except (LayeredMlflowError, OSError):
        return []
    return [CompletionItem(name) for name in known if name.startswith(incomplete.lower())]


def keys(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Every key `explain` knows: those the layers set, the `server` section's, and MLflow's variables."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(name) for name in _keys(ctx) if name.startswith(incomplete)]


def assignments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``KEY=`` for --set; the value after ``=`` is the user's to type."""
    from click.shell_completion import CompletionItem

    if "=" in incomplete:
        return []
    return [CompletionItem(f"{name}=") for name in _keys(ctx) if name.startswith(incomplete)]


def _keys(ctx: click.Context) -> list[str]:
    from layered_mlflow.resolution.resolve import resolve

    params = ctx.find_root().params
    try:
        resolved = resolve(env=params.get("env"), project_dir=params.get("project_dir"))
        layered = list(resolved.history)
    except (LayeredMlflowError, OSError):
        layered = []
    everything = {*layered, *(f"server.{key}" for key in installed()), *(n.lower() for n in mlflow_variables())}
    return sorted(everything)
