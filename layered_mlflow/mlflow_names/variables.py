"""MLflow's own variable names and types, read from its source by path: importing mlflow costs ~1 s."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

# `MLFLOW_X = _EnvironmentVariable("MLFLOW_X", int, 5)` or `_BooleanEnvironmentVariable("MLFLOW_X", False)`,
# with the comment block above it, its documentation (`#:` for Sphinx, sometimes a plain `#`).
# A comment may stand between the arguments (MLFLOW_SEARCH_TRACES_MAX_THREADS has one).
_GAP = r"(?:\s|#[^\n]*)*"
_DECLARED = re.compile(
    rf"(?P<doc>(?:^#[^\n]*\n)*)^\w+\s*=\s*_(?P<boolean>Boolean)?EnvironmentVariable\("
    rf'{_GAP}"(?P<name>MLFLOW_[A-Z0-9_]+)"{_GAP},{_GAP}(?P<type>\w+)',
    re.MULTILINE,
)
# Options of the `mlflow` CLI read from variables: `envvar="MLFLOW_PORT"`, inside its `click.option(...)`.
_CLI_OPTION = re.compile(r'click\.option\((?P<before>[^)]*?)envvar="(?P<name>MLFLOW_[A-Z0-9_]+)"(?P<after>[^)]*)')
_CLI_FILES = ("utils/cli_args.py", "cli/__init__.py")
_TYPES = {"str": "str", "int": "int", "float": "float"}
# Read with a plain `os.environ.get("MLFLOW_…")` somewhere in MLflow, declared nowhere. Scanning all of
# MLflow's 15 MB of source costs ~0.7 s, so the list is kept here; tests/test_mlflow_vars.py scans the
# installed MLflow and fails when it reads a name this list and the declarations lack.
READ_DIRECTLY = (
    *("MLFLOW_DEPLOYMENT_ENV", "MLFLOW_ENABLE_TRACE_IN_SERVING", "MLFLOW_EXPERIMENTAL_S3_SIGNATURE_VERSION"),
    *("MLFLOW_HOME", "MLFLOW_LOGGING_CONFIGURE_LOGGING", "MLFLOW_MCP_TOOLS", "MLFLOW_PYFUNC_INFERENCE_CONFIG"),
    "MLFLOW_SERVER_PID",
)
# How MLflow reads a boolean variable (`_BooleanEnvironmentVariable.get`), and how click reads the
# variable of a `mlflow server` flag (`--serve-artifacts`, its BoolParamType); both ignore case.
BOOLEANS: Mapping[str, Mapping[str, bool]] = {
    "bool": {"true": True, "1": True, "false": False, "0": False},
    "flag": {
        **dict.fromkeys(("1", "true", "t", "yes", "y", "on"), True),
        **dict.fromkeys(("0", "false", "f", "no", "n", "off"), False),
    },
}


def boolean(text: str, kind: str = "bool") -> bool | None:
    """``text`` as MLflow reads a boolean of ``kind`` (bool: a variable, flag: a CLI flag); None if it cannot."""
    words = BOOLEANS[kind]
    return words.get(text.lower() if kind == "bool" else text.strip().lower())


@functools.cache
def mlflow_variables() -> Mapping[str, str]:
    """Every ``MLFLOW_*`` variable the installed MLflow reads, with its type: str, int, float, bool or flag.

    Empty when MLflow is not installed or its declarations cannot be read (then nothing is called unknown).
    """
    folder = package()
    if folder is None:
        return MappingProxyType({})
    found: dict[str, str] = {}
    for match in _DECLARED.finditer(read(folder / "environment_variables.py")):
        found[match["name"]] = "bool" if match["boolean"] else _TYPES.get(match["type"], "str")
    if not found:  # MLflow laid out otherwise: what it reads is not known, and nothing is called unknown
        return MappingProxyType({})
    for path in _CLI_FILES:
        for match in _CLI_OPTION.finditer(read(folder / path)):
            found.setdefault(match["name"], _option_kind(match["before"] + match["after"]))
    for name in READ_DIRECTLY:
        found.setdefault(name, "str")
    return MappingProxyType(found)


def _option_kind(body: str) -> str:
    """The type click gives an option: a flag, an explicit ``type=``, else its default's."""
    if "is_flag=True" in body:
        return "flag"
    if re.search(r"\btype=(click\.)?INT\b|\btype=int\b|\bdefault=\d+\s*,", body):
        return "int"
    return "str"


@functools.cache
def mlflow_variable_docs() -> Mapping[str, str]:
    """MLflow's own one-paragraph description of each variable that has one (for editors)."""
    folder = package()
    if folder is None:
        return MappingProxyType({})
    return MappingProxyType(
        {
            match["name"]: _paragraph(match["doc"])
            for match in _DECLARED.finditer(read(folder / "environment_variables.py"))
            if match["doc"]
        }
    )


def _paragraph(comment: str) -> str:
    return " ".join(re.sub(r"^#:?", "", line).strip() for line in comment.splitlines()).replace("``", "`")


@functools.cache
def limit(name: str) -> int | None:
    """The default of one of MLflow's private ``_MLFLOW_*`` integers (``_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT``)."""
    folder = package()
    if folder is None:
        return None
    found = re.search(
        rf'_EnvironmentVariable\({_GAP}"{re.escape(name)}"{_GAP},{_GAP}int{_GAP},{_GAP}(?P<default>\d+)',
        read(folder / "environment_variables.py"),
    )
    return int(found["default"]) if found else None


@functools.cache
def validation_limit(name: str) -> int | None:
    """One of MLflow's limits on what it stores (``MAX_EXPERIMENT_NAME_LENGTH``), from its ``utils/validation.py``."""
    folder = package()
    found = (
        None
        if folder is None
        else re.search(rf"^{re.escape(name)} = (\d+)$", read(folder / "utils" / "validation.py"), re.M)
    )
    return int(found[1]) if found else None


def package() -> Path | None:
    spec = importlib.util.find_spec("mlflow")  # finds the package without importing it
    return None if spec is None or spec.origin is None else Path(spec.origin).parent


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
