"""``settings.py``'s literal forms, read from its syntax tree in order, never run (SPEC §10).

``NAME = literal``, ``NAME: type = literal`` and item assignments of
``CONFIG_LOADER_ARGS`` after a literal are read; any other statement that
changes ``CONF_SOURCE`` or ``CONFIG_LOADER_ARGS`` is noted with what was assumed,
for `check` to warn.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from layered_mlflow.errors import shown


class Literals(NamedTuple):
    conf_source: str
    loader: dict[str, Any]  # CONFIG_LOADER_ARGS as far as it is literal (Kedro's defaults when never written)
    assumed: tuple[tuple[str, str], ...]  # (what could not be read and what was assumed, the hint)


def read(tree: ast.Module, shown: Path) -> Literals:
    """The names' values once the module has run, read from its literal forms in order (SPEC §10).

    ``NAME = literal``, ``NAME: type = literal``, and item assignments of
    ``CONFIG_LOADER_ARGS`` after a literal; every other statement that changes
    one of the names is a warning saying what was assumed.
    """
    reader = _Reader(shown)
    for node in tree.body:
        reader.statement(node)
        for inner in _nested(node):  # inside `if`, `try`, `with`, `for`: it may or may not run
            if (name := _written(inner)) is not None:
                reader.assume(inner, f"{name} is changed inside a block", "that block does not run")
    loader = dict(_KEDRO_DEFAULTS) if reader.loader is None else reader.loader
    return Literals(str(reader.conf_source or "conf"), loader, tuple(reader.assumed))


def _nested(node: ast.AST) -> Iterator[ast.stmt]:
    """The statements inside a block statement, but not inside a function or class (only a call runs those)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            yield child
        if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
            yield from _nested(child)


