"""In-process: the whole ``Resolved`` of one realistic project, and the variables a child gets (SPEC §3, §5).

`show`, `explain` and `run` print these fields; tests/test_show.py and tests/test_explain.py
prove the printing, this pins each field, layer name and origin.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layered_mlflow import Resolved, resolve
from layered_mlflow.errors import ConfigError
from layered_mlflow.keys import variable_name
from layered_mlflow.problems import NOTE, Problem
from layered_mlflow.resolution.exports import child_environment, child_variables, holds_nul
from layered_mlflow.sources.layers import Setting


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project with every file layer, a `.env`, a secret file and a kedro-mlflow key that is not applied."""
    files = {
        "settings/mlflow.yml": "mlflow_tracking_uri: mlruns\nenv:\n  AWS_DEFAULT_REGION: eu-west-1\ntags:\n  team: a\n",
        "settings/mlflow.production.yml": "mlflow_experiment_name: prod\ntracking:\n  disable_tracking:\n"
        "    disable_autologging: true\n",
        "settings/mlflow.local.yml": "tags:\n  owner: me\n",
        ".env": "ONLY_IN_DOTENV=d\nAWS_DEFAULT_REGION=us-east-1\n",
        "secret.txt": "s3cret\n\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    (tmp_path / "src").mkdir()
    return tmp_path


ENVIRON = {
    "ENV_FOR_DYNACONF": "production",
    "AWS_DEFAULT_REGION": "ap-south-1",  # named in the env section: the process environment wins
    "NOT_NAMED_ANYWHERE": "x",  # inherited, but no key of ours
    "MLFLOW_TRACKING_TOKEN_FILE": "secret.txt",
    "LAYERED_MLFLOW_TAGS__Team": "vision",
}


@pytest.fixture
def result(root: Path) -> Resolved:
    return resolve(cwd=root / "src", environ=ENVIRON, overrides=["tags.team=b", "server.PORT=5001"])


def test_settings_and_their_layers(result: Resolved, root: Path) -> None:
    """Every key's winner, layer and origin: the origin of a variable is its name, of a file its path."""
    found = {name: (s.value, s.layer, result.relative(s.source)) for name, s in result.settings.items()}
    assert found == {
        "env.AWS_DEFAULT_REGION": ("ap-south-1", "process_env", "AWS_DEFAULT_REGION"),
        "env.ONLY_IN_DOTENV": ("d", "dotenv", ".env"),
        "mlflow_allow_file_store": ("true", "derived", "file: tracking store"),
        "mlflow_experiment_name": ("prod", "env_file", "settings/mlflow.production.yml"),
        "mlflow_tracking_token": ("s3cret\n", "process_env", "MLFLOW_TRACKING_TOKEN_FILE"),
        "mlflow_tracking_uri": ((root / "mlruns").as_uri(), "base_file", "settings/mlflow.yml"),
        "server.port": ("5001", "command_line", "--set"),
        "tags.Team": ("vision", "process_env", "LAYERED_MLFLOW_TAGS__Team"),
        "tags.owner": ("me", "local_file", "settings/mlflow.local.yml"),
        "tags.team": ("b", "command_line", "--set"),
    }
    assert result.settings["tags.team"].name == "tags.team"


def test_the_rest_of_the_result(result: Resolved, root: Path) -> None:
    """Environment and its source, root, files read in layer order, what is unset, what is not applied."""
    assert (result.environment, result.environment_source) == ("production", "ENV_FOR_DYNACONF")
    assert (result.root, result.environments) == (root, ("development", "production"))
    assert result.files == tuple(
        root / name
        for name in ("settings/mlflow.yml", "settings/mlflow.production.yml", "settings/mlflow.local.yml", ".env")
    )
    assert result.unset == ("MLFLOW_TRACKING_TOKEN_FILE",)
    assert result.file_problems == (
        Problem(
            NOTE,
            "tracking.disable_tracking.disable_autologging (settings/mlflow.production.yml) is a kedro-mlflow key; "
            "layered-mlflow does not apply it",
        ),
    )


def test_history_is_every_layer_highest_first(result: Resolved, root: Path) -> None:
    """`explain` reads the history: every layer's word on a key, with its layer, highest first."""
    history = [(c.layer, result.relative(c.source), c.value) for c in result.history["env.AWS_DEFAULT_REGION"]]
    assert history == [
        ("process_env", "AWS_DEFAULT_REGION", "ap-south-1"),
        ("dotenv", ".env", "us-east-1"),
        ("base_file", "settings/mlflow.yml", "eu-west-1"),
    ]
    assert [c.layer for c in result.history["mlflow_tracking_uri"]] == ["base_file", "default"]
    assert result.history["mlflow_tracking_uri"][-1].source == "built-in default"


def test_history_shows_its_entries(result: Resolved) -> None:
    """The history is read when asked; printed, it shows what it holds, not an object's address."""
    assert repr(result.history) == repr(dict(result.history.items()))
    assert "env.AWS_DEFAULT_REGION" in repr(result.history)


def test_a_list_does_not_end_the_variables(tmp_path: Path) -> None:
    """Values after a list (in the settings' order: `required`, `secrets`) are exported all the same."""
    (tmp_path / "settings").mkdir()
    text = "required: [TEAM]\nsecrets: [TOKEN]\ntags:\n  team: a\nzz_unknown: x\n"
    (tmp_path / "settings" / "mlflow.yml").write_text(text, encoding="utf-8")
    found = resolve(cwd=tmp_path, environ={}, overrides=["env.TEAM=t", "mlflow_experiment_name=e"])
    assert {name: found.variables[name] for name in ("TEAM", "MLFLOW_EXPERIMENT_NAME")} == {
        "TEAM": "t",
        "MLFLOW_EXPERIMENT_NAME": "e",
    }
    assert json.loads(found.variables["MLFLOW_RUN_CONTEXT"])["team"] == "a"


def test_relative_shows_outside_sources_as_they_are(result: Resolved) -> None:
    """A source outside the root, or no path at all, is shown as written."""
    assert (result.relative("/elsewhere/x.env"), result.relative("--set")) == ("/elsewhere/x.env", "--set")


def test_child_variables(result: Resolved) -> None:
    """Exported: MLFLOW_*, env entries, the tags as MLFLOW_RUN_CONTEXT with the environment; not server keys."""
    variables = dict(result.variables)
    assert json.loads(variables.pop("MLFLOW_RUN_CONTEXT")) == {
        "layered_mlflow.env": "production",
        "Team": "vision",
        "owner": "me",
        "team": "b",
    }
    assert variables == {
        "AWS_DEFAULT_REGION": "ap-south-1",
        "ONLY_IN_DOTENV": "d",
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "MLFLOW_EXPERIMENT_NAME": "prod",
        "MLFLOW_TRACKING_TOKEN": "s3cret\n",
        "MLFLOW_TRACKING_URI": result.settings["mlflow_tracking_uri"].value,
        "LAYERED_MLFLOW_ENV": "production",
    }


def test_child_environment(result: Resolved) -> None:
    """The command inherits everything but what is unset, and gets ours on top."""
    inherited = {**ENVIRON, "PATH": "/bin"}
    environment = child_environment(inherited, result)
    assert "MLFLOW_TRACKING_TOKEN_FILE" not in environment
    assert (environment["PATH"], environment["NOT_NAMED_ANYWHERE"]) == ("/bin", "x")
    assert environment["LAYERED_MLFLOW_ENV"] == "production"


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [
        pytest.param(None, {"layered_mlflow.env": "dev", "team": "a"}, id="tags-only"),
        pytest.param(
            '{"team": "z", "x": "1"}', {"layered_mlflow.env": "dev", "team": "z", "x": "1"}, id="explicit-wins"
        ),
        pytest.param("not json", "not json", id="malformed-passed-as-is"),
        pytest.param('["a"]', '["a"]', id="json-list-passed-as-is"),
    ],
)
def test_run_context(tmp_path: Path, explicit: str | None, expected: object) -> None:
    """Tags become MLflow's run context; an explicit mlflow_run_context's entries win; a malformed one is kept."""
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings/mlflow.yml").write_text("tags:\n  team: a\n")
    (tmp_path / "settings/mlflow.dev.yml").write_text("")
    environ = {"MLFLOW_RUN_CONTEXT": explicit} if explicit else {}
    context = resolve(cwd=tmp_path, env="DEV", environ=environ).variables["MLFLOW_RUN_CONTEXT"]
    assert (json.loads(context) if isinstance(expected, dict) else context) == expected
    named = {"LAYERED_MLFLOW_ENV": "e"}
    assert child_variables({}, named) == {
        "MLFLOW_RUN_CONTEXT": '{"layered_mlflow.env": "e"}',
        "LAYERED_MLFLOW_ENV": "e",
    }
    assert child_variables({}, {}) == {}  # no environment named: nothing empty


