"""Hypothesis: arbitrary values arrive byte-exact; arbitrary YAML never ends in a traceback."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Project

# What an environment variable can hold: any text but NUL (and lone surrogates, which are not text).
VALUES = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
# Not `…_FILE`: MLFLOW_X_FILE names a file to read X from (SPEC §9), tested in test_file_variables.py.
NAMES = (
    st.text(string.ascii_uppercase + "_", min_size=1, max_size=12)
    .map(lambda s: f"X_{s}")
    .filter(lambda name: not name.endswith("_FILE"))
)
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def dotenv_line(name: str, value: str) -> str:
    """A python-dotenv line whose value parses back to exactly ``value`` (single quotes, \\ and ' escaped)."""
    return f"{name}='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'\n"


@SLOW
@given(values=st.dictionaries(NAMES, VALUES, min_size=1, max_size=8))
def test_environment_values_arrive_byte_exact(tmp_path: Path, values: dict[str, str]) -> None:
    """Any text through the process environment (MLFLOW_*, env section, tags) reaches the child unchanged."""
    project = Project(tmp_path / "env")
    names = list(values)
    project.write("settings/mlflow.yml", "env:\n" + "".join(f"  {n}: from-file\n" for n in names))
    injected = {**values, **{f"MLFLOW_{n}": v for n, v in values.items()}}
    child = project.child_env(env=injected)
    for name, value in injected.items():
        if value:  # empty says nothing: the file's value stands, or nothing is set
            assert child[name] == value


@SLOW
@given(values=st.dictionaries(NAMES, VALUES.filter(lambda v: "${" not in v), min_size=1, max_size=8))
def test_dotenv_values_arrive_byte_exact(tmp_path: Path, values: dict[str, str]) -> None:
    """Any text written to .env in python-dotenv's quoting reaches the child unchanged (no `${` expansion)."""
    project = Project(tmp_path / "dotenv")
    project.write_bytes(".env", "".join(dotenv_line(n, v) for n, v in values.items()).encode())
    child = project.child_env()
    assert {name: child.get(name, "") for name in values} == values


YAML_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
SECTIONED = st.dictionaries(
    st.sampled_from(["env", "tags", "server", "mlflow_tracking_uri", "mlflow_experiment_name", "other"]),
    JSONISH,
    max_size=4,
)


@pytest.mark.parametrize("kind", ["text", "structured"])
def test_arbitrary_yaml_never_tracebacks(tmp_path: Path, kind: str) -> None:
    """Random text and random documents (JSON is YAML) give exit 0 or a one-line exit 2, never a traceback."""
    strategy = YAML_TEXT if kind == "text" else SECTIONED.map(json.dumps)

    @settings(max_examples=30, deadline=None)
    @given(document=strategy)
    def check(document: str) -> None:
        project = Project(tmp_path / "yaml")
        project.write_bytes("settings/mlflow.yml", document.encode("utf-8", "surrogatepass"))
        result = project.cli("show", "--format", "json")
        assert result.returncode in (0, 2), result
        assert "Traceback" not in result.stderr, result
        if result.returncode == 2:
            assert result.stderr.startswith("layered-mlflow: error: "), result
            assert len(result.stderr.splitlines()) == 1, result

    check()
