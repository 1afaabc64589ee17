"""Bounds that keep bad input cheap: nesting measured before parsing, nested lists rendered as JSON."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError
from layered_mlflow.yaml_limits import MAX_DEPTH, refuse_deep_nesting

DEEP = "[" * (MAX_DEPTH + 1)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"a: {'[' * MAX_DEPTH}{']' * MAX_DEPTH}\n", id="at-the-limit"),
        pytest.param(f"a: '{DEEP}'\nb: 'it''s {DEEP}'\n", id="single-quoted"),
        pytest.param(f'a: "\\" {DEEP}"\nb: "\\\\"\n', id="double-quoted-escapes"),
        pytest.param(f"# {DEEP}\na: 1 # {DEEP}\n", id="comments"),
        pytest.param(f"a: x{DEEP}\nb: it's [{DEEP}\n", id="plain-text"),
        pytest.param(f"a: [{', '.join(['[x]'] * 500)}]\n", id="wide-not-deep"),
    ],
)
def test_brackets_that_do_not_nest_are_not_counted(text: str) -> None:
    """Brackets in quotes, comments and plain text, or side by side, are no nesting: nothing is refused."""
    refuse_deep_nesting(Path("f.yml"), text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(f"a: {DEEP}\n", 1, id="one-line"),
        pytest.param("a: [\n" + "  [\n" * MAX_DEPTH, MAX_DEPTH + 1, id="multi-line"),
        pytest.param(f"a:\n  - {DEEP}\n", 2, id="in-a-block-list"),
        pytest.param(f"a: {{b: {'{c: ' * MAX_DEPTH}\n", 1, id="flow-mappings"),
        pytest.param("a: ['x', \"y\", " + DEEP + "\n", 1, id="after-quoted-items"),
    ],
)
def test_deep_nesting_is_refused_with_its_line(text: str, line: int) -> None:
    """Flow collections nested past the limit: refused before parsing, naming the line it happens on."""
    with pytest.raises(ConfigError, match=rf"^f\.yml:{line}: the YAML is nested too deeply"):
        refuse_deep_nesting(Path("f.yml"), text)


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        pytest.param(None, None, id="null"),
        pytest.param(True, "true", id="boolean"),
        pytest.param(datetime.date(2024, 1, 2), "2024-01-02", id="date"),
        pytest.param(["a", 1, False, None], ("a", "1", "false", "None"), id="list-of-scalars"),
        pytest.param([["x", [1, True]], "y"], ('["x", [1, true]]', "y"), id="nested-list-as-json"),
        pytest.param([{"k": datetime.date(2024, 1, 2)}], ('{"k": "2024-01-02"}',), id="mapping-in-list"),
    ],
)
def test_render(value: Any, rendered: keys.Value) -> None:
    """Scalars as the child gets them; a list item that is itself a list or mapping, as JSON."""
    assert keys.render(value) == rendered


def test_nested_lists_render_in_linear_size() -> None:
    """40 levels of lists (84 bytes of YAML) render in a few hundred bytes, not 2^40."""
    value: Any = []
    for _ in range(39):
        value = [value]
    rendered = keys.render([value])
    assert rendered == ("[" * 40 + "]" * 40,)
