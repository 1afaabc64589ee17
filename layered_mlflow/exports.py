"""Turning resolved settings into the variables a child process gets (SPEC §5)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from layered_mlflow import keys, tokens
from layered_mlflow.errors import ConfigError, shown

if TYPE_CHECKING:
    from layered_mlflow.layers import Setting
    from layered_mlflow.project import Layout
    from layered_mlflow.resolve import Resolved

RUN_CONTEXT = "MLFLOW_RUN_CONTEXT"
ENV_TAG = "layered_mlflow.env"
ENV_VARIABLE = "LAYERED_MLFLOW_ENV"


def variable_name(key: keys.Key) -> str | None:
    """The variable a key exports as: ``MLFLOW_X`` for ``mlflow_x``, ``X`` for ``env.X``."""
    if key[0] == "env" and len(key) == 2:  # asked first: an `env` section may hold thousands
        return key[1]
    if len(key) == 1 and key[0].startswith("mlflow_"):
        return key[0].upper()
    return None


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
            name = variable_name(key)
            if name is not None:
                variables[name] = value
    for name, value in tokens.variables(settings).items():
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
