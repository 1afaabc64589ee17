"""MLflow's variables, read from its source by path, agree with the installed MLflow itself."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys

import click
import pytest

from layered_mlflow.checks import values as value_rules
from layered_mlflow.mlflow_names import variables as mlflow_vars

# Compares what layered-mlflow reads with what the installed MLflow defines: CI runs it on the lowest too.
pytestmark = pytest.mark.installed_mlflow


def _declared() -> set[str]:
    from mlflow import environment_variables as declared

    return {
        variable.name
        for variable in vars(declared).values()
        if isinstance(variable, declared._EnvironmentVariable) and variable.name.startswith("MLFLOW_")
    }


# Importing mlflow.cli warns (SQLAlchemy deprecations) and loads half of MLflow: ask a fresh interpreter.
_CLI_SCRIPT = """
import json, click
from mlflow.cli import cli
found = {}
def walk(command):
    for param in command.params:
        if isinstance(param, click.Option) and isinstance(param.envvar, str):
            kind = {"integer": "int", "float": "float"}.get(param.type.name, "str")
            found[param.envvar] = "flag" if param.is_flag else kind
    for sub in command.commands.values() if isinstance(command, click.Group) else ():
        walk(sub)
walk(cli)
print(json.dumps(found))
"""


@functools.cache
def _cli_options() -> dict[str, str]:
    """Every option of the `mlflow` command line read from a variable: its variable, and click's type for it."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _CLI_SCRIPT], capture_output=True, text=True, check=True
    )
    found: dict[str, str] = json.loads(done.stdout)
    return found


def _read_in_source() -> set[str]:
    """Names MLflow reads with a plain ``os.environ.get("MLFLOW_…")``, ``os.getenv`` or ``os.environ[…]``."""
    package = mlflow_vars.package()
    assert package is not None
    read = re.compile(r'(?:os\.environ\.get\(|os\.getenv\(|os\.environ\[)\s*"(MLFLOW_[A-Z0-9_]+)"')
    return {match[1] for path in package.rglob("*.py") for match in read.finditer(path.read_text(encoding="utf-8"))}


def test_every_variable_mlflow_reads_is_known() -> None:
    """The list is exactly what the installed MLflow declares, its CLI options read and its source reads."""
    expected = _declared() | set(_cli_options()) | _read_in_source()
    assert {"MLFLOW_HOST", "MLFLOW_PORT", "MLFLOW_WORKERS", "MLFLOW_SERVE_ARTIFACTS", "MLFLOW_HOME"} <= expected
    assert set(mlflow_vars.mlflow_variables()) == expected


def test_cli_option_variables_have_click_types() -> None:
    """A variable only the CLI reads has the type click gives its option: int, a flag, or text."""
    declared, kinds = _declared(), mlflow_vars.mlflow_variables()
    assert {name: kinds[name] for name in _cli_options() if name not in declared} == {
        name: kind for name, kind in _cli_options().items() if name not in declared
    }


def test_read_directly_lists_no_declared_name() -> None:
    """The kept list holds only names no declaration has: a declared one would be read twice."""
    assert not set(mlflow_vars.READ_DIRECTLY) & (_declared() | set(_cli_options()))


def test_http_limits_are_mlflows_defaults() -> None:
    """The private retry and backoff limits are read from MLflow's source, with the defaults MLflow has."""
    from mlflow import environment_variables as declared

    for variable in (
        declared._MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT,
        declared._MLFLOW_HTTP_REQUEST_MAX_BACKOFF_FACTOR_LIMIT,
    ):
        assert mlflow_vars.limit(variable.name) == variable.default


def test_auth_providers_are_mlflows() -> None:
    """MLFLOW_TRACKING_AUTH takes the providers MLflow's own registry holds (built-in and plugins)."""
    from mlflow.tracking.request_auth.registry import _request_auth_provider_registry

    assert value_rules.auth_providers() == {provider.get_name() for provider in _request_auth_provider_registry}


# (text, kind, what MLflow makes of it); kind bool: a variable, flag: a `mlflow server` flag's variable.
BOOLEANS = [
    pytest.param("TRUE", "bool", True, id="bool-any-case"),
    pytest.param("0", "bool", False, id="bool-zero"),
    pytest.param("yes", "bool", None, id="bool-yes-refused"),
    pytest.param(" true", "bool", None, id="bool-space-refused"),
    pytest.param("yes", "flag", True, id="flag-yes"),
    pytest.param(" Off ", "flag", False, id="flag-off-stripped"),
    pytest.param("maybe", "flag", None, id="flag-maybe-refused"),
]


@pytest.mark.parametrize(("text", "kind", "expected"), BOOLEANS)
def test_boolean_reads_as_mlflow_and_click_do(text: str, kind: str, expected: bool | None) -> None:
    """One helper parses booleans as MLflow's variables and click's flags do."""
    assert mlflow_vars.boolean(text, kind) is expected


@pytest.mark.parametrize(("text", "kind", "expected"), BOOLEANS)
def test_boolean_agrees_with_mlflow_itself(
    monkeypatch: pytest.MonkeyPatch, text: str, kind: str, expected: bool | None
) -> None:
    """The helper's answer is MLflow's own (`_BooleanEnvironmentVariable`) or click's (`BOOL`)."""
    from mlflow.environment_variables import _BooleanEnvironmentVariable

    if kind == "flag":
        try:
            theirs: bool | None = click.BOOL.convert(text, None, None)
        except click.BadParameter:
            theirs = None
    else:
        monkeypatch.setenv("MLFLOW_LAYERED_TEST_FLAG", text)
        try:
            theirs = _BooleanEnvironmentVariable("MLFLOW_LAYERED_TEST_FLAG", False).get()  # type: ignore[no-untyped-call]
        except ValueError:
            theirs = None
    assert theirs is expected
