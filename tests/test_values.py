"""SPEC §3, §5: values from .env, the environment and --set reach the child byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import COMMAND, Project

# Each would be changed by Dynaconf's environment loader (TOML parsing, `@` converters)
# or by a careless strip or cast.
NASTY = [
    pytest.param("007", id="leading-zeros"),
    pytest.param("true", id="boolean-word"),
    pytest.param("1_000", id="underscored-int"),
    pytest.param("1e3", id="float-exponent"),
    pytest.param("@int 3", id="dynaconf-int-converter"),
    pytest.param("@format {env[HOME]}", id="dynaconf-format"),
    pytest.param("@jinja {{ 1 + 1 }}", id="dynaconf-jinja"),
    pytest.param('"q"', id="double-quoted"),
    pytest.param("'q'", id="single-quoted"),
    pytest.param("a #b", id="hash-inside"),
    pytest.param(" lead", id="leading-space"),
    pytest.param("trail ", id="trailing-space"),
    pytest.param("p@ss:w/rd$", id="url-ish"),
    pytest.param("[1, 2]", id="list-literal"),
    pytest.param("{a = 1}", id="toml-table"),
    pytest.param("null", id="null-word"),
    pytest.param("ünïcødé ✓", id="unicode"),
]


@pytest.mark.parametrize("value", NASTY)
def test_process_environment_values_are_byte_exact(project: Project, value: str) -> None:
    """An injected MLFLOW_* variable, tag and env entry arrive exactly as written."""
    project.write("settings/mlflow.yml", "env:\n  DATA_VERSION: base\n")
    env = {"MLFLOW_EXPERIMENT_NAME": value, "LAYERED_MLFLOW_TAGS__note": value, "DATA_VERSION": value}
    child = project.child_env(env=env)
    assert child["MLFLOW_EXPERIMENT_NAME"] == value
    assert child["DATA_VERSION"] == value


@pytest.mark.parametrize("value", NASTY)
def test_set_values_are_byte_exact(project: Project, value: str) -> None:
    """--set KEY=VALUE: everything after the first `=` is the value."""
    child = project.child_env("--set", f"mlflow_experiment_name={value}", "--set", f"env.X={value}")
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["X"]) == (value, value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("V=007", "007", id="leading-zeros"),
        pytest.param("V=true", "true", id="boolean-word"),
        pytest.param("V='@int 3'", "@int 3", id="dynaconf-converter"),
        pytest.param("V='\"q\"'", '"q"', id="quotes-inside-single"),
        pytest.param("V='a #b'", "a #b", id="quoted-hash"),
        pytest.param("V=a #b", "a", id="unquoted-comment"),
        pytest.param("V=' lead'", " lead", id="quoted-leading-space"),
        pytest.param('V="line1\\nline2"', "line1\nline2", id="double-quoted-escape"),
        pytest.param("V='p@ss:w/rd$'", "p@ss:w/rd$", id="url-ish"),
        pytest.param("V=${BASE}/x", "/base/x", id="expansion"),
        pytest.param("V=${MISSING:-fallback}", "fallback", id="expansion-default"),
        pytest.param("V=${INJECTED}", "from-shell", id="expansion-from-environment"),
    ],
)
def test_dotenv_values_follow_python_dotenv(project: Project, line: str, expected: str) -> None:
    """.env follows python-dotenv's syntax, `${VAR}` expansion included, and is never cast."""
    project.write(".env", f"BASE=/base\n{line}\n")
    child = project.child_env(env={"INJECTED": "from-shell"})
    assert child["V"] == expected


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        pytest.param("true", "true", id="bool-true"),
        pytest.param("false", "false", id="bool-false"),
        pytest.param("120", "120", id="int"),
        pytest.param("'007'", "007", id="quoted-string"),
        pytest.param("yes", "yes", id="yaml-1.2-yes-is-a-string"),
        pytest.param("0.5", "0.5", id="float"),
    ],
)
def test_yaml_scalars_export_as_strings(project: Project, yaml: str, expected: str) -> None:
    """YAML booleans export as true/false; numbers as written; quoted strings verbatim."""
    project.write("settings/mlflow.yml", f"mlflow_enable_async_logging: {yaml}\n")
    assert project.child_env()["MLFLOW_ENABLE_ASYNC_LOGGING"] == expected


def test_null_and_empty_are_never_exported(project: Project) -> None:
    """An empty or null value is left out; an inherited empty MLFLOW_* is removed from the child."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: null\nenv:\n  EMPTY: ''\n")
    child = project.child_env(env={"MLFLOW_CONFIGURE_LOGGING": "", "MLFLOW_RUN_ID": ""})
    assert "MLFLOW_EXPERIMENT_NAME" not in child
    assert "EMPTY" not in child
    assert "MLFLOW_CONFIGURE_LOGGING" not in child
    assert "MLFLOW_RUN_ID" not in child


def test_non_utf8_environment_bytes_pass_through(project: Project) -> None:
    """An injected value that is not UTF-8 reaches the child as the same bytes."""
    env = os.environb.copy()
    env[b"MLFLOW_EXPERIMENT_NAME"] = b"caf\xe9"
    script = "import os, sys; sys.stdout.buffer.write(os.environb[b'MLFLOW_EXPERIMENT_NAME'])"
    out = subprocess.run(
        [COMMAND, "run", "--", sys.executable, "-c", script],
        env=env,
        cwd=project.root,
        capture_output=True,
        check=True,
    ).stdout
    assert out == b"caf\xe9"


@pytest.mark.parametrize(
    ("command", "printed"),
    [
        pytest.param(("show",), b"caf\xe9", id="show-text"),
        pytest.param(("explain", "MLFLOW_EXPERIMENT_NAME"), b"caf\xe9", id="explain"),
        pytest.param(("show", "--format", "json"), b"caf\\udce9", id="show-json-escaped"),
    ],
)
def test_non_utf8_values_print_without_error(project: Project, command: tuple[str, ...], printed: bytes) -> None:
    """A value that is not UTF-8: its own bytes in text, a \\u escape in JSON; never an encoding error."""
    env = os.environb.copy()
    env[b"MLFLOW_EXPERIMENT_NAME"] = b"caf\xe9"
    env[b"PYTHONIOENCODING"] = b"utf-8"
    done = subprocess.run([COMMAND, *command], env=env, cwd=project.root, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert printed in done.stdout
