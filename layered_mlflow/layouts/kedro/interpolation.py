"""``${…}`` in a Kedro folder evaluated by OmegaConf, with the resolvers Kedro and kedro-mlflow give (SPEC §10).

OmegaConf is imported only for a folder that holds ``${``. Its resolvers are
process-wide, so the ones registered here exist only while one folder is
evaluated: a process that calls ``configure()`` keeps its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from layered_mlflow.errors import ConfigError
from layered_mlflow.layouts.kedro.conf import Folder, text_of
from layered_mlflow.sources import yaml_limits
from layered_mlflow.sources.reading import MIB

_NO_DEFAULT = object()
# km.random_name's value: kedro-mlflow draws a random name; here MLflow draws its own, so the key says nothing.
RANDOM_NAME = "\x00layered-mlflow:random-name\x00"
EVALUATED = "oc.env, globals, runtime_params (with a default), km.random_name and ${path.to.key}"


class _Refused(Exception):
    """A resolver's refusal, with the reason to show."""


class UnsetVariable(ConfigError):
    """``${oc.env:NAME}`` without a default, NAME set nowhere: a value only the run's environment gives."""

    def __init__(self, where: str, message: str, hint: str, variable: str) -> None:
        super().__init__(message, hint)
        self.where, self.variable = where, variable  # where: the file and line that asked for it


