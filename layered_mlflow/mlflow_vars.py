"""MLflow's own variable names and types, read from its source by path: importing mlflow costs ~1 s."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

# `MLFLOW_X = _EnvironmentVariable("MLFLOW_X", int, 5)` or `_BooleanEnvironmentVariable("MLFLOW_X", False)`.
_DECLARED = re.compile(
    r'_(?P<boolean>Boolean)?EnvironmentVariable\(\s*"(?P<name>MLFLOW_[A-Z0-9_]+)"\s*,\s*(?P<type>\w+)'
)
# `mlflow server` options read from variables: `envvar="MLFLOW_BACKEND_STORE_URI"`.
_CLI_OPTION = re.compile(r'envvar="(?P<name>MLFLOW_[A-Z0-9_]+)"')
_TYPES = {"str": "str", "int": "int", "float": "float"}


@functools.cache
def mlflow_variables() -> Mapping[str, str]:
    """Every ``MLFLOW_*`` variable the installed MLflow reads, with its type: str, int, float or bool.

    Empty when MLflow is not installed (then nothing is called unknown).
    """
    spec = importlib.util.find_spec("mlflow")  # finds the package without importing it
    if spec is None or spec.origin is None:
        return MappingProxyType({})
    package = Path(spec.origin).parent
    found: dict[str, str] = {}
    for match in _DECLARED.finditer(_read(package / "environment_variables.py")):
        found[match["name"]] = "bool" if match["boolean"] else _TYPES.get(match["type"], "str")
    for match in _CLI_OPTION.finditer(_read(package / "cli" / "__init__.py")):
        found.setdefault(match["name"], "str")
    return MappingProxyType(found)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
