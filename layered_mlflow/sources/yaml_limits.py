"""Bounds on the shape of a YAML document, checked before its values are built.

The YAML parser's cost grows with the square of the depth of flow collections
(5,000 nested brackets, 10 kB, take seconds to refuse), aliases can make a
small document expand without end, and Dynaconf's loading costs the square of
the number of top-level keys (it searches the keys so far for each one it sets).
Each is measured cheaply up front.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from layered_mlflow.errors import ConfigError
from layered_mlflow.sources.reading import MIB, SETTINGS_LIMIT

# No settings file nests anywhere near this deep; parsing this deep takes milliseconds.
MAX_DEPTH = 100
# A document whose aliases expand past this many nodes is refused (a "billion laughs").
MAX_NODES = 100_000
# ... or to more text than a settings file may hold.
MAX_TEXT = SETTINGS_LIMIT
# Top-level keys: MLflow's variables and a few sections are some 200; 1,000 load in a quarter of a second.
MAX_KEYS = 1_000

_COLUMN_ZERO = re.compile(r"^[^\s#]", re.MULTILINE)
_FLOW_TOP = re.compile(r"(?:[ \t]*(?:---)?[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?:---[ \t]*)?\{")  # after comments, `---`
_MERGE = "tag:yaml.org,2002:merge"

_SIGNIFICANT = re.compile(r"""[\[\]{}'"#]""")


def refuse_deep_nesting(path: Path, text: str) -> None:
    """Refuse flow collections (``[…]``, ``{…}``) nested past MAX_DEPTH, naming the line, without parsing.

    A scan in one pass that skips comments and quoted scalars. Where it cannot
    tell YAML's plain text from an indicator (a bracket inside a block scalar),
    it errs towards counting less, so a valid file is never refused.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # every real file: not enough brackets to nest too deeply
    depth = 0
    position = 0
    while found := _SIGNIFICANT.search(text, position):
        char, start = found.group(), found.start()
        position = found.end()
        if char == "#" and (start == 0 or text[start - 1] in " \t\r\n"):
            end = text.find("\n", start)
            position = len(text) if end < 0 else end
        elif char in "'\"" and _starts_a_value(text, start, depth > 0):
            position = _after_quoted(text, start)
        elif char in "[{" and (depth or _starts_a_value(text, start, in_flow=False)):
            depth += 1  # inside a flow collection, a bracket is always an indicator
            if depth > MAX_DEPTH:
                raise ConfigError(
                    f"{path}:{text.count(chr(10), 0, start) + 1}: the YAML is nested too deeply "
                    f"(lists and mappings more than {MAX_DEPTH} levels deep)",
                    hint="flatten the structure",
                )
        elif char in "]}" and depth:
            depth -= 1


def _starts_a_value(text: str, start: int, in_flow: bool) -> bool:
    """Whether the character at ``start`` begins a node, rather than sitting in plain text (`a: x[y`).

    A node begins at a line's start, after `: `, `- ` or `? `, and inside a
    flow collection after `[`, `{` or `,`.
    """
    before = start - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    if before < 0 or text[before] in "\r\n" or (in_flow and text[before] in "[{,"):
        return True
    spaced = before < start - 1
    if text[before] == ":":
        return spaced
    return text[before] in "-?" and spaced and (before == 0 or text[before - 1] in " \t\r\n")


def _after_quoted(text: str, start: int) -> int:
    """The position after the quoted scalar opening at ``start`` (YAML escapes: '' and \\")."""
    quote, position = text[start], start + 1
    while (end := text.find(quote, position)) >= 0:
        if quote == "'" and text.startswith("''", end):
            position = end + 2
        elif quote == '"' and (end - len(text[position:end].rstrip("\\")) - position) % 2:
            position = end + 1  # an odd run of backslashes escapes this quote
        else:
            return end + 1
    return len(text)


def refuse_expansion(path: Path, root: Any) -> None:
    """Refuse a composed document (``root``, aliases shared) that expands past MAX_NODES or MAX_TEXT,
    or nests past MAX_DEPTH (block style, or through aliases), naming the line where it goes too deep.

    A big value repeated by aliases is as large as if it were written out. The
    walk stops at MAX_DEPTH, so no document can exhaust the interpreter's stack.
    """
    sizes: dict[int, tuple[int, int, int]] = {}  # node -> (nodes, characters, levels) once expanded
    pending = (-1, -1, -1)

    def size(node: Any, depth: int) -> tuple[int, int, int]:
        if id(node) in sizes:
            if sizes[id(node)] == pending:
                raise ConfigError(f"{path}: a YAML alias refers to itself", hint="remove the recursive alias")
            if depth + sizes[id(node)][2] > MAX_DEPTH:
                raise _too_deep(path, node)
            return sizes[id(node)]
        if depth > MAX_DEPTH:
            raise _too_deep(path, node)
        sizes[id(node)] = pending
        nodes, text, levels = 1, len(node.value) if isinstance(node.value, str) else 0, 0
        for child in node.value if isinstance(node.value, list) else []:
            for part in child if isinstance(child, tuple) else (child,):
                part_nodes, part_text, part_levels = size(part, depth + 1)
                nodes, text, levels = nodes + part_nodes, text + part_text, max(levels, part_levels + 1)
            if nodes > MAX_NODES or text > MAX_TEXT:
                raise ConfigError(
                    f"{path}: YAML aliases expand to more than {MAX_NODES:,} values or {MAX_TEXT // MIB} MiB of text",
                    hint="write the values out instead of nesting aliases",
                )
        sizes[id(node)] = (nodes, text, levels)
        return nodes, text, levels

    if root is not None:
        size(root, 0)


def _too_deep(path: Path, node: Any) -> ConfigError:
    mark = getattr(node, "start_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    return ConfigError(
        f"{where}: lists and mappings nest more than {MAX_DEPTH} levels deep", hint="flatten the structure"
    )


def may_have_many_keys(text: str) -> bool:
    """Whether ``text`` may hold more than MAX_KEYS top-level keys, by a scan far cheaper than parsing.

    Each key of a block mapping at the top starts a line at column 0; a mapping
    written in flow style (``{a: 1, …}``) is not counted here, so it is let through
    to be counted when composed.
    """
    return _FLOW_TOP.match(text) is not None or sum(1 for _ in _COLUMN_ZERO.finditer(text)) > MAX_KEYS


def refuse_many_keys(path: Path, root: Any) -> None:
    """Refuse a composed document (``root``) whose top-level mapping has more than MAX_KEYS keys.

    Keys a merge (``<<: *defaults``) brings in count too: Dynaconf sets each.
    """
    if root is None or getattr(root, "id", None) != "mapping":
        return
    count = 0
    for key, value in root.value:
        if key.tag != _MERGE:
            count += 1
        else:
            merged = value.value if value.id == "sequence" else [value]
            count += sum(len(node.value) for node in merged if node.id == "mapping")
    if count > MAX_KEYS:
        raise ConfigError(
            f"{path}: more than {MAX_KEYS:,} top-level keys ({count:,}), the most layered-mlflow reads",
            hint="variables for the command go under `env:`, which takes any number",
        )
