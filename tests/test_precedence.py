"""SPEC §3: seven layers, lowest first, later wins; mappings merge, lists replace, empty inherits."""

from __future__ import annotations

import pytest

from tests.conftest import Project

KEY = "mlflow_experiment_name"
VAR = "MLFLOW_EXPERIMENT_NAME"


def winner(project: Project, *args: str, env: dict[str, str] | None = None) -> tuple[str, str, str]:
    """(value the child gets, layer, source) for KEY."""
    child = project.child_env(*args, env=env)
    shown = project.cli(*args, "show", "--format", "json", env=env)
    assert shown.returncode == 0, shown
    setting = shown.json()["settings"][KEY]
    return child[VAR], setting["layer"], setting["source"]


def test_base_file_beats_default(project: Project) -> None:
    """settings/mlflow.yml replaces the built-in default `mlruns`."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: http://127.0.0.1:5999\n")
    assert project.child_env()["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5999"


def test_env_file_beats_base_file(project: Project) -> None:
    """settings/mlflow.<env>.yml beats settings/mlflow.yml."""
    project.write("settings/mlflow.yml", f"{KEY}: base\n")
    path = project.write("settings/mlflow.staging.yml", f"{KEY}: staging\n")
    assert winner(project, "--env", "staging") == ("staging", "env_file", str(path))


def test_local_file_beats_env_file(project: Project) -> None:
    """settings/mlflow.local.yml beats the environment's file."""
    project.write("settings/mlflow.yml", f"{KEY}: base\n")
    project.write("settings/mlflow.staging.yml", f"{KEY}: staging\n")
    path = project.write("settings/mlflow.local.yml", f"{KEY}: mine\n")
    assert winner(project, "--env", "staging") == ("mine", "local_file", str(path))


def test_dotenv_beats_local_file(project: Project) -> None:
    """.env beats settings/mlflow.local.yml."""
    project.write("settings/mlflow.yml", f"{KEY}: base\n")
    project.write("settings/mlflow.local.yml", f"{KEY}: mine\n")
    path = project.write(".env", f"{VAR}=from-dotenv\n")
    assert winner(project) == ("from-dotenv", "dotenv", str(path))


def test_process_env_beats_dotenv(project: Project) -> None:
    """A variable injected by the shell, CI or a container beats .env."""
    project.write("settings/mlflow.yml", f"{KEY}: base\n")
    project.write(".env", f"{VAR}=from-dotenv\n")
    assert winner(project, env={VAR: "injected"}) == ("injected", "process_env", VAR)


def test_set_beats_process_env(project: Project) -> None:
    """--set on the command line beats everything."""
    project.write("settings/mlflow.yml", f"{KEY}: base\n")
    assert winner(project, "--set", f"{KEY}=cli", env={VAR: "injected"}) == ("cli", "command_line", "--set")


@pytest.mark.parametrize(
    ("files", "env", "args", "expected"),
    [
        pytest.param({"settings/mlflow.staging.yml": f"{KEY}: null\n"}, {}, (), "base", id="yaml-null"),
        pytest.param({"settings/mlflow.staging.yml": f"{KEY}: ''\n"}, {}, (), "base", id="yaml-empty-string"),
        pytest.param({"settings/mlflow.local.yml": f"{KEY}:\n"}, {}, (), "base", id="yaml-bare-key"),
        pytest.param({".env": f"{VAR}=\n"}, {}, (), "base", id="dotenv-empty"),
        pytest.param({".env": f"{VAR}\n"}, {}, (), "base", id="dotenv-no-equals"),
        pytest.param({}, {VAR: ""}, (), "base", id="process-env-empty"),
        pytest.param({}, {}, ("--set", f"{KEY}="), "base", id="set-empty"),
    ],
)
def test_empty_value_inherits(
    project: Project, files: dict[str, str], env: dict[str, str], args: tuple[str, ...], expected: str
) -> None:
    """`null` or an empty value in any layer says nothing: the value below stands."""
    project.write("settings/mlflow.yml", f"{KEY}: base\n")
    project.write("settings/mlflow.staging.yml", "")
    for relative, text in files.items():
        project.write(relative, text)
    assert project.child_env("--env", "staging", *args, env=env)[VAR] == expected


