"""The values no layer gives but the result implies (SPEC §6, §11), each with its reason as its source.

Settings: MLFLOW_ALLOW_FILE_STORE for a file tracking store, which MLflow 3.13 and later refuse without it;
the artifact root of a ``sqlite:`` store (``artifact_root.py``). Variables: the `token` section's, which
point MLflow's request-auth at this package's provider. A value any layer gives wins over its derived one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from layered_mlflow.keys import Key
from layered_mlflow.resolution import artifact_root, precedence, uris
from layered_mlflow.secrets import tokens
from layered_mlflow.sources.layers import Setting

ALLOW_FILE_STORE: Key = ("mlflow_allow_file_store",)
_TRACKING: Key = ("mlflow_tracking_uri",)


def settings(standing: Mapping[Key, Setting], root: Path) -> list[Setting]:
    """The derived settings ``standing`` (the merged winners, by key) implies and does not give itself."""
    derived = []
    tracking = standing.get(_TRACKING)
    if tracking is not None and uris.is_file_store(str(tracking.value)) and ALLOW_FILE_STORE not in standing:
        # MLflow >= 3.13 refuses file stores without it (SPEC §6).
        derived.append(Setting(ALLOW_FILE_STORE, "true", precedence.DERIVED.name, "file: tracking store"))
    if tracking is not None and artifact_root.applies(str(tracking.value)) and artifact_root.KEY not in standing:
        # MLflow's client would put new experiments' artifacts in ./mlruns of the working directory.
        default = artifact_root.default(root)
        derived.append(Setting(artifact_root.KEY, default, precedence.DERIVED.name, "sqlite: tracking store"))
    return derived


def token_variables(settings: Mapping[str, Setting]) -> dict[str, str]:
    """What the command gets for a `token` section: the provider's name and where it reads the token."""
    file, command, ttl = (settings.get(f"token.{name}") for name in ("file", "command", "ttl"))
    found: dict[str, str] = {}
    if file is not None and isinstance(file.value, str):
        found[tokens.FILE] = file.value
    if command is not None and isinstance(command.value, tuple):
        found[tokens.COMMAND] = json.dumps(list(command.value))
        found[tokens.TTL] = (
            str(ttl.value) if ttl is not None and isinstance(ttl.value, str) else str(tokens.DEFAULT_TTL)
        )
    return {tokens.AUTH: tokens.PROVIDER, **found} if found else {}
