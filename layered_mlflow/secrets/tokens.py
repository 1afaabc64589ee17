"""Tokens that expire (SPEC §11): what the command gets for the `token` section.

The command gets ``MLFLOW_TRACKING_AUTH=layered-mlflow`` and the variables below;
layered-mlflow's auth provider (auth_provider.py), which MLflow calls for every
request, reads them in the command's process (token_sources.py reads the token).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layered_mlflow.sources.layers import Setting

PROVIDER = "layered-mlflow"  # the entry point's name, and MLFLOW_TRACKING_AUTH's value
AUTH = "MLFLOW_TRACKING_AUTH"
FILE = "LAYERED_MLFLOW_AUTH_FILE"
COMMAND = "LAYERED_MLFLOW_AUTH_COMMAND"  # a JSON array: the argv
TTL = "LAYERED_MLFLOW_AUTH_TTL"
DEFAULT_TTL = 300


def variables(settings: Mapping[str, Setting]) -> dict[str, str]:
    """What the command gets for a `token` section: the provider's name and where it reads the token."""
    file, command, ttl = (settings.get(f"token.{name}") for name in ("file", "command", "ttl"))
    found: dict[str, str] = {}
    if file is not None and isinstance(file.value, str):
        found[FILE] = file.value
    if command is not None and isinstance(command.value, tuple):
        found[COMMAND] = json.dumps(list(command.value))
        found[TTL] = str(ttl.value) if ttl is not None and isinstance(ttl.value, str) else str(DEFAULT_TTL)
    return {AUTH: PROVIDER, **found} if found else {}