def test_sections_merge_deeply_across_layers(project: Project) -> None:
    """A layer that sets tags.team keeps tags.project from below; the same for `env`."""
    project.write("settings/mlflow.yml", "tags:\n  project: vision\n  team: a\nenv:\n  AWS_DEFAULT_REGION: eu-west-1\n")
    project.write("settings/mlflow.staging.yml", "tags:\n  team: b\nenv:\n  AWS_PROFILE: staging\n")
    project.write(".env", "LAYERED_MLFLOW_TAGS__owner=me\n")
    shown = project.cli("--env", "staging", "show", "--format", "json").json()["settings"]
    values = {name: s["value"] for name, s in shown.items()}
    assert values["tags.project"] == "vision"
    assert values["tags.team"] == "b"
    assert values["tags.owner"] == "me"
    assert values["env.AWS_DEFAULT_REGION"] == "eu-west-1"
    assert values["env.AWS_PROFILE"] == "staging"


@pytest.mark.parametrize(
    ("upper", "env", "expected"),
    [
        pytest.param("server:\n  allowed_hosts: [c]\n", {}, ["c"], id="yaml-list-replaces"),
        pytest.param("", {"LAYERED_MLFLOW_SERVER__ALLOWED_HOSTS": "x, y"}, ["x", "y"], id="env-comma-separated"),
    ],
)
def test_lists_replace_never_append(project: Project, upper: str, env: dict[str, str], expected: list[str]) -> None:
    """Lists replace the list below whole; layers 6 and 7 give them comma-separated."""
    project.write("settings/mlflow.yml", "server:\n  allowed_hosts: [a, b]\n")
    project.write("settings/mlflow.staging.yml", upper)
    shown = project.cli("--env", "staging", "show", "--format", "json", env=env).json()["settings"]
    assert shown["server.allowed_hosts"]["value"] == expected


def test_scalar_replaces_mapping(project: Project) -> None:
    """A scalar over a mapping replaces the whole mapping (and the other way round)."""
    project.write("settings/mlflow.yml", "custom:\n  a: 1\n  b: 2\n")
    project.write("settings/mlflow.staging.yml", "custom: flat\n")
    shown = project.cli("--env", "staging", "show", "--format", "json").json()["settings"]
    assert shown["custom"]["value"] == "flat"
    assert "custom.a" not in shown


def test_every_dotenv_variable_reaches_the_child(project: Project) -> None:
    """Not only MLFLOW_*: every .env variable is set, unless the process environment sets it too."""
    project.write(".env", "DATA_DIR=/data\nAWS_PROFILE=dev\nexport SEED=7\n")
    child = project.child_env(env={"AWS_PROFILE": "ci"})
    assert (child["DATA_DIR"], child["AWS_PROFILE"], child["SEED"]) == ("/data", "ci", "7")


def test_env_section_is_below_the_process_environment(project: Project) -> None:
    """The `env` section exports verbatim, but a variable the environment already sets wins."""
    project.write("settings/mlflow.yml", "env:\n  AWS_DEFAULT_REGION: eu-west-1\n  AWS_PROFILE: team\n")
    child = project.child_env(env={"AWS_PROFILE": "ci"})
    assert (child["AWS_DEFAULT_REGION"], child["AWS_PROFILE"]) == ("eu-west-1", "ci")


def test_set_reaches_sections_with_dotted_keys(project: Project) -> None:
    """--set takes dotted keys: tags.NAME, env.VARIABLE, server.NAME."""
    args = ("--set", "env.AWS_DEFAULT_REGION=us-east-1", "--set", "server.port=5001", "--set", "tags.team=x")
    shown = project.cli(*args, "show", "--format", "json").json()["settings"]
    assert shown["env.AWS_DEFAULT_REGION"]["value"] == "us-east-1"
    assert shown["server.port"]["value"] == "5001"
    assert shown["tags.team"]["value"] == "x"
