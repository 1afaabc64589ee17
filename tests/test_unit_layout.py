"""In-process: the project's layout, its file layers and what `check` is told about it (SPEC §2, §4, §10).

tests/test_project.py and tests/test_kedro_layout.py prove the same through the command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layered_mlflow import resolve
from layered_mlflow.layouts import discovery
from layered_mlflow.layouts.discovery import locate
from layered_mlflow.layouts.settings_dir import SettingsLayout
from layered_mlflow.problems import WARNING, Problem
from layered_mlflow.resolution import precedence
from layered_mlflow.sources.layers import SettingsFile

KEDRO = '[tool.kedro]\npackage_name = "p"\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"settings/mlflow.yml": "", "pyproject.toml": KEDRO},
            [
                Problem(
                    WARNING,
                    "{root} is a Kedro project too ([tool.kedro]); "
                    "settings/mlflow.yml wins and conf/'s files are ignored",
                    "keep one of them: remove settings/ to read conf/, or the mlflow files of conf/",
                )
            ],
            id="settings-and-kedro-warns",
        ),
        pytest.param({"settings/mlflow.yml": ""}, [], id="settings-only"),
        pytest.param({"settings/mlflow.yml": "", "pyproject.toml": "[tool.other]\n"}, [], id="pyproject-not-kedro"),
        pytest.param({"pyproject.toml": KEDRO}, [], id="kedro-without-settings-says-nothing-of-settings"),
    ],
)
def test_settings_layout_problems(tmp_path: Path, files: dict[str, str], expected: list[Problem]) -> None:
    """A folder with both settings/mlflow.yml and [tool.kedro] uses settings/, and `check` warns of it (SPEC §10)."""
    problems = discovery.problems(SettingsLayout.at(write(tmp_path, files)), "development")
    assert problems == [Problem(p.level, p.message.format(root=tmp_path), p.hint) for p in expected]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param("production", ["mlflow.yml", "mlflow.production.yml", "mlflow.local.yml"], id="base-env-local"),
        pytest.param("development", ["mlflow.yml", "mlflow.local.yml"], id="environment-without-its-file"),
        pytest.param(None, ["mlflow.yml", "mlflow.local.yml"], id="none-reads-what-every-environment-reads"),
    ],
)
def test_file_layers_lowest_first(tmp_path: Path, environment: str | None, expected: list[str]) -> None:
    """The settings files an environment reads, lowest first, each reading the environ it was given."""
    names = ("mlflow.yml", "mlflow.production.yml", "mlflow.local.yml", "mlflow.staging.yml")
    layout = SettingsLayout.at(write(tmp_path, {f"settings/{name}": "" for name in names}))
    environ = {"HOME": "/h"}
    layer_of = {"mlflow.yml": "base_file", "mlflow.local.yml": "local_file"}
    found = precedence.file_layers(layout, environment, environ)
    assert all(isinstance(layer, SettingsFile) for layer in found)
    assert [(layer.name, layer.path, layer.environ) for layer in found if isinstance(layer, SettingsFile)] == [
        (layer_of.get(name, "env_file"), tmp_path / "settings" / name, environ) for name in expected
    ]


@pytest.mark.parametrize(
    ("project_dir", "environ", "named"),
    [
        pytest.param(None, {}, False, id="discovered"),
        pytest.param(".", {}, True, id="option"),
        pytest.param(None, {"LAYERED_MLFLOW_PROJECT_DIR": "."}, True, id="variable"),
        pytest.param(None, {"LAYERED_MLFLOW_PROJECT_DIR": ""}, False, id="empty-variable-names-nothing"),
    ],
)
def test_locate_says_whether_the_project_was_named(
    tmp_path: Path, project_dir: str | None, environ: dict[str, str], named: bool
) -> None:
    """`locate` returns the working directory, the project and whether --project-dir or its variable named it."""
    write(tmp_path, {"p/settings/mlflow.yml": ""})
    here, layout, was_named = locate(project_dir, environ, tmp_path / "p")
    assert (here, layout.root, was_named) == (tmp_path / "p", tmp_path / "p", named)


@pytest.mark.parametrize(
    ("environ", "dotenv", "expected"),
    [
        pytest.param({}, "URI=http://dotenv:5000\n", "http://dotenv:5000", id="from-dotenv"),
        pytest.param({"URI": "http://env:5000"}, "URI=http://dotenv:5000\n", "http://env:5000", id="process-wins"),
        pytest.param({}, "URI=\nOTHER=x\n", "http://default:5000", id="empty-dotenv-value-says-nothing"),
    ],
)
def test_kedro_files_read_variables_from_dotenv(
    tmp_path: Path, environ: dict[str, str], dotenv: str, expected: str
) -> None:
    """`${oc.env:VAR}` in kedro-mlflow's files comes from the process environment, then `.env` (SPEC §10)."""
    files = {
        "pyproject.toml": KEDRO,
        "conf/base/mlflow.yml": "server:\n  mlflow_tracking_uri: ${oc.env:URI,http://default:5000}\n",
        "conf/local/.keep": "",
        ".env": dotenv,
    }
    result = resolve(cwd=write(tmp_path, files), environ=environ)
    setting = result.settings["mlflow_tracking_uri"]
    assert (setting.value, setting.layer) == (expected, "base_file")
