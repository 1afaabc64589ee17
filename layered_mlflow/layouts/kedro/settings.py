"""A Kedro project's marker and its ``settings.py``, read as text and syntax tree, never imported (SPEC §10).

Only literal values are taken (``literals.py``); anything else is
assumed, and `check` says what was assumed.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from layered_mlflow.errors import ConfigError, shown
from layered_mlflow.layouts.kedro import conf as kedro_conf
from layered_mlflow.layouts.kedro import literals as kedro_literals
from layered_mlflow.sources import cache, reading
from layered_mlflow.sources.cache import NO_CACHE


class KedroSettings(NamedTuple):
    package: str | None = None  # kedro-mlflow's experiment when the files name none
    conf_source: str = "conf"
    base_env: str = "base"
    default_run_env: str = "local"
    merge_strategy: Mapping[str, str] = MappingProxyType({})
    patterns: Mapping[str, tuple[str, ...]] = kedro_conf.PATTERNS
    resolvers: frozenset[str] = frozenset()  # the names custom_resolvers registers (`oc.env`)
    assumed: tuple[tuple[str, str], ...] = ()  # (what could not be read, the hint): `check` warnings

    def soft(self, kind: str) -> bool:
        return self.merge_strategy.get(kind) == "soft"


def _tool_kedro(folder: Path, environ: Mapping[str, str]) -> dict[str, Any] | None:
    """``[tool.kedro]`` of ``folder``'s ``pyproject.toml``; one that is no regular file (a FIFO, a device,
    too large to be one) is an error naming it, never a hang nor a guess at which folder is the project.

    Read through the cache of parsed files (``environ`` says where it is), so that a warm start imports no
    TOML parser."""
    path = folder / "pyproject.toml"
    if not os.path.exists(path):
        return None
    try:
        table: dict[str, Any] | None = cache.read_through(path, environ, cache.PYPROJECT, _table_of)["kedro"]
    except ConfigError as exc:
        raise ConfigError(
            exc.message, hint="make it a regular file, or name the project folder with --project-dir"
        ) from None
    return table


def _table_of(data: bytes) -> tuple[dict[str, Any], bool]:
    """``{"kedro": [tool.kedro] or None}`` of a ``pyproject.toml``'s bytes (the cache's form), from them alone."""
    return {"kedro": _parsed_tool_kedro(data)}, False


@functools.lru_cache(maxsize=4)
def _parsed_tool_kedro(data: bytes) -> dict[str, Any] | None:
    """``[tool.kedro]`` of a ``pyproject.toml``: parsed once per process (discovery asks at each folder, and the
    layout again), keyed by the bytes themselves, so never stale. Callers only read the table."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "tool.kedro" not in text and "[tool]" not in text:  # most pyproject.toml files: no parse
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover (Python 3.10)
        import tomli as tomllib
    try:
        table = tomllib.loads(text).get("tool", {}).get("kedro")
    except tomllib.TOMLDecodeError:
        return None
    return table if isinstance(table, dict) else None


def is_kedro_project(folder: Path, environ: Mapping[str, str] = NO_CACHE) -> bool:
    return _tool_kedro(folder, environ) is not None


def read(root: Path, environ: Mapping[str, str] = NO_CACHE) -> KedroSettings:
    """The project's settings: its ``settings.py`` literals over Kedro's defaults.

    ``settings.py`` is read as any settings file is (``reading.py``): a FIFO, a
    device or a huge file is an error naming it, never a hang.
    """
    table = _tool_kedro(root, environ) or {}
    package, source_dir = table.get("package_name"), table.get("source_dir", "src")
    if not isinstance(package, str):
        return KedroSettings()
    pyproject = root / "pyproject.toml"
    source = root / _inside(root, pyproject, "[tool.kedro] source_dir", str(source_dir))
    path = source / _inside(source, pyproject, "[tool.kedro] package_name", package) / "settings.py"
    if not os.path.lexists(path):
        return KedroSettings(package)
    text = reading.read_text(path, str(path), reading.SETTINGS_LIMIT)
    import ast

    try:
        tree = ast.parse(text, str(path))
    except (SyntaxError, ValueError):  # Kedro cannot import it either, and says so
        return KedroSettings(package)
    except (RecursionError, MemoryError):
        raise ConfigError(
            f"{path}: nested too deeply for Python to read it", hint="Python cannot run it either: simplify it"
        ) from None
    settings = _settings(package, kedro_literals.read(tree, path.relative_to(root)))
    conf = _inside(root, path, "CONF_SOURCE", settings.conf_source)
    for what in ("base_env", "default_run_env"):
        _inside(root / conf, path, f"CONFIG_LOADER_ARGS[{what!r}]", getattr(settings, what))
    return settings


def _inside(root: Path, written_in: Path, what: str, relative: str) -> str:
    """``relative``, a folder that must stay inside ``root`` (``..`` and absolute paths leading out are refused)."""
    if "\x00" in relative:
        raise ConfigError(f"{written_in}: {what} holds a NUL character", hint="name a folder of the project")
    if not Path(os.path.normpath(root / relative)).is_relative_to(root):
        raise ConfigError(
            f"{written_in}: {what} {shown(repr(relative))} leads outside {shown(str(root))}/",
            hint="layered-mlflow reads configuration inside the project alone: name a folder inside it",
        )
    return relative


def _settings(package: str, literals: kedro_literals.Literals) -> KedroSettings:
    loader = literals.loader
    patterns = dict(kedro_conf.PATTERNS)
    written_patterns = loader.get("config_patterns")
    for kind, written in written_patterns.items() if isinstance(written_patterns, Mapping) else ():
        if kind in patterns and isinstance(written, (list, tuple)):
            patterns[kind] = tuple(str(p) for p in written)
    strategy = loader.get("merge_strategy")
    resolvers = loader.get("custom_resolvers")
    return KedroSettings(
        package=package,
        conf_source=literals.conf_source,
        base_env=str(loader.get("base_env") or ""),  # "": conf/ itself, as Kedro's `base_env or ""`
        default_run_env=str(loader.get("default_run_env") or ""),  # "": base alone
        merge_strategy=dict(strategy) if isinstance(strategy, Mapping) else {},
        patterns=patterns,
        resolvers=frozenset(map(str, resolvers)) if isinstance(resolvers, Mapping) else frozenset(),
        assumed=literals.assumed,
    )
