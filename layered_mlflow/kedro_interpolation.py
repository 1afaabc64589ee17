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
from layered_mlflow.kedro_conf import Folder, text_of

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

    unset: list[str] = []  # the variable an ${oc.env:…} lacked, when that is why evaluation stopped
    with _resolvers(_resolver_table(environ, globals_data, unset)):
        try:
            data = OmegaConf.to_container(OmegaConf.create(folder.data), resolve=True)
        except OmegaConfBaseException as exc:
            raise _error(folder, exc, unset) from None
    assert isinstance(data, dict)  # noqa: S101 (OmegaConf gives back the mapping it was given)
    return {str(k): _random_names(v, folder, str(k)) for k, v in data.items()}


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
