"""SPEC §3: the winner of each key, computed in linear time, is exactly what comparing every pair gives."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layered_mlflow.keys import Key
from layered_mlflow.resolution.merging import winners


class Said(NamedTuple):
    key: Key
    value: object  # in the tables of positions, its position in the stack (never empty)


def winning(values: list[tuple[Key, int]]) -> dict[Key, object]:
    """``winners`` of one layer of (key, position) pairs, as key -> the winning position."""
    return {key: said.value for key, said in winners([[Said(*value) for value in values]]).items()}


def reference(values: list[tuple[Key, int]]) -> dict[Key, int]:
    """The rule as written: a value replaces whatever stood at, above or below its key."""
    standing: dict[Key, int] = {}
    for key, value in values:
        for other in [k for k in standing if k[: len(key)] == key or key[: len(k)] == k]:
            del standing[other]
        standing[key] = value
    return standing


# Few names, so that keys often share prefixes: ("tags",) over ("tags", "team"), and the reverse.
KEYS = st.lists(st.sampled_from(["tags", "env", "team", "a", "b"]), min_size=1, max_size=4).map(tuple)
# A stack of layers flattened in order: each entry's value is its position, so a winner names its layer.
STACKS = st.lists(KEYS, max_size=40).map(lambda ks: [(key, position) for position, key in enumerate(ks)])


@given(values=STACKS)
def test_winners_match_the_pairwise_rule(values: list[tuple[Key, int]]) -> None:
    """Over random stacks of overlapping keys, the prefix index picks the same winners as the pairwise rule."""
    assert winning(values) == reference(values)


def test_ten_thousand_keys_under_one_section() -> None:
    """10,000 entries of one section then the section itself: one scalar replaces them all."""
    values: list[tuple[Key, int]] = [(("env", f"V{i}"), i) for i in range(10_000)]
    assert winning([*values, (("env",), -1)]) == {("env",): -1}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([(("a", "b"), 1), (("a", "c"), 2)], {("a", "b"): 1, ("a", "c"): 2}, id="siblings-both-stand"),
        pytest.param([(("a", "b"), 1), (("a",), 2)], {("a",): 2}, id="scalar-replaces-the-mapping-below"),
        pytest.param([(("a",), 1), (("a", "b"), 2)], {("a", "b"): 2}, id="entry-replaces-the-scalar-above"),
        pytest.param(
            [(("a", "b", "c"), 1), (("a", "b"), 2), (("a",), 3)], {("a",): 3}, id="replaced-entries-leave-the-index"
        ),
        pytest.param([(("a", "b"), 1), (("a",), 2), (("a", "c"), 3), (("a",), 4)], {("a",): 4}, id="replaced-twice"),
        # No key of one part: the key above is found among the parents, and the parents' parents.
        pytest.param([(("a", "b"), 1), (("a", "b", "c"), 2)], {("a", "b", "c"): 2}, id="a-parent-of-two-parts"),
        pytest.param([(("a", "b", "c", "d"), 1), (("a", "b"), 2)], {("a", "b"): 2}, id="a-grandparent-of-two-parts"),
    ],
)
def test_winners_table(values: list[tuple[Key, int]], expected: dict[Key, int]) -> None:
    """A value replaces whatever stood at, above or below its key, however often a key is replaced."""
    assert winning(values) == expected


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        pytest.param([[(("a",), "x")], [(("a",), None)]], {("a",): "x"}, id="null-says-nothing"),
        pytest.param([[(("a",), "x")], [(("a",), "")]], {("a",): "x"}, id="empty-says-nothing"),
        pytest.param([[(("a", "b"), "x")], [(("a",), "")]], {("a", "b"): "x"}, id="empty-replaces-nothing-below"),
        pytest.param([[(("a",), "x")], [(("a", "b"), None)]], {("a",): "x"}, id="null-replaces-nothing-above"),
        pytest.param([[(("a",), "x")], [(("a",), ())]], {("a",): ()}, id="an-empty-list-says-empty"),
        pytest.param(
            [[(("a",), "x")], [(("a", "b"), "y")], [(("a",), "")]], {("a", "b"): "y"}, id="empty-says-nothing-nested"
        ),
        pytest.param(
            [[(("a", "b"), "y")], [(("a",), None)], [(("a",), "XXXX")]], {("a",): "XXXX"}, id="any-text-says-something"
        ),
    ],
)
def test_an_empty_value_says_nothing(layers: list[list[tuple[Key, object]]], expected: dict[Key, object]) -> None:
    """SPEC §3: null and '' leave whatever stood (above, at or below the key); an empty list is a value."""
    found = winners([[Said(key, value) for key, value in layer] for layer in layers])
    assert {key: said.value for key, said in found.items()} == expected