def evaluate(folder: Folder, environ: Mapping[str, str], globals_data: Mapping[str, Any]) -> dict[str, Any]:
    """``folder``'s data with every ``${…}`` evaluated; an expression that fails is exit 2 naming file and line."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    _refuse_expansion(folder, environ, globals_data)
    unset: list[str] = []  # the variable an ${oc.env:…} lacked, when that is why evaluation stopped
    with _resolvers(_resolver_table(environ, globals_data, unset)):
        try:
            data = OmegaConf.to_container(OmegaConf.create(folder.data), resolve=True)
        except OmegaConfBaseException as exc:
            raise _error(folder, exc, unset) from None
    assert isinstance(data, dict)  # noqa: S101 (OmegaConf gives back the mapping it was given)
    return {str(k): _random_names(v, folder, str(k)) for k, v in data.items()}


def _refuse_expansion(folder: Folder, environ: Mapping[str, str], globals_data: Mapping[str, Any]) -> None:
    """Refuse ``${…}`` that would expand as an alias bomb does, or nest past what OmegaConf's parser can.

    OmegaConf evaluates a reference anew each time it is used, so ``b: ${a}${a}``,
    ``c: ${b}${b}`` … grows with the power of the number of keys. Each value's size
    once evaluated is estimated from above (each reference, wherever it stands,
    as large as its target), in one walk that visits each value once.
    """
    # a value's path -> (values, characters, levels of nesting, references in a row) once evaluated
    sizes: dict[tuple[str, ...], tuple[int, int, int, int]] = {}
    deep = f"lists, mappings and references nest more than {yaml_limits.MAX_DEPTH} levels deep"
    chained = f"more than {MAX_NESTING} references in a row (`a: ${{b}}`, `b: ${{c}}` …)"

    def size(path: tuple[str, ...], value: Any, depth: int) -> tuple[int, int, int, int]:
        if path in sizes:  # a cycle, while pending: OmegaConf names it
            if depth + sizes[path][2] > yaml_limits.MAX_DEPTH:
                raise _expansion_error(folder, path, deep)
            return sizes[path]
        if depth > yaml_limits.MAX_DEPTH:
            raise _expansion_error(folder, path, deep)
        sizes[path] = (0, 0, 0, 0)
        values, characters, levels, hops = 1, len(value) if isinstance(value, str) else 1, 0, 0
        for target, held in _parts(folder, path, value):
            more = size(target, held, depth + 1)
            values, characters, levels = values + more[0], characters + more[1], max(levels, more[2] + 1)
            hops = max(hops, more[3] + isinstance(value, str))
            if hops > MAX_NESTING:
                raise _expansion_error(folder, path, chained)
        if isinstance(value, str) and "${" in value:
            if _nesting(value) > MAX_NESTING:
                raise _expansion_error(folder, path, f"${{…}} nested in one another more than {MAX_NESTING} deep")
            characters += sum(len(environ.get(name, "")) for name in _ENV.findall(value))
            characters += sum(len(str(_at(globals_data, tuple(name.split("."))))) for name in _GLOBALS.findall(value))
        if values > yaml_limits.MAX_NODES or characters > yaml_limits.MAX_TEXT:
            limits = f"{yaml_limits.MAX_NODES:,} values or {yaml_limits.MAX_TEXT // MIB} MiB of text"
            raise _expansion_error(folder, path, f"its ${{…}} expand to more than {limits}")
        sizes[path] = (values, characters, levels, hops)
        return sizes[path]

    for key, value in folder.data.items():
        size((key,), value, 0)


# OmegaConf takes some ten stack frames per level of ``${…}`` in ``${…}``, and per reference it follows:
# 200 levels, or 90 references in a row, exhaust Python's stack. Real files use two or three.
MAX_NESTING = 32
_REFERENCE = re.compile(r"\$\{\s*(\.*[\w\-]+(?:\.[\w\-]+|\[\s*\w+\s*\])*)\s*\}")  # ${a.b[0]}, ${..sibling}
_ENV = re.compile(r"\$\{\s*oc\.env\s*:\s*([\w.\-]+)")
_GLOBALS = re.compile(r"\$\{\s*globals\s*:\s*([\w.\-]+)")


def _parts(folder: Folder, path: tuple[str, ...], value: Any) -> Iterator[tuple[tuple[str, ...], Any]]:
    """What ``value`` holds (its items), and what its ``${…}`` refer to: each with its path."""
    if isinstance(value, dict):
        yield from (((*path, str(key)), child) for key, child in value.items())
    elif isinstance(value, list):
        yield from (((*path, str(index)), child) for index, child in enumerate(value))
    elif isinstance(value, str):
        for found in _REFERENCE.finditer(value):
            target = _target(path, found.group(1))
            if target is not None and (held := _at(folder.data, target)) is not _NO_DEFAULT:
                yield target, held


def _nesting(text: str) -> int:
    """How deep ``${`` nest in ``text`` (a default that is itself an expression, and so on)."""
    deepest = depth = 0
    for found in re.finditer(r"\$\{|\}", text):
        depth = depth + 1 if found.group() == "${" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _target(path: tuple[str, ...], written: str) -> tuple[str, ...] | None:
    """The path a reference names, from the value at ``path``: ``a.b`` from the top, ``.b`` beside it."""
    dots = len(written) - len(written.lstrip("."))
    parts = tuple(re.findall(r"[\w\-]+", written))
    if not dots:
        return parts
    return (*path[:-dots], *parts) if dots < len(path) else None


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _NO_DEFAULT
    return data


def _expansion_error(folder: Folder, path: tuple[str, ...], why: str) -> ConfigError:
    written = _written(folder.data, ".".join(path))
    file = folder.owner[path[0]]
    line = _line_of(file, written) if written else None
    return ConfigError(
        f"{file}:{line}: `{'.'.join(path)}`: {why}" if line else f"{file}: `{'.'.join(path)}`: {why}",
        hint="write the values out instead of nesting references",
    )


def _resolver_table(
    environ: Mapping[str, str], globals_data: Mapping[str, Any], unset: list[str]
) -> dict[str, Callable[..., Any]]:
    def env(name: str, default: Any = _NO_DEFAULT) -> Any:
        if name in environ:
            return environ[name]
        if default is _NO_DEFAULT:
            unset.append(name)
            raise _Refused(f"environment variable {name} is not set and the expression gives no default")
        return None if default is None else str(default)

    def globals_(name: str, default: Any = _NO_DEFAULT) -> Any:
        value: Any = globals_data
        for part in name.split("."):
            value = value.get(part, _NO_DEFAULT) if isinstance(value, Mapping) else _NO_DEFAULT
        if value is not _NO_DEFAULT:
            return value
        if default is _NO_DEFAULT:
            raise _Refused(f"globals key {name!r} not found and no default given")
        return default

    def runtime_params(name: str, default: Any = _NO_DEFAULT) -> Any:
        if default is _NO_DEFAULT:
            raise _Refused(f"runtime_params:{name} has no default, and only `kedro run --params` gives one")
        return default

    return {
        "oc.env": env,
        "globals": globals_,
        "runtime_params": runtime_params,
        "km.random_name": lambda *_: RANDOM_NAME,
    }


@contextmanager
def _resolvers(table: Mapping[str, Callable[..., Any]]) -> Iterator[None]:
    from omegaconf.basecontainer import BaseContainer

    saved = dict(BaseContainer._resolvers)
    BaseContainer._resolvers.clear()  # only these: anything else is refused by name
    try:
        from omegaconf import OmegaConf

        register = getattr(OmegaConf, "register_resolver", None)  # OmegaConf >= 2.4; before: register_new_resolver
        for name, function in table.items():
            if register is not None:
                register(name, _refusing(function), annotation_validation="off")
            else:  # pragma: no cover (OmegaConf < 2.4)
                OmegaConf.register_new_resolver(name, _refusing(function))
        yield
    finally:
        BaseContainer._resolvers.clear()
        BaseContainer._resolvers.update(saved)


def _refusing(function: Callable[..., Any]) -> Callable[..., Any]:
    def called(*args: Any) -> Any:
        try:
            return function(*args)
        except _Refused as exc:
            from omegaconf.errors import InterpolationResolutionError

            raise InterpolationResolutionError(str(exc)) from None

    return called


def _random_names(value: Any, folder: Folder, top: str) -> Any:
    """``${km.random_name:}`` alone says nothing; inside other text it cannot stand for MLflow's name."""
    if isinstance(value, dict):
        return {k: _random_names(v, folder, top) for k, v in value.items()}
    if isinstance(value, list):
        return [_random_names(item, folder, top) for item in value]
    if value == RANDOM_NAME:
        return None
    if isinstance(value, str) and RANDOM_NAME in value:
        raise ConfigError(
            f"{folder.owner[top]}: `{top}`: ${{km.random_name:}} inside other text",
            hint="write it alone, so that MLflow picks the name, or write a name",
        )
    return value


def _error(folder: Folder, exc: Any, unset: list[str]) -> ConfigError:
    full_key = str(getattr(exc, "full_key", "") or "")
    top = re.split(r"[.\[]", full_key, maxsplit=1)[0]
    path = folder.owner.get(top)
    written = _written(folder.data, full_key)
    line = _line_of(path, written) if path is not None and written else None
    where = f"{path}:{line}" if line else str(path or next(iter(folder.owner.values()), "conf"))
    reason = str(getattr(exc, "msg", "") or type(exc).__name__).splitlines()[0]
    if type(exc).__name__ == "UnsupportedInterpolationType":
        reason = f"layered-mlflow evaluates only {EVALUATED}"
    message = f"{where}: `{full_key}`: cannot evaluate {written or '${…}'}: {reason}"
    if unset:
        name = unset[-1]
        hint = f"set {name} in the environment or .env, or give it a default: ${{oc.env:{name},default}}"
        return UnsetVariable(where, message, hint, name)
    return ConfigError(message, hint="write the value itself, or an expression Kedro and layered-mlflow both evaluate")


def _written(data: Any, full_key: str) -> str | None:
    """The text of ``full_key`` as the file wrote it (its ``${…}``)."""
    value = data
    for part in re.findall(r"[^.\[\]]+", full_key):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value if isinstance(value, str) else None


def _line_of(path: Path, written: str) -> int | None:
    lines = text_of(path).splitlines()
    return next((n for n, line in enumerate(lines, 1) if written in line), None)
