"""What `check` says about a Kedro project's layout: what `kedro run` would do differently (SPEC §10)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from layered_mlflow.layouts.kedro.conf import Folder
from layered_mlflow.layouts.kedro.settings import KedroSettings
from layered_mlflow.problems import WARNING, Problem

_OC_ENV = re.compile(r"\$\{\s*oc\.env\s*:")
_OC_ENV_HINT = (
    "register it for every file in settings.py: `from omegaconf.resolvers import oc` and "
    '`CONFIG_LOADER_ARGS["custom_resolvers"] = {"oc.env": oc.env}` (layered-mlflow reads that too), '
    "or write the value itself"
)


def problems(
    settings: KedroSettings, conf: Path, environment: str, folders: Sequence[Folder], shown: Callable[[Path], str]
) -> list[Problem]:
    """settings.py's assumptions, a missing environment folder, and ``${oc.env:…}`` where Kedro refuses it.

    ``folders``: the environment's mlflow and globals folders as written; ``shown`` writes a path for people.
    """
    found = [Problem(WARNING, message, hint) for message, hint in settings.assumed]
    folder = conf / environment
    if environment and environment != settings.base_env and not folder.is_dir():
        found.append(
            Problem(
                WARNING,
                f"{shown(folder)}/ does not exist, so only {shown(conf / settings.base_env)}/ is read; "
                "`kedro run` refuses to start without it",
                f"create it (Kedro's template git-ignores conf/{environment}, so a fresh clone has none), "
                "or choose another environment with --env or KEDRO_ENV",
            )
        )
    if "oc.env" not in settings.resolvers:  # Kedro enables it in credentials files alone
        using = sorted({f.owner[key] for f in folders for key, value in f.data.items() if _holds_oc_env(value)})
        found += [
            Problem(
                WARNING,
                f"{shown(path)} uses ${{oc.env:…}}: layered-mlflow evaluates it, but `kedro run` fails on it "
                "(UnsupportedInterpolationType), since Kedro enables oc.env only in credentials files",
                _OC_ENV_HINT,
            )
            for path in using
        ]
    return found


def _holds_oc_env(value: Any) -> bool:
    if isinstance(value, str):
        return _OC_ENV.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_oc_env(k) or _holds_oc_env(v) for k, v in value.items())
    return isinstance(value, list) and any(map(_holds_oc_env, value))
