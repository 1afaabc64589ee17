"""`--help` and shell completion: what the command line offers a person typing it (SPEC §7)."""

from __future__ import annotations

import pytest

from layered_mlflow.cli import cli
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
