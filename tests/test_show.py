"""`show`: the active environment, root, files read, and each key with its value and origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from layered_mlflow import LayeredMlflowError, resolve
from tests.conftest import Project

REPO = Path(__file__).parent.parent


@pytest.fixture
def layered(project: Project) -> Project:
    """One key set by each layer."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\ntags:\n  team: base\n")
    project.write("settings/mlflow.staging.yml", "mlflow_registry_uri: sqlite:///registry.db\n")
    project.write("settings/mlflow.local.yml", "mlflow_http_request_timeout: 30\n")
    project.write(".env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=3\n")
    return project


def test_show_json_names_every_origin(layered: Project) -> None:
    """Each key's layer and source: default, file paths, .env, the variable's name, --set."""
    env = {"LAYERED_MLFLOW_TAGS__owner": "me", "ENV_FOR_DYNACONF": "staging"}
    shown = layered.cli("--set", "server.port=5001", "show", "--format", "json", env=env).json()
    root = layered.root
    origins = {name: (s["layer"], s["source"]) for name, s in shown["settings"].items()}
    assert origins == {
        "mlflow_allow_file_store": ("derived", "file: tracking store"),
        "mlflow_experiment_name": ("base_file", str(root / "settings/mlflow.yml")),
        "mlflow_http_request_max_retries": ("dotenv", str(root / ".env")),
        "mlflow_http_request_timeout": ("local_file", str(root / "settings/mlflow.local.yml")),
        "mlflow_registry_uri": ("env_file", str(root / "settings/mlflow.staging.yml")),
        "mlflow_tracking_uri": ("default", "built-in default"),
        "server.port": ("command_line", "--set"),
        "tags.owner": ("process_env", "LAYERED_MLFLOW_TAGS__owner"),
        "tags.team": ("base_file", str(root / "settings/mlflow.yml")),
    }
    assert shown["environment"] == "staging"
    assert shown["environment_source"] == "ENV_FOR_DYNACONF"
    assert shown["root"] == str(root)
    assert shown["files"] == [
        str(root / "settings/mlflow.yml"),
        str(root / "settings/mlflow.staging.yml"),
        str(root / "settings/mlflow.local.yml"),
        str(root / ".env"),
    ]
    assert shown["variables"]["MLFLOW_REGISTRY_URI"] == f"sqlite:///{root}/registry.db"


