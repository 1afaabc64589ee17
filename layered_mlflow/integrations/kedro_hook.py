"""The Kedro hook (SPEC §15): every Kedro session logs where layered-mlflow says, with no wrapper.

Kedro registers ``hooks`` through the ``kedro.hooks`` entry point (pyproject.toml) in every session —
`kedro run`, `kedro jupyter`, ``KedroSession.create`` in a Databricks job — unless the project's
``settings.py`` names the distribution in ``DISABLE_HOOKS_FOR_PLUGINS = ("layered-mlflow",)``.

When the context is created, the project's resolution for the session's environment is applied as
``configure()`` applies it. kedro-mlflow's own hook, run after this one, reads ``mlflow.yml`` again and
sets its tracking URI, credentials and experiment over the environment's; so this hook first hands it the
configuration it reads, with layered-mlflow's answers in it (Kedro's config loader returns a value set on it
instead of reading the files), and kedro-mlflow starts its runs where layered-mlflow says.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from layered_mlflow.integrations.configure import configure

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext

    from layered_mlflow.resolution.resolve import Resolved

# kedro-mlflow's patterns for its files (kedro_mlflow/framework/hooks/mlflow_hook.py), which it adds itself.
_MLFLOW_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]


class LayeredMlflowHook:
    """Applies the resolved settings when a Kedro context is created, before any other plugin's hook."""

    @hook_impl(tryfirst=True)  # before kedro-mlflow's, which reads what this one leaves for it
    def after_context_created(self, context: KedroContext) -> None:
        resolved = configure(env=context.env, project_dir=context.project_path)
        loader = context.config_loader
        if _has_kedro_mlflow() and isinstance(loader, MutableMapping):
            loader["mlflow"] = kedro_mlflow_config(_mlflow_config(loader), resolved)


hooks = LayeredMlflowHook()


def kedro_mlflow_config(conf: Mapping[str, Any], resolved: Resolved) -> dict[str, Any]:
    """kedro-mlflow's configuration ``conf`` with layered-mlflow's tracking and registry URIs, experiment, run id
    and run name in it, and no credentials entry (``configure`` exported the credentials, the environment's winning)."""
    variables = resolved.variables
    config = copy.deepcopy(dict(conf))
    server = config.setdefault("server", {})
    server["mlflow_tracking_uri"] = variables["MLFLOW_TRACKING_URI"]
    server["mlflow_registry_uri"] = variables.get("MLFLOW_REGISTRY_URI")
    server["credentials"] = None
    tracking = config.setdefault("tracking", {})
    run = tracking.setdefault("run", {})
    run["id"] = variables.get("MLFLOW_RUN_ID")
    run_name = resolved.settings.get("tags.mlflow.runName")
    if run_name is not None:
        run["name"] = run_name.value
    if "MLFLOW_EXPERIMENT_NAME" in variables:  # else kedro-mlflow names it after the package, as it would
        tracking.setdefault("experiment", {})["name"] = variables["MLFLOW_EXPERIMENT_NAME"]
    return config


def _has_kedro_mlflow() -> bool:
    import importlib.util

    return importlib.util.find_spec("kedro_mlflow") is not None


def _mlflow_config(loader: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """kedro-mlflow's files as it would read them (``{}`` where there are none)."""
    from kedro.config import MissingConfigException
    from kedro_mlflow.config.resolvers import resolve_random_name
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("km.random_name"):  # kedro-mlflow's, which it registers in its own hook
        try:
            OmegaConf.register_resolver("km.random_name", resolve_random_name, use_cache=True)
        except TypeError:  # OmegaConf < 2.4, whose register_resolver is the legacy one
            OmegaConf.register_new_resolver("km.random_name", resolve_random_name, use_cache=True)
    patterns = getattr(loader, "config_patterns", None)
    if isinstance(patterns, MutableMapping) and "mlflow" not in patterns:
        patterns["mlflow"] = _MLFLOW_PATTERNS
    try:
        conf: Mapping[str, Any] = loader["mlflow"]
    except MissingConfigException:
        return {}
    return conf
