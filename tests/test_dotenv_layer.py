"""SPEC §3, §8: a `.env` file is one layer, read as python-dotenv's own `dotenv_values` reads it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from layered_mlflow.sources.dotenv_files import read_dotenv
from tests.conftest import Project

# `.env` texts whose names are nowhere in the environment, so that python-dotenv's
# interpolation (which also reads os.environ) sees only the file, as ours does here.
FILES = [
    pytest.param("lm_a=x\nlm_a=\nlm_d=${lm_a}\n", id="last-binding-empty"),
    pytest.param("lm_a=x\nlm_a\nlm_d=${lm_a:-fallback}\n", id="last-binding-no-value"),
    pytest.param("lm_a=\nlm_a=y\n", id="empty-then-value"),
    pytest.param("lm_a=1\nlm_b=${lm_a}\nlm_a=2\nlm_c=${lm_a}\n", id="expansion-sees-the-binding-so-far"),
    pytest.param("lm_a=\nlm_d=${lm_a:-fallback}\n", id="empty-is-set-for-a-default"),
    pytest.param("MLFLOW_TRACKING_URI=http://127.0.0.1:1\nMLFLOW_TRACKING_URI=\n", id="tracking-uri-emptied"),
    pytest.param("export lm_a=1\nlm_a='two words'\n# lm_a=3\n\n", id="export-quotes-comments"),
    pytest.param('lm_a="l1\nl2"\nlm_b=${lm_a}\n', id="multi-line"),
    pytest.param("lm_a=x # note\nlm_a=''\n", id="quoted-empty"),
]


@pytest.mark.parametrize("text", FILES)
def test_a_file_says_what_dotenv_values_says(tmp_path: Path, text: str) -> None:
    """Differential: each name's value in one file is python-dotenv's, the last binding and `${VAR}` included."""
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    [(read, bindings)] = read_dotenv([path], environ={}, explicit=True)
    assert read == path
    assert {name: value for name, value, _ in bindings} == dotenv_values(path)


@pytest.mark.parametrize("text", FILES)
def test_the_child_gets_the_files_word(project: Project, text: str) -> None:
    """A non-empty final value reaches the command; an empty one says nothing (no layer below sets it here)."""
    project.write(".env", text)
    expected = dotenv_values(project.root / ".env")
    child = project.child_env()
    for name, value in expected.items():
        if name == "MLFLOW_TRACKING_URI":
            assert child[name] == (project.root / "mlruns").as_uri(), "an empty URI leaves the built-in default"
        elif value:
            assert child[name] == value
        else:
            assert name not in child


def test_an_emptied_variable_leaves_the_layer_below(project: Project) -> None:
    """`a=x` then `a=` in .env: the file says nothing about `a`, so the settings file's value stands."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: from-settings\nenv:\n  lm_a: from-settings\n")
    project.write(".env", "lm_a=x\nMLFLOW_EXPERIMENT_NAME=dotenv\nlm_a=\nMLFLOW_EXPERIMENT_NAME=\n")
    child = project.child_env()
    assert (child["lm_a"], child["MLFLOW_EXPERIMENT_NAME"]) == ("from-settings", "from-settings")
    shown = project.cli("explain", "env.lm_a")
    assert "(empty: says nothing)" in shown.stdout, shown


def test_an_emptied_environment_name_chooses_nothing(project: Project) -> None:
    """`ENV_FOR_DYNACONF=production` then `ENV_FOR_DYNACONF=` in one .env: the environment is the default."""
    project.write("settings/mlflow.production.yml", "mlflow_experiment_name: prod\n")
    project.write(".env", "ENV_FOR_DYNACONF=production\nENV_FOR_DYNACONF=\n")
    assert project.child_env()["LAYERED_MLFLOW_ENV"] == "development"


