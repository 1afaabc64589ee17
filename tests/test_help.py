"""`--help` and shell completion: what the command line offers a person typing it (SPEC §7)."""

from __future__ import annotations

import pytest

from layered_mlflow.cli.main import cli
from tests.conftest import Project


def command_lines(help_text: str) -> list[str]:
    """The lines of the Commands section of a --help."""
    return help_text.split("Commands:\n", 1)[1].splitlines()


@pytest.mark.parametrize("columns", ["80", "60"])
def test_help_lists_each_command_in_one_whole_sentence(project: Project, columns: str) -> None:
    """Every command's summary is its own short help, whole: no cut-off `...`, at 80 columns on one line."""
    result = project.cli("--help", env={"COLUMNS": columns})
    assert result.returncode == 0, result
    lines = command_lines(result.stdout)
    text = " ".join(" ".join(lines).split())
    for name, command in cli.commands.items():
        assert command.short_help, name
        assert f"{name} {command.short_help}" in text, result
    assert not any(line.rstrip().endswith("...") for line in lines), result
    if columns == "80":
        assert len(lines) == len(cli.commands), result


def complete(project: Project, line: str, **env: str) -> list[str]:
    """What bash completion offers for the last word of ``line``, through click's own protocol."""
    words = line.split(" ")
    result = project.cli(
        env={"_LAYERED_MLFLOW_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1), **env}
    )
    assert result.returncode == 0, result
    assert result.stderr == "", result
    return [entry.split(",", 1)[1] for entry in result.stdout.splitlines() if entry]


@pytest.fixture
def staged(project: Project) -> Project:
    """A project with a staging and a production environment, a tag and an env variable."""
    project.write("settings/mlflow.yml", "tags:\n  team: vision\nenv:\n  AWS_PROFILE: ml\n")
    project.write("settings/mlflow.staging.yml", "mlflow_experiment_name: s\n")
    project.write("settings/mlflow.production.yml", "mlflow_experiment_name: p\n")
    return project


# (the command line typed so far, ending in the word being completed; what is offered)
COMPLETIONS = [
    pytest.param("layered-mlflow --env ", ["development", "production", "staging"], id="env-every-environment"),
    pytest.param("layered-mlflow --env st", ["staging"], id="env-prefix"),
    pytest.param("layered-mlflow explain tags.", ["tags.team"], id="explain-a-tag"),
    pytest.param("layered-mlflow explain env.", ["env.AWS_PROFILE"], id="explain-an-env-variable"),
    pytest.param("layered-mlflow explain server.po", ["server.port"], id="explain-a-server-key-no-layer-sets"),
    pytest.param(
        "layered-mlflow explain mlflow_tracking_u",
        ["mlflow_tracking_uri", "mlflow_tracking_username"],
        id="explain-mlflow-variables",
    ),
    pytest.param("layered-mlflow --set tags.t", ["tags.team="], id="set-key-and-equals"),
    pytest.param("layered-mlflow --set tags.team=", [], id="set-value-is-the-users"),
    pytest.param(
        "layered-mlflow --env staging explain mlflow_experiment_n", ["mlflow_experiment_name"], id="after-env"
    ),
]


@pytest.mark.parametrize(("line", "offered"), COMPLETIONS)
def test_completion_offers_the_projects_names(staged: Project, line: str, offered: list[str]) -> None:
    """click's completion protocol (bash_complete, COMP_WORDS, COMP_CWORD) completes environments and keys."""
    assert complete(staged, line) == offered


def test_completion_in_a_broken_project_prints_no_error(project: Project) -> None:
    """Settings that do not load: --env still completes, keys fall back to the known ones, nothing on stderr."""
    project.write("settings/mlflow.yml", "a: b: c\n")
    assert complete(project, "layered-mlflow --env ") == ["development"]
    assert complete(project, "layered-mlflow explain server.ho") == ["server.host"]