def test_show_text_is_a_table_with_relative_sources(layered: Project) -> None:
    """The text form: a header, then KEY VALUE FROM rows, files relative to the root."""
    result = layered.cli("--env", "staging", "show")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["environment", "staging", "(from", "--env)"]
    assert lines[1] == f"root         {layered.root}"
    assert lines[2] == "files        settings/mlflow.yml"
    row = next(line for line in lines if line.startswith("mlflow_experiment_name"))
    assert row.split() == ["mlflow_experiment_name", "base", "settings/mlflow.yml"]
    row = next(line for line in lines if line.startswith("mlflow_tracking_uri"))
    assert row.split()[-2:] == ["built-in", "default"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_show_masks_secrets_unless_asked(project: Project, fmt: str) -> None:
    """Secret keys and URI passwords show as *** unless --show-secrets."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: postgresql://u:pw-canary@db/x\n")
    env = {"MLFLOW_TRACKING_PASSWORD": "pass-canary", "LAYERED_MLFLOW_TAGS__api_token": "tok-canary"}
    masked = project.cli("show", "--format", fmt, env=env)
    assert masked.returncode == 0, masked
    assert "canary" not in masked.stdout
    assert "***" in masked.stdout
    revealed = project.cli("show", "--format", fmt, "--show-secrets", env=env)
    assert all(f"{word}-canary" in revealed.stdout for word in ("pw", "pass", "tok"))


def test_show_prints_the_names_of_the_secrets_list(project: Project) -> None:
    """`secrets:` holds names, not values: show (text and JSON) prints them; the values they name stay ***."""
    project.write("settings/mlflow.yml", "secrets: [WANDB_ENTITY, FOO]\nenv:\n  WANDB_ENTITY: acme-canary\n")
    text = project.cli("show")
    assert text.returncode == 0, text
    row = next(line for line in text.stdout.splitlines() if line.startswith("secrets "))
    assert row.split() == ["secrets", "WANDB_ENTITY,FOO", "settings/mlflow.yml"]
    assert "acme-canary" not in text.stdout
    settings = project.cli("show", "--format", "json").json()["settings"]
    assert settings["secrets"]["value"] == ["WANDB_ENTITY", "FOO"]
    assert settings["env.WANDB_ENTITY"]["value"] == "***"


@pytest.mark.parametrize("env", ["development", "production"])
def test_this_repositorys_settings_resolve(env: str) -> None:
    """The example settings shipped in settings/ load cleanly in each of their environments."""
    result = Project(REPO).cli("--env", env, "show", "--format", "json", cwd=REPO)
    assert result.returncode == 0, result
    assert result.json()["environment"] == env


@pytest.mark.parametrize(
    ("where", "note"),
    [
        pytest.param(
            "cwd", "no settings/mlflow.yml here or in a folder above: the working directory is the root", id="cwd"
        ),
        pytest.param("project-dir", "no settings/mlflow.yml in it", id="project-dir"),
    ],
)
def test_show_says_why_the_root_is_the_working_directory(
    project: Project, tmp_path: Path, where: str, note: str
) -> None:
    """No settings/mlflow.yml: the root line says so, rather than look like a project that was found."""
    args = ("--project-dir", str(project.root)) if where == "project-dir" else ()
    result = project.cli(*args, "show", cwd=tmp_path if where == "project-dir" else None)
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[1] == f"root         {project.root}  ({note})", result


def test_show_of_a_project_has_no_note(project: Project) -> None:
    """With settings/mlflow.yml the root line is the root alone, from a subdirectory too."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    (project.root / "notebooks").mkdir()
    result = project.cli("show", cwd=project.root / "notebooks")
    assert result.stdout.splitlines()[1] == f"root         {project.root}", result


ENVIRONMENT_SOURCES = [
    pytest.param((), {"ENV_FOR_DYNACONF": "prodution"}, {}, "ENV_FOR_DYNACONF", id="environment-variable"),
    pytest.param(("--env", "prodution"), {}, {}, "--env", id="option"),
    pytest.param((), {}, {".env": "ENV_FOR_DYNACONF=prodution\n"}, "ENV_FOR_DYNACONF in .env", id="dotenv"),
    pytest.param(
        ("--env-file", "ci.env"),
        {},
        {"ci.env": "ENV_FOR_DYNACONF=prodution\n"},
        "ENV_FOR_DYNACONF in ci.env",
        id="named-env-file",
    ),
    pytest.param(
        ("--env-file", ".env", "--env-file", "deploy/ci.env"),
        {},
        {".env": "ENV_FOR_DYNACONF=production\n", "deploy/ci.env": "ENV_FOR_DYNACONF=prodution\n"},
        "ENV_FOR_DYNACONF in deploy/ci.env",
        id="the-file-that-won",
    ),
    pytest.param(
        (),
        {"KEDRO_ENV": "prodution"},
        {"pyproject.toml": "[tool.kedro]\npackage_name = 'x'\n", "conf/base/mlflow.yml": "{}\n"},
        "KEDRO_ENV",
        id="kedro-variable",
    ),
    pytest.param(
        (),
        {},
        {
            "pyproject.toml": "[tool.kedro]\npackage_name = 'x'\n",
            "conf/base/mlflow.yml": "{}\n",
            ".env": "KEDRO_ENV=prodution\n",
        },
        "KEDRO_ENV in .env",
        id="kedro-dotenv",
    ),
]


@pytest.mark.parametrize(("args", "env", "files", "source"), ENVIRONMENT_SOURCES)
def test_an_unknown_environment_names_what_gave_it(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], files: dict[str, str], source: str
) -> None:
    """An unknown environment's error says which layer named it: --env, a variable, or which `.env` file."""
    project = Project(tmp_path / "project")
    if "pyproject.toml" not in files:
        project.write("settings/mlflow.yml", "{}\n")
    for relative, text in files.items():
        project.write(relative, text)
    result = project.cli(*args, "show", env=env)
    assert result.returncode == 2, result
    assert f"unknown environment 'prodution' (from {source});" in result.stderr, result


def test_the_python_api_names_its_env_argument(project: Project) -> None:
    """resolve(env=...) is no --env: its unknown environment is said to come from the env argument."""
    project.write("settings/mlflow.yml", "{}\n")
    with pytest.raises(LayeredMlflowError, match=r"unknown environment 'nope' \(from the env argument\);"):
        resolve(env="nope", environ={}, cwd=project.root)