@pytest.mark.parametrize(
    ("key", "name"),
    [
        pytest.param(("mlflow_tracking_uri",), "MLFLOW_TRACKING_URI", id="mlflow"),
        pytest.param(("env", "X"), "X", id="env"),
        pytest.param(("tags", "X"), None, id="tag"),
        pytest.param(("server", "port"), None, id="server"),
        pytest.param(("unknown",), None, id="unknown-top-level"),
        pytest.param(("env", "X", "Y"), None, id="too-deep"),
        pytest.param(("mlflow_x", "y"), None, id="nested-mlflow"),
    ],
)
def test_variable_name(key: tuple[str, ...], name: str | None) -> None:
    """Only top-level mlflow_* keys and env entries are variables of the child."""
    assert variable_name(key) == name


def test_environ_defaults_to_the_process_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``environ``, the process environment is read (and only read)."""
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-process")
    before = dict(os.environ)
    assert resolve(cwd=root).settings["mlflow_experiment_name"].value == "from-process"
    assert dict(os.environ) == before


def test_env_files_replace_dotenv_relative_to_the_working_directory(root: Path) -> None:
    """`--env-file` paths are read from the working directory, in order, instead of the root's `.env`."""
    (root / "src/a.env").write_text("A=1\nB=1\n")
    (root / "src/b.env").write_text("B=2\n")
    result = resolve(cwd=root / "src", environ={}, env_files=["a.env", "b.env"])
    assert (result.variables["A"], result.variables["B"]) == ("1", "2")
    assert "ONLY_IN_DOTENV" not in result.variables
    assert result.files[-2:] == (root / "src/a.env", root / "src/b.env")


