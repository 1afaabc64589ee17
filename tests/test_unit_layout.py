"""In-process: the project's layout, its file layers and what `check` is told about it (SPEC §2, §4, §10).

tests/test_project.py and tests/test_kedro_layout.py prove the same through the command.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from layered_mlflow import resolve
from layered_mlflow.errors import ConfigError
from layered_mlflow.layouts import discovery
from layered_mlflow.layouts.discovery import locate
from layered_mlflow.layouts.kedro.layout import KedroLayout
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


def test_kedro_layout_problems_are_the_environments(tmp_path: Path) -> None:
    """`check` reports the chosen environment's problems: Kedro's folder for it is missing (SPEC §10)."""
    layout = KedroLayout.at(write(tmp_path, {"pyproject.toml": KEDRO, "conf/base/mlflow.yml": ""}))
    assert discovery.problems(layout, "staging") == [
        Problem(
            WARNING,
            "conf/staging/ does not exist, so only conf/base/ is read; `kedro run` refuses to start without it",
            "create it (Kedro's template git-ignores conf/staging, so a fresh clone has none), "
            "or choose another environment with --env or KEDRO_ENV",
        )
    ]


ME = pwd.getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize(
    ("writable", "refused"),
    [
        pytest.param("settings/mlflow.yml", "settings/mlflow.yml", id="a-settings-file"),
        pytest.param("settings", "settings", id="the-settings-folder"),
        pytest.param(".", ".", id="the-root-a-layout-marks"),
    ],
)
def test_a_discovered_project_writable_by_every_user_is_refused(tmp_path: Path, writable: str, refused: str) -> None:
    """A project found from the working directory whose file, folder or root every user may write is refused,
    naming that path and how to trust it by naming the project (SPEC §2); named, the same project is used."""
    root = write(tmp_path / "p", {"settings/mlflow.yml": ""})
    (root / writable).chmod((root / writable).stat().st_mode | 0o002)
    with pytest.raises(ConfigError) as raised:
        discovery.find_project(root / "settings", None, "--project-dir")
    assert (raised.value.message, raised.value.hint) == (
        f"{os.path.normpath(root / refused)} is writable by every user (owner {ME}): a project found from the "
        "working directory is used only if you or root own its files and not every user can write them",
        f"if you trust it, name it: --project-dir {root} (or LAYERED_MLFLOW_PROJECT_DIR)",
    )
    assert discovery.find_project(tmp_path, str(root), "--project-dir").root == root


def test_a_trusted_discovered_project_is_used(tmp_path: Path) -> None:
    """A project found from the working directory, its files the user's and not writable by all, is used."""
    root = write(tmp_path / "p", {"settings/mlflow.yml": ""})
    assert discovery.find_project(root / "settings", None, "--project-dir").root == root


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        pytest.param("Production", ("production", "--env"), id="chosen-by-the-option-lower-cased"),
        pytest.param(None, ("development", "default"), id="nothing-chooses-the-default"),
    ],
)
def test_select_environment_says_what_chose_it(tmp_path: Path, chosen: str | None, expected: tuple[str, str]) -> None:
    """Without ``chosen_as``, the environment given is said to come from --env."""
    layout = SettingsLayout.at(write(tmp_path, {"settings/mlflow.yml": "", "settings/mlflow.production.yml": ""}))
    assert discovery.select_environment(layout, chosen, {}, {}) == expected


def test_select_environment_unknown_names_the_option(tmp_path: Path) -> None:
    """An unknown environment's error names --env as what gave it, when the caller says nothing else."""
    layout = SettingsLayout.at(write(tmp_path, {"settings/mlflow.yml": ""}))
    with pytest.raises(ConfigError) as raised:
        discovery.select_environment(layout, "nosuch", {}, {})
    assert raised.value.message == "unknown environment 'nosuch' (from --env); known environments: development"