# (first --env-file, second --env-file, expected variables: None for "not set")
ENV_FILES = [
    pytest.param("lm_a=x\n", "lm_a=y\n", {"lm_a": "y"}, id="later-file-wins"),
    pytest.param("lm_a=x\n", "lm_a=\n", {"lm_a": "x"}, id="empty-in-later-file-says-nothing"),
    pytest.param("lm_a=x\n", "lm_d=${lm_a}\n", {"lm_a": "x", "lm_d": "x"}, id="expansion-sees-earlier-files"),
    pytest.param("lm_a=x\nlm_a=\n", "lm_d=${lm_a:-fb}\n", {"lm_a": None, "lm_d": "fb"}, id="emptied-in-earlier-file"),
    pytest.param("lm_a=x\n", "lm_a=\nlm_d=${lm_a}\n", {"lm_a": "x", "lm_d": None}, id="within-a-file-its-own-word"),
    pytest.param(
        "MLFLOW_TRACKING_URI=http://127.0.0.1:1\n",
        "MLFLOW_TRACKING_URI=\n",
        {"MLFLOW_TRACKING_URI": "http://127.0.0.1:1"},
        id="tracking-uri-kept",
    ),
]


@pytest.mark.parametrize(("first", "second", "expected"), ENV_FILES)
def test_each_env_file_is_a_layer(project: Project, first: str, second: str, expected: dict[str, str | None]) -> None:
    """Several --env-file: each a layer in order, later wins, an empty value says nothing, as across any layers."""
    project.write("first.env", first)
    project.write("second.env", second)
    child = project.child_env("--env-file", "first.env", "--env-file", "second.env")
    assert {name: child.get(name) for name in expected} == expected


def test_value_and_file_variable_in_two_env_files(project: Project, tmp_path: Path) -> None:
    """X in one --env-file and X_FILE in a later one are two layers: the later wins, no conflict (SPEC §9)."""
    (tmp_path / "name").write_text("from-file\n")
    project.write("first.env", "MLFLOW_EXPERIMENT_NAME=literal\n")
    project.write("second.env", f"MLFLOW_EXPERIMENT_NAME_FILE={tmp_path / 'name'}\n")
    child = project.child_env("--env-file", "first.env", "--env-file", "second.env")
    assert child["MLFLOW_EXPERIMENT_NAME"] == "from-file"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("MLFLOW_TRACKING_URI: http://127.0.0.1:1\n", 1, id="yaml-style-line"),
        pytest.param("lm_a=1\nlm_b='unterminated\n", 2, id="unterminated-quote"),
        pytest.param("lm_a=1\n\nnot a binding\n", 3, id="bare-words"),
    ],
)
def test_a_line_dotenv_skips_is_an_error(project: Project, text: str, line: int) -> None:
    """python-dotenv skips the line with a warning; here it is exit 2 naming file and line, never quoting it."""
    path = project.write(".env", text)
    assert set(dotenv_values(path)) <= {"lm_a"}, "python-dotenv itself skips the line"
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {path}:{line}: not a python-dotenv line"), result
    assert "127.0.0.1" not in result.stderr
    assert "unterminated" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


# In a fresh interpreter: read a `.env` through layered-mlflow, then report what got imported, then import dotenv.
LEAN_PROBE = """
import json, sys
from pathlib import Path
from layered_mlflow.sources.dotenv_files import read_dotenv
(_, bindings), = read_dotenv([Path(sys.argv[1])], {"HOME": "/h"}, explicit=True)
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "dotenv")
import dotenv
ours = {name: value for name, value, _ in bindings}
print(json.dumps([loaded, ours, dotenv.dotenv_values(sys.argv[1]), dotenv.main.__name__]))
"""


def test_python_dotenvs_parser_loads_without_its_package(tmp_path: Path) -> None:
    """Canary of the installed python-dotenv: its parser and variables modules import alone (not dotenv.main),
    read as the package does, and the package still imports whole afterwards."""
    path = tmp_path / ".env"
    path.write_text("A=1\nexport B='two words'\nC=\"x\\ny\"\n# comment\nD\n")
    done = subprocess.run([sys.executable, "-c", LEAN_PROBE, str(path)], capture_output=True, text=True, check=True)
    loaded, ours, theirs, whole = json.loads(done.stdout)
    assert (loaded, whole) == (["dotenv.parser", "dotenv.variables"], "dotenv.main")
    assert ours == theirs
