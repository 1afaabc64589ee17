"""Which value wins for each key, in time linear in the number of values (SPEC §3).

Keys are paths (``("tags", "team")``). A value replaces whatever stood at its
key, above it (a scalar over a mapping: ``tags: x`` over ``tags.team``) or
below it (a mapping's entry under a scalar). Comparing every key with every
other costs the square of their number: 10,000 variables took seconds. An
index from each path prefix to the keys below it makes each step cost the
depth of its key instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from layered_mlflow.keys import Key

T = TypeVar("T")


def winners(values: Iterable[tuple[Key, T]]) -> dict[Key, T]:
    """The value standing at each key after ``values`` are applied in order, later over earlier."""
    standing: dict[Key, T] = {}
    below: dict[Key, set[Key]] = {}  # each proper prefix of a standing key -> the standing keys under it

    def remove(key: Key) -> None:
        del standing[key]
        for end in range(1, len(key)):
            below[key[:end]].discard(key)

    for key, value in values:
        for end in range(1, len(key)):  # the keys above: tags, for tags.team
            if key[:end] in standing:
                remove(key[:end])
        for under in list(below.get(key, ())):  # the keys below: tags.team, for tags
            remove(under)
        standing[key] = value
        for end in range(1, len(key)):
            below.setdefault(key[:end], set()).add(key)
    return standing
