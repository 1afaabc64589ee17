"""MLflow's own variable names and types, read from its source by path: importing mlflow costs ~1 s."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

# `MLFLOW_X = _EnvironmentVariable("MLFLOW_X", int, 5)` or `_BooleanEnvironmentVariable("MLFLOW_X", False)`;
# a comment may stand between the arguments (MLFLOW_SEARCH_TRACES_MAX_THREADS has one).
_GAP = r"(?:\s|#[^\n]*)*"
_DECLARED = re.compile(
    rf'_(?P<boolean>Boolean)?EnvironmentVariable\({_GAP}"(?P<name>MLFLOW_[A-Z0-9_]+)"{_GAP},{_GAP}(?P<type>\w+)'
)
# `mlflow server` options read from variables: `envvar="MLFLOW_BACKEND_STORE_URI"`.
_CLI_OPTION = re.compile(r'envvar="(?P<name>MLFLOW_[A-Z0-9_]+)"')
_TYPES = {"str": "str", "int": "int", "float": "float"}
# The `#:` comment block above a declaration is its documentation (Sphinx's autodoc convention).
_DOCUMENTED = re.compile(r"(?P<doc>(?:^#:.*\n)+)(?P<name>MLFLOW_[A-Z0-9_]+)\s*=", re.MULTILINE)


@functools.cache
def mlflow_variables() -> Mapping[str, str]:
    """Every ``MLFLOW_*`` variable the installed MLflow reads, with its type: str, int, float or bool.

    Empty when MLflow is not installed (then nothing is called unknown).
    """
    package = _package()
    if package is None:
        return MappingProxyType({})
    found: dict[str, str] = {}
    for match in _DECLARED.finditer(_read(package / "environment_variables.py")):
        found[match["name"]] = "bool" if match["boolean"] else _TYPES.get(match["type"], "str")
    for match in _CLI_OPTION.finditer(_read(package / "cli" / "__init__.py")):
        found.setdefault(match["name"], "str")
    return MappingProxyType(found)


@functools.cache
def mlflow_variable_docs() -> Mapping[str, str]:
    """MLflow's own one-paragraph description of each variable that has one (for editors)."""
    package = _package()
    if package is None:
        return MappingProxyType({})
    return MappingProxyType(
        {
            match["name"]: " ".join(line[2:].strip() for line in match["doc"].splitlines()).replace("``", "`")
            for match in _DOCUMENTED.finditer(_read(package / "environment_variables.py"))
        }
    )


def _package() -> Path | None:
    spec = importlib.util.find_spec("mlflow")  # finds the package without importing it
    return None if spec is None or spec.origin is None else Path(spec.origin).parent


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