class _Reader:
    """The names' values, statement by statement; what is not a literal form is noted as assumed."""

    def __init__(self, shown: Path) -> None:
        self.shown = shown
        self.conf_source: Any = "conf"
        self.loader: dict[str, Any] | None = None  # None: never written, Kedro's defaults
        self.assumed: list[tuple[str, str]] = []

    def assume(self, node: ast.stmt | ast.expr, what: str, default: str) -> None:
        self.assumed.append((f"{self.shown}:{node.lineno}: {what}; assumed {default}", _HINT))

    def statement(self, node: ast.stmt) -> None:
        name = _written(node)
        target, value = _assignment(node)
        if name is None or (isinstance(node, ast.AnnAssign) and value is None):  # `NAME: dict` assigns nothing
            return
        if isinstance(target, ast.Name) and value is not None:
            if name == "CONF_SOURCE":
                self.conf_source = self._literal(value, "CONF_SOURCE", "conf", "conf")
            else:
                self._loader(value)
        elif isinstance(target, ast.Subscript) and value is not None and name == "CONFIG_LOADER_ARGS":
            self._item(target, value)
        else:
            self.assume(node, f"{_first_line(node)} is not a literal form", "it changes nothing")

    def _literal(self, node: ast.expr, what: str, default: Any, said: str) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, RecursionError):  # not a literal; an unhashable key; too deep
            self.assume(node, f"{what} is not a literal", said)
            return default

    def _loader(self, value: ast.expr) -> None:
        """``CONFIG_LOADER_ARGS = {…}``: written at all, it replaces Kedro's defaults whole."""
        if not isinstance(value, ast.Dict):
            self.assume(value, "CONFIG_LOADER_ARGS is not a literal", "Kedro's defaults")
            self.loader = None
            return
        self.loader = {}
        for key, item in zip(value.keys, value.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._set(item, key.value)
            else:  # `**other`, or a key held in a variable
                self.assume(item, "CONFIG_LOADER_ARGS has an entry whose key is not a literal", "it adds nothing")

    def _item(self, target: ast.Subscript, value: ast.expr) -> None:
        """``CONFIG_LOADER_ARGS["default_run_env"] = "prod"`` (or deeper) after a literal."""
        path: list[Any] = []
        node: ast.expr = target
        while isinstance(node, ast.Subscript):
            index = node.slice
            path.insert(0, index.value if isinstance(index, ast.Constant) else None)
            node = node.value
        written = "CONFIG_LOADER_ARGS" + "".join(f"[{part!r}]" for part in path)
        if self.loader is None or not all(isinstance(part, str) for part in path):
            self.assume(target, f"{written} changes a value that was not read", "it changes nothing")
            return
        parent = self.loader
        for part in path[:-1]:
            if not isinstance(parent.get(part), dict):
                self.assume(target, f"{written}: {part!r} is not a literal mapping here", "it changes nothing")
                return
            parent = parent[part]
        if parent is self.loader:
            self._set(value, path[0])
        elif path[0] == "custom_resolvers":
            parent[path[-1]] = _RESOLVER
        elif path[0] in _LOADER_KEYS:
            found = self._literal(value, written, _UNREAD, "it changes nothing")
            if found is not _UNREAD:
                parent[path[-1]] = found
        if path[0] == "config_patterns":
            self._patterns(target)

    def _set(self, value: ast.expr, name: str) -> None:
        assert self.loader is not None  # noqa: S101 (only called on a literal CONFIG_LOADER_ARGS)
        if name in _LOADER_KEYS:
            default = _ASSUMED[name]
            said = repr(default) if isinstance(default, str) else "Kedro's default"
            self.loader[name] = self._literal(value, f"CONFIG_LOADER_ARGS[{name!r}]", default, said)
            if name == "config_patterns":
                self._patterns(value)
        elif name == "custom_resolvers":  # the names matter, the functions are code
            names = value.keys if isinstance(value, ast.Dict) else []
            if not isinstance(value, ast.Dict):
                self.assume(value, "CONFIG_LOADER_ARGS['custom_resolvers'] is not a literal mapping", "it adds none")
            self.loader[name] = {k.value: _RESOLVER for k in names if isinstance(k, ast.Constant)}

    def _patterns(self, node: ast.expr) -> None:
        """``config_patterns`` as Kedro can glob it; a kind written otherwise is noted, and Kedro's patterns assumed.

        Kedro fails on a string, an empty or an absolute pattern (and a string's
        letters would each be a pattern); ``..`` would read files outside the folder.
        """
        assert self.loader is not None  # noqa: S101 (only called on a literal CONFIG_LOADER_ARGS)
        written = self.loader["config_patterns"]
        name = "CONFIG_LOADER_ARGS['config_patterns']"
        if not isinstance(written, dict):
            kind = type(written).__name__
            self.assume(node, f"{name} is a {kind}, not a mapping of kinds to lists of patterns", "Kedro's patterns")
            self.loader["config_patterns"] = {}
            return
        for kind, patterns in list(written.items()):
            if (problem := _pattern_problem(patterns)) is not None:
                self.assume(node, f"{name}[{shown(repr(kind))}] {problem}", f"Kedro's patterns for {shown(str(kind))}")
                del written[kind]


def _pattern_problem(patterns: Any) -> str | None:
    """What keeps ``patterns`` from being a list of patterns Kedro globs inside a folder, if anything."""
    if not isinstance(patterns, (list, tuple)):
        return f"is a {type(patterns).__name__}, not a list of patterns"
    for pattern in patterns:
        if not isinstance(pattern, str):
            return f"holds a {type(pattern).__name__}, not a pattern"
        if not pattern:
            return "holds an empty pattern"
        if pattern.startswith("/") or ".." in PurePosixPath(pattern).parts:
            return f"holds {shown(repr(pattern))}, which leads outside the configuration folder"
    return None


_HINT = "layered-mlflow reads settings.py without running it; write the value itself"
_KEDRO_DEFAULTS = {"base_env": "base", "default_run_env": "local"}  # kedro/framework/project, when not written
_ASSUMED: Mapping[str, Any] = {**_KEDRO_DEFAULTS, "merge_strategy": {}, "config_patterns": {}}
_LOADER_KEYS = ("base_env", "default_run_env", "merge_strategy", "config_patterns")
_RESOLVER = object()  # a registered resolver: a function, never read
_UNREAD = object()  # a value that is not a literal
_NAMES = ("CONF_SOURCE", "CONFIG_LOADER_ARGS")


def _assignment(node: ast.stmt) -> tuple[ast.expr | None, ast.expr | None]:
    """The one target and the value of ``x = v`` or ``x: T = v``; else (None, None)."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        return node.targets[0], node.value
    if isinstance(node, ast.AnnAssign):
        return node.target, node.value
    return None, None


def _written(node: ast.stmt) -> str | None:
    """The name of ours that a simple statement changes (assigns, deletes, imports, calls a method of)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return next((n for alias in node.names if (n := alias.asname or alias.name) in _NAMES), None)
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    elif isinstance(node, ast.Delete):
        targets = node.targets
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        targets = [node.value.func]  # CONFIG_LOADER_ARGS.update(…)
    else:
        return None
    return next((name for t in targets for name in _rooted(t) if name in _NAMES), None)


def _rooted(node: ast.expr) -> list[str]:
    """The names an assignment target starts from: ``x``, ``x[k]``, ``x.attr``, ``(x, y)``."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return [name for item in node.elts for name in _rooted(item)]
    if isinstance(node, ast.Starred):
        return _rooted(node.value)
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return [node.id] if isinstance(node, ast.Name) else []


def _first_line(node: ast.stmt) -> str:
    text = ast.unparse(node).splitlines()[0]
    return f"`{text[:57]}...`" if len(text) > 60 else f"`{text}`"
