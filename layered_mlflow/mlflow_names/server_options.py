"""The options of the installed ``mlflow server``, read from MLflow's own click command (SPEC §1, §12).

Importing MLflow's command line costs seconds, so its source is read by path: the click decorators
of ``def server`` in mlflow/cli/__init__.py (and the shared ones of mlflow/utils/cli_args.py), parsed
with ``ast`` in about a millisecond. tests/test_server_options.py compares what is read here with the
click command itself. Each option's kind is MLflow's: a flag, a switch (``--x/--no-x``), a choice,
an integer (with its range), a path, else text. Where the source cannot be read (MLflow laid out
otherwise), ``server`` asks the click command itself and nothing else calls a ``server`` key unknown.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from layered_mlflow.mlflow_names import variables as mlflow_vars

_COMMAND_FILE = "cli/__init__.py"
_SHARED_FILE = "utils/cli_args.py"  # `@cli_args.HOST` and the like


class Option(NamedTuple):
    """One option of ``mlflow server``: ``--port``, the kind of value it takes."""

    flag: str  # "--serve-artifacts"
    kind: str  # flag, switch, choice, integer, path or text
    off: str | None = None  # a switch's "--no-serve-artifacts"
    low: int | None = None  # an integer's range, when MLflow gives one (click.IntRange)
    high: int | None = None


@functools.cache
def installed() -> Mapping[str, Option]:
    """Every option of the installed ``mlflow server``, by the key that names it (``backend_store_uri``).

    Empty when MLflow is not installed or its ``server`` command is not where it is looked for.
    """
    folder = mlflow_vars.package()
    if folder is None:
        return MappingProxyType({})
    decorators = _decorators(mlflow_vars.read(folder / _COMMAND_FILE))
    shared = mlflow_vars.read(folder / _SHARED_FILE) if any(isinstance(d, ast.Attribute) for d in decorators) else ""
    found: dict[str, Option] = {}
    for decorator in decorators:
        call = _assigned(shared, decorator.attr) if isinstance(decorator, ast.Attribute) else decorator
        option = _option(call) if isinstance(call, ast.Call) else None
        if option is not None:
            found[option[0]] = option[1]
    return MappingProxyType(found)


def path_keys() -> tuple[tuple[str, str], ...]:
    """The `server` keys MLflow takes as a path (``--trace-archival-config``): anchored to the root."""
    return tuple(("server", name) for name, option in installed().items() if option.kind == "path")


def of_click(parameter: Any) -> tuple[str, Option]:
    """The key and the option of one of the click command's parameters (``mlflow.cli.server.params``)."""
    import click

    flag = next(opt for opt in parameter.opts if opt.startswith("--"))
    kind, low, high = "text", None, None
    if parameter.is_flag:
        kind = "switch" if parameter.secondary_opts else "flag"
    elif isinstance(parameter.type, click.Choice):
        kind = "choice"
    elif isinstance(parameter.type, click.types.IntParamType):
        kind = "integer"
        low, high = getattr(parameter.type, "min", None), getattr(parameter.type, "max", None)
    elif isinstance(parameter.type, click.Path):
        kind = "path"
    off = parameter.secondary_opts[0] if parameter.secondary_opts else None
    return parameter.name, Option(flag, kind, off, low, high)


@functools.cache
def from_click() -> Mapping[str, Option]:
    """What the click command itself says: for ``server`` when the source could not be read."""
    import warnings

    import click

    with warnings.catch_warnings():  # importing MLflow's command line warns about its dependencies
        warnings.simplefilter("ignore")
        from mlflow.cli import server

    return MappingProxyType(
        dict(of_click(param) for param in server.params if isinstance(param, click.Option) and param.name)
    )


def _decorators(source: str) -> list[ast.expr]:
    """The decorators of ``def server``, parsed alone (the whole file takes 20 times as long).

    They are the lines above it back to the statement before: that one's first line is the
    last one, going up, that starts at the margin with neither ``@`` nor a closing bracket.
    """
    end = source.find("\ndef server(")
    lines = source[:end].split("\n") if end != -1 else []
    start = len(lines)
    for number in range(len(lines) - 1, -1, -1):
        line = lines[number]
        if line.startswith("@"):
            start = number
        elif line[:1] not in ("", " ", "\t", "#", ")", "]", "}"):
            break
    try:
        tree = ast.parse("\n".join([*lines[start:], "def server(): pass\n"]))
    except SyntaxError:
        return []
    function = tree.body[0] if tree.body else None
    return list(function.decorator_list) if isinstance(function, ast.FunctionDef) else []


def _assigned(source: str, name: str) -> ast.expr | None:
    """The value of the module-level ``NAME = click.option(...)`` in ``source``, parsed alone.

    It ends before the next line that starts at the margin with anything but a closing bracket.
    """
    found = re.search(rf"^{re.escape(name)} = ", source, re.MULTILINE)
    if found is None:
        return None
    end = re.compile(r"^[^\s)\]}#]", re.MULTILINE).search(source, found.end())
    try:
        return ast.parse(source[found.end() : end.start() if end else len(source)], mode="eval").body
    except SyntaxError:
        return None


def _option(call: ast.Call) -> tuple[str, Option] | None:
    """A ``click.option("--x", ..., is_flag=..., type=...)`` as click reads it; None for anything else."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "option"):
        return None
    words = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    declared = [word for word in words if word.startswith("-")]
    long = [part for word in declared for part in word.split("/")[:1] if part.startswith("--")]
    if not long:
        return None
    named = [word for word in words if word.isidentifier()]
    name = named[0] if named else long[0][2:].replace("-", "_")
    off = next((word.split("/", 1)[1] for word in declared if "/" in word), None)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    if off is not None or _constant(keywords.get("is_flag")) is True:
        return name, Option(long[0], "switch" if off else "flag", off)
    return name, _typed(long[0], keywords.get("type"), _constant(keywords.get("default")))


def _typed(flag: str, kind: ast.expr | None, default: object) -> Option:
    """The option's kind from its ``type=`` (click.IntRange(10, 300), click.Path(...)), else its default's."""
    called = kind.func if isinstance(kind, ast.Call) else kind
    named = called.attr if isinstance(called, ast.Attribute) else called.id if isinstance(called, ast.Name) else None
    if named == "IntRange" and isinstance(kind, ast.Call):
        bounds = [_constant(arg) for arg in kind.args] + [None, None]
        given = {keyword.arg: _constant(keyword.value) for keyword in kind.keywords}
        low, high = given.get("min", bounds[0]), given.get("max", bounds[1])
        return Option(flag, "integer", low=_integer(low), high=_integer(high))
    if named in ("INT", "int") or (named is None and type(default) is int):
        return Option(flag, "integer")
    if named == "Path":
        return Option(flag, "path")
    if named == "Choice":
        return Option(flag, "choice")
    return Option(flag, "text")


def _constant(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _integer(value: object) -> int | None:
    return value if type(value) is int else None
