"""Bounds that keep bad input cheap: nesting measured before parsing, nested lists rendered as JSON."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError
from layered_mlflow.sources import settings_file
from layered_mlflow.sources.yaml_limits import MAX_DEPTH, MAX_KEYS, refuse_deep_nesting

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


def _keys(count: int, prefix: str = "") -> str:
    return prefix + "".join(f"key_{i}: v{i}\n" for i in range(count))


MANY = MAX_KEYS + 1


@pytest.mark.parametrize(
    ("text", "keys_read"),
    [
        pytest.param(_keys(MAX_KEYS), MAX_KEYS, id="at-the-limit"),
        pytest.param("env:\n" + "".join(f"  K{i}: v\n" for i in range(3 * MAX_KEYS)), 1, id="env-entries-any-number"),
        pytest.param("a: 'x\n" + _keys(MANY) + "'\nb: 1\n", 2, id="column-0-lines-of-a-quoted-string"),
    ],
)
def test_top_level_keys_up_to_the_limit_are_read(tmp_path: Path, text: str, keys_read: int) -> None:
    """The limit counts top-level keys, not lines: `env` entries and a string's lines at column 0 are no keys."""
    path = tmp_path / "mlflow.yml"
    path.write_text(text)
    assert len(settings_file.read_settings_file(path, {})) == keys_read


@pytest.mark.parametrize(
    ("text", "count"),
    [
        pytest.param(_keys(MANY), MANY, id="block"),
        pytest.param("# a comment\n---\n{" + ", ".join(f"k{i}: v" for i in range(MANY)) + "}\n", MANY, id="flow"),
        pytest.param("d: &d\n" + _keys(MAX_KEYS, "").replace("key", "  key") + "<<: *d\n", MAX_KEYS + 1, id="merged"),
    ],
)
def test_more_top_level_keys_than_the_limit_are_refused(tmp_path: Path, text: str, count: int) -> None:
    """Dynaconf's loading costs the square of the top-level keys (2,000 took 20 s): past the limit, one error."""
    path = tmp_path / "mlflow.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"^{path}: more than 1,000 top-level keys \({count:,}\)"):
        settings_file.read_settings_file(path, {})
