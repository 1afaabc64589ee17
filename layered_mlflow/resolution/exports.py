"""Turning resolved settings into the variables a child process gets (SPEC §5)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError, shown
from layered_mlflow.keys import RUN_CONTEXT
from layered_mlflow.resolution import derived

if TYPE_CHECKING:
    from layered_mlflow.layouts.base import Layout
    from layered_mlflow.resolution.resolve import Resolved
    from layered_mlflow.sources.layers import Setting

ENV_TAG = "layered_mlflow.env"
ENV_VARIABLE = "LAYERED_MLFLOW_ENV"


def environment_variables(layout: Layout, environment: str, chosen_by: str) -> dict[str, str]:
    """The variables that name the environment to the command (SPEC §4, §10).

    ``LAYERED_MLFLOW_ENV``, and the variable the project's own tool reads (a Kedro
    project's ``KEDRO_ENV``, so that `kedro run` reads the same folder), unless
    that variable chose the environment and the command inherits it as it is.
    None when no environment is named (Kedro's base alone): nothing empty.
    """
    if not environment:
        return {}
    named = {ENV_VARIABLE: environment}
    if layout.own_variable is not None and chosen_by != layout.own_variable:
        named[layout.own_variable] = environment
    return named


def child_variables(settings: Mapping[str, Setting], named: Mapping[str, str]) -> dict[str, str]:
    """Every variable `run` sets for the command, in a stable order; ``named`` names the environment."""
    variables: dict[str, str] = {}
    tags = {ENV_TAG: named[ENV_VARIABLE]} if ENV_VARIABLE in named else {}
    for key, value, _, _ in settings.values():
        if not isinstance(value, str):
            continue
        if key[0] == "tags":
            tags[".".join(key[1:])] = value
        else:
            name = keys.variable_name(key)
            if name is not None:
                variables[name] = value
    for name, value in derived.token_variables(settings).items():
        variables.setdefault(name, value)  # an explicit MLFLOW_TRACKING_AUTH stands; `check` calls it an error
    if tags or RUN_CONTEXT in variables:  # no tag at all (no environment named): no empty context
        variables[RUN_CONTEXT] = _run_context(tags, variables.get(RUN_CONTEXT), settings.get("mlflow_run_context"))
    variables.update(named)
    return variables


def _run_context(tags: dict[str, str], explicit: str | None, setting: Setting | None) -> str:
    """The tags as MLflow's run context; entries of an explicit ``mlflow_run_context`` (``setting``) win."""
    if explicit is None:
        return json.dumps(tags, ensure_ascii=False)
    try:
        given = json.loads(explicit)
    except ValueError:
        given = None
    except RecursionError:  # MLflow's own json.loads would fail the same way in the job
        origin = "the environment" if setting is None or setting.source == RUN_CONTEXT else setting.source
        raise ConfigError(
            f"{RUN_CONTEXT} (from {shown(origin)}): its JSON nests too deeply to be read",
            hint='a run context is a flat JSON object of tags: {"team": "vision"}',
        ) from None
    if not isinstance(given, dict):
        return explicit  # MLflow drops a malformed one; `check` says so
    return json.dumps({**tags, **given}, ensure_ascii=False)


def child_environment(inherited: Mapping[str, str], resolved: Resolved) -> dict[str, str]:
    """The command's whole environment: what it inherits, less empty MLFLOW_*, plus ours."""
    environment = {name: value for name, value in inherited.items() if name not in resolved.unset}
    environment.update(resolved.variables)
    return environment


def holds_nul(environment: Mapping[str, str]) -> ConfigError:
    """The variable with a NUL character, which exec cannot pass: a YAML or `.env` escape (\\0, \\x00) made it."""
    name = next((n for n, v in environment.items() if "\0" in n or "\0" in v), "a variable")
    return ConfigError(
        f"{shown(name)} holds a NUL character, which no environment variable can",
        hint=f"remove the \\0 or \\x00 escape; `layered-mlflow explain {shown(name)}` shows where it is set",
    )
