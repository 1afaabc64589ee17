"""The versions page (docs/versions.md) says what pyproject.toml claims and what .ci/lowest.txt pins."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover (Python 3.10)
    import tomli as tomllib

REPO = Path(__file__).parent.parent
PAGE = (REPO / "docs" / "versions.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DEPENDENCIES = {Requirement(text).name.lower(): text for text in PROJECT["dependencies"]}
TEST_EXTRA = {Requirement(text).name.lower(): text for text in PROJECT["optional-dependencies"]["test"]}
LOWEST = [line for line in (REPO / ".ci" / "lowest.txt").read_text(encoding="utf-8").splitlines() if line[:1].isalpha()]


def row(table_head: str, name: str) -> list[str]:
    """The cells of the row for ``name`` in the page's table whose header row starts with ``table_head``."""
    table = PAGE[PAGE.index(table_head) :].split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]
    matching = [cells for cells in rows if cells[0] in (name, f"`{name}`")]
    assert len(matching) == 1, f"no single row for {name} in the table {table_head!r}"
    return matching[0]


def specifier(requirement: str) -> str:
    """A requirement's version range as pyproject.toml writes it (`kedro>=1.0,<2`: `>=1.0,<2`), without its marker."""
    return re.sub(r"\s", "", requirement.split(";")[0])[len(Requirement(requirement).name) :]


@pytest.mark.parametrize(
    ("name", "claimed"),
    [
        ("Python", PROJECT["requires-python"]),
        ("MLflow", specifier(DEPENDENCIES["mlflow"])),
        ("Kedro", specifier(TEST_EXTRA["kedro"])),
        ("kedro-mlflow", specifier(TEST_EXTRA["kedro-mlflow"])),
    ],
)
def test_the_supported_versions_are_pyprojects(name: str, claimed: str) -> None:
    """Each row's supported range is the one pyproject.toml claims (Python's, MLflow's, the test extra's Kedro's)."""
    assert row("| software |", name)[1] == f"`{claimed}`"


def test_the_lowest_mlflow_is_cis_pin() -> None:
    """The lowest MLflow the page names is .ci/lowest.txt's pin, and the lower bound pyproject.toml claims."""
    assert len(LOWEST) == 1
    assert LOWEST[0].startswith("mlflow==")
    assert f"`{LOWEST[0]}`" in row("| software |", "MLflow")[2]
    lower = next(spec.version for spec in Requirement(DEPENDENCIES["mlflow"]).specifier if spec.operator == ">=")
    assert Version(LOWEST[0].removeprefix("mlflow==")) == Version(lower)


def test_the_dependencies_table_is_pyprojects() -> None:
    """The dependencies table lists every dependency of pyproject.toml with its range, and nothing else."""
    table = PAGE[PAGE.index("| package |") :].split("\n\n", 1)[0]
    listed = {cells[0].strip("`"): cells[1] for cells in (row("| package |", name) for name in DEPENDENCIES)}
    assert listed == {name: f"`{specifier(requirement)}`" for name, requirement in DEPENDENCIES.items()}
    assert len(table.splitlines()) == 2 + len(DEPENDENCIES)
