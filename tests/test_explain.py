"""`explain KEY`: every layer's value, highest first, the winner marked, each with its exact origin."""

from __future__ import annotations

import pytest

from tests.conftest import Project


@pytest.fixture
def layered(project: Project) -> Project:
    project.write(
        "settings/mlflow.yml", "mlflow_tracking_uri: mlruns\ntags:\n  team: base\nenv:\n  AWS_PROFILE: team\n"
    )
    project.write("settings/mlflow.staging.yml", "mlflow_tracking_uri: http://127.0.0.1:5999\n")
    project.write("settings/mlflow.local.yml", "mlflow_tracking_uri: ''\n")
    project.write(".env", "MLFLOW_TRACKING_URI=sqlite:///mlflow.db\n")
    return project


def rows(output: str) -> list[list[str]]:
    """The table rows of `explain`, split on runs of two or more spaces."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines()[2:]]


@pytest.mark.parametrize("written", ["mlflow_tracking_uri", "MLFLOW_TRACKING_URI"])
def test_explain_lists_every_layer_highest_first(layered: Project, written: str) -> None:
    """Both spellings; each layer's value as written there, the winner marked with *."""
    result = layered.cli("--env", "staging", "explain", written, env={"MLFLOW_TRACKING_URI": "mlruns"})
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"mlflow_tracking_uri = {(layered.root / 'mlruns').as_uri()}"
    assert lines[1] == "  exported as MLFLOW_TRACKING_URI"
    assert rows(result.stdout) == [
        ["* environment variable", "MLFLOW_TRACKING_URI", "mlruns"],
        [".env", ".env", "sqlite:///mlflow.db"],
        ["local settings file", "settings/mlflow.local.yml", "(empty: says nothing)"],
        ["environment settings file", "settings/mlflow.staging.yml", "http://127.0.0.1:5999"],
        ["settings file", "settings/mlflow.yml", "mlruns"],
        ["built-in default", "built-in default", "mlruns"],
    ]


@pytest.mark.parametrize(
    ("written", "env", "args", "winner"),
    [
        pytest.param("tags.team", {"LAYERED_MLFLOW_TAGS__team": "vision"}, (), "LAYERED_MLFLOW_TAGS__team", id="tag"),
        pytest.param(
            "server.port", {"LAYERED_MLFLOW_SERVER__PORT": "5001"}, (), "LAYERED_MLFLOW_SERVER__PORT", id="server"
        ),
        pytest.param("AWS_PROFILE", {"AWS_PROFILE": "ci"}, (), "AWS_PROFILE", id="env-variable-name"),
        pytest.param("env.AWS_PROFILE", {}, ("--set", "env.AWS_PROFILE=x"), "--set", id="env-dotted"),
    ],
)
def test_explain_accepts_every_spelling(
    layered: Project, written: str, env: dict[str, str], args: tuple[str, ...], winner: str
) -> None:
    """tags.NAME, server.NAME, an env variable's name: the winner's origin is the variable or --set."""
    result = layered.cli(*args, "explain", written, env=env)
    assert result.returncode == 0, result
    assert rows(result.stdout)[0][:2] == [
        "* " + ("command line" if winner == "--set" else "environment variable"),
        winner,
    ]


def test_explain_unset_mlflow_variable(layered: Project) -> None:
    """A real MLflow variable no layer sets: says so, exit 0."""
    result = layered.cli("explain", "mlflow_registry_uri")
    assert result.returncode == 0, result
    assert result.stdout.strip() == "mlflow_registry_uri is not set by any layer: MLflow's own default applies"


@pytest.mark.parametrize(
    ("written", "suggestion"),
    [
        pytest.param("mlflow_traking_uri", "mlflow_tracking_uri", id="typo"),
        pytest.param("tags.taem", "tags.team", id="tag-typo"),
        pytest.param("nothing_like_it_at_all", None, id="no-suggestion"),
        pytest.param("port", None, id="a-server-key-needs-its-section"),
    ],
)
def test_explain_unknown_key(layered: Project, written: str, suggestion: str | None) -> None:
    """An unknown key is exit 2, says so, and suggests the closest; with nothing close, suggests nothing."""
    result = layered.cli("explain", written)
    assert result.returncode == 2, result
    assert f"unknown key {written!r}" in result.stderr
    assert ("did you mean" in result.stderr) is (suggestion is not None), result
    assert suggestion is None or f"did you mean {suggestion}?" in result.stderr, result


def test_explain_masks_every_layer(project: Project) -> None:
    """Secrets are *** in every row, not only the winner's, unless --show-secrets."""
    project.write("settings/mlflow.yml", "mlflow_tracking_password: file-canary\n")
    masked = project.cli("explain", "MLFLOW_TRACKING_PASSWORD", env={"MLFLOW_TRACKING_PASSWORD": "env-canary"})
    assert "canary" not in masked.stdout
    assert masked.stdout.count("***") == 3
    shown = project.cli(
        "explain", "--show-secrets", "mlflow_tracking_password", env={"MLFLOW_TRACKING_PASSWORD": "env-canary"}
    )
    assert "file-canary" in shown.stdout
    assert "env-canary" in shown.stdout