def test_dotenv_expands_variables_the_process_environment_wins(root: Path) -> None:
    """`${VAR}` in `.env` sees earlier lines, then the process environment, which wins; empty ones do not."""
    (root / ".env").write_text("A=dot\nB=${A}-${C}\nD=${E}\n")
    result = resolve(cwd=root, environ={"C": "env", "A": "", "E": "e"})
    assert (result.variables["B"], result.variables["D"]) == ("dot-env", "e")


def test_project_dir_named_by_the_environment(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """LAYERED_MLFLOW_PROJECT_DIR names the root from anywhere; the option beats it; `~` is expanded."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert resolve(cwd=elsewhere, environ={"LAYERED_MLFLOW_PROJECT_DIR": str(root)}).root == root
    assert resolve(cwd=elsewhere, project_dir=root, environ={"LAYERED_MLFLOW_PROJECT_DIR": "/nowhere"}).root == root
    assert resolve(cwd=root / "src", project_dir="..", environ={}).root == root


def test_where_names_each_layers_spelling(tmp_path: Path) -> None:
    """`where` names a key as its layer spelled it, and the source for people: a variable and `(environment)`
    for the process environment, the variable for `.env`, the key for a file and for `--set`."""
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings/mlflow.yml").write_text("mlflow_tracking_uri: http://file\nmlflow_experiment_name: e\n")
    (tmp_path / ".env").write_text("MLFLOW_EXPERIMENT_NAME=dot\n")
    result = resolve(
        cwd=tmp_path, environ={"MLFLOW_TRACKING_URI": "http://env"}, overrides=["mlflow_experiment_name=set"]
    )
    assert [
        result.where(s) for name in ("mlflow_tracking_uri", "mlflow_experiment_name") for s in result.history[name]
    ] == [
        "MLFLOW_TRACKING_URI (environment)",
        "mlflow_tracking_uri (settings/mlflow.yml)",
        "mlflow_tracking_uri (built-in default)",
        "mlflow_experiment_name (--set)",
        "MLFLOW_EXPERIMENT_NAME (.env)",
        "mlflow_experiment_name (settings/mlflow.yml)",
    ]


@pytest.mark.parametrize(
    ("kedro_env", "env", "expected"),
    [
        pytest.param(None, "local", {"LAYERED_MLFLOW_ENV": "local", "KEDRO_ENV": "local"}, id="env-option-sets-both"),
        pytest.param("local", None, {"LAYERED_MLFLOW_ENV": "local"}, id="kedro-env-chose-it-inherited-as-is"),
    ],
)
def test_kedro_env_is_set_unless_it_chose(
    tmp_path: Path, kedro_env: str | None, env: str | None, expected: dict[str, str]
) -> None:
    """A Kedro project's command gets KEDRO_ENV naming the environment, unless KEDRO_ENV itself chose it."""
    for relative, text in {"pyproject.toml": '[tool.kedro]\npackage_name = "p"\n', "conf/local/.keep": ""}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    environ = {"KEDRO_ENV": kedro_env} if kedro_env else {}
    variables = resolve(cwd=tmp_path, env=env, environ=environ).variables
    assert {name: variables[name] for name in ("LAYERED_MLFLOW_ENV", "KEDRO_ENV") if name in variables} == expected


DEEP = "[" * 100_000


@pytest.mark.parametrize(
    ("setting", "origin"),
    [
        pytest.param(
            Setting(("mlflow_run_context",), DEEP, "base_file", "settings/mlflow.yml"),
            "settings/mlflow.yml",
            id="from-a-file",
        ),
        pytest.param(
            Setting(("mlflow_run_context",), DEEP, "process_env", "MLFLOW_RUN_CONTEXT"),
            "the environment",
            id="from-the-environment",
        ),
    ],
)
def test_run_context_nesting_too_deeply(setting: Setting, origin: str) -> None:
    """A run context whose JSON nests too deeply for json.loads is an error naming where it was set."""
    with pytest.raises(ConfigError) as raised:
        child_variables({"mlflow_run_context": setting}, {})
    assert (raised.value.message, raised.value.hint) == (
        f"MLFLOW_RUN_CONTEXT (from {origin}): its JSON nests too deeply to be read",
        'a run context is a flat JSON object of tags: {"team": "vision"}',
    )


@pytest.mark.parametrize(
    ("environment", "name"),
    [
        pytest.param({"A": "x", "B": "a\0b"}, "B", id="a-value"),
        pytest.param({"A": "x", "B\0": "b"}, "'B\\x00'", id="a-name-shown-escaped"),
        pytest.param({"A": "x"}, "a variable", id="none-found"),
    ],
)
def test_holds_nul_names_the_variable(environment: dict[str, str], name: str) -> None:
    """exec cannot pass a NUL: the error names the first variable holding one, and how to find where it is set."""
    error = holds_nul(environment)
    assert (error.message, error.hint) == (
        f"{name} holds a NUL character, which no environment variable can",
        f"remove the \\0 or \\x00 escape; `layered-mlflow explain {name}` shows where it is set",
    )