def test_one_winner_when_a_layer_speaks_twice(project: Project) -> None:
    """--set tags.t=a --set tags.t=b: both rows listed, only the later one marked."""
    result = project.cli("--set", "tags.t=a", "--set", "tags.t=b", "explain", "tags.t")
    assert result.returncode == 0, result
    assert [row[0] for row in rows(result.stdout)] == ["* command line", "command line"]
    assert rows(result.stdout)[0][-1] == "b"


@pytest.mark.parametrize(
    ("key", "default"),
    [
        pytest.param("server.port", "5000", id="port"),
        pytest.param("server.host", "127.0.0.1", id="host"),
        pytest.param("server.backend_store_uri", "file://{root}/mlruns", id="backend-the-local-tracking-store"),
    ],
)
def test_explain_a_server_default(project: Project, key: str, default: str) -> None:
    """No `server` section: the value `server`/`ui` use, said to be the default, exit 0 (not "unknown key")."""
    result = project.cli("explain", key)
    assert result.returncode == 0, result
    value = default.format(root=project.root)
    assert result.stdout.splitlines()[:2] == [
        f"{key} = {value}",
        "  read by `layered-mlflow server` and `ui`; no layer sets it, so the default applies",
    ]
    assert rows(result.stdout) == [["* built-in default", "built-in default", value]]


def test_explain_a_server_key_set_shows_the_default_below(project: Project) -> None:
    """A layer that sets server.port wins; the built-in 5000 is listed below it, unmarked."""
    result = project.cli("explain", "server.port", env={"LAYERED_MLFLOW_SERVER__PORT": "5001"})
    assert result.returncode == 0, result
    assert rows(result.stdout) == [
        ["* environment variable", "LAYERED_MLFLOW_SERVER__PORT", "5001"],
        ["built-in default", "built-in default", "5000"],
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param(
            "server.workers",
            "server.workers is not set by any layer: `mlflow server`'s own default applies",
            id="workers",
        ),
        pytest.param(
            "server.allowed_hosts",
            "server.allowed_hosts is not set by any layer: `mlflow server`'s own default applies",
            id="allowed-hosts",
        ),
    ],
)
def test_explain_a_server_key_with_mlflows_default(project: Project, written: str, expected: str) -> None:
    """A `server` key whose default is `mlflow server`'s own: says so, exit 0."""
    result = project.cli("explain", written)
    assert result.returncode == 0, result
    assert result.stdout.strip() == expected


def test_explain_a_misspelt_server_key(project: Project) -> None:
    """server.prot is no key of the section: exit 2, suggesting server.port."""
    result = project.cli("explain", "server.prot")
    assert result.returncode == 2, result
    assert "did you mean server.port?" in result.stderr


@pytest.mark.parametrize(
    ("key", "use"),
    [
        pytest.param("required", "names what must have a value before `run`", id="required"),
        pytest.param("secrets", "names more keys and variables whose values are masked", id="secrets"),
        pytest.param("token.ttl", "read by layered-mlflow's bearer-token provider", id="token"),
        pytest.param("experiment.restore_if_deleted", "given to the experiment `layered-mlflow experiment`", id="exp"),
        pytest.param("experiment.tags.team", "given to the experiment `layered-mlflow experiment`", id="exp-tag"),
        pytest.param("nothing_known", "not used by layered-mlflow", id="unknown-stays-unused"),
    ],
)
def test_explain_says_what_its_own_keys_are_for(project: Project, key: str, use: str) -> None:
    """layered-mlflow's own keys (required, secrets, token.*, experiment.*) are said to be used, and how."""
    project.write(
        "settings/mlflow.yml",
        "required: [MLFLOW_TRACKING_URI]\nsecrets: [WANDB_ENTITY]\ntoken:\n  ttl: 30\n"
        "experiment:\n  restore_if_deleted: true\n  tags:\n    team: x\nnothing_known: 1\n",
    )
    result = project.cli("explain", key)
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[1].startswith(f"  {use}"), result


def test_explain_shows_the_names_of_the_secrets_list(project: Project) -> None:
    """`secrets:` holds names, not values: explain prints them, while their values stay masked."""
    project.write("settings/mlflow.yml", "secrets: [WANDB_ENTITY, env.TEAM_ID]\nenv:\n  WANDB_ENTITY: acme-canary\n")
    listed = project.cli("explain", "secrets")
    assert listed.returncode == 0, listed
    assert listed.stdout.splitlines()[0] == "secrets = WANDB_ENTITY,env.TEAM_ID"
    value = project.cli("explain", "WANDB_ENTITY")
    assert value.stdout.splitlines()[0] == "env.WANDB_ENTITY = ***"


def test_explain_an_assignment_never_echoes_its_value(project: Project) -> None:
    """`explain NAME=VALUE` (a slip for `--set`) is exit 2 naming the key, with the value masked."""
    result = project.cli("explain", "MLFLOW_TRACKING_PASSWORD=CANARY-typed")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: 'MLFLOW_TRACKING_PASSWORD=***' is no key"), result
    assert "CANARY" not in result.stdout + result.stderr
