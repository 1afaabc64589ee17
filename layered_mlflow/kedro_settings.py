"""A Kedro project's marker and its ``settings.py``, read as text and syntax tree, never imported (SPEC §10).

Only literal values are taken; anything else is assumed to be Kedro's default,
and `check` says what was assumed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from layered_mlflow import kedro_conf, reading
from layered_mlflow.errors import ConfigError

if TYPE_CHECKING:
    import ast

_LOADER_KEYS = ("base_env", "default_run_env", "merge_strategy", "config_patterns")


class KedroSettings(NamedTuple):
    package: str | None = None  # kedro-mlflow's experiment when the files name none
    conf_source: str = "conf"
    base_env: str = "base"
    default_run_env: str = "local"
    merge_strategy: Mapping[str, str] = MappingProxyType({})
    patterns: Mapping[str, tuple[str, ...]] = kedro_conf.PATTERNS
    assumed: tuple[tuple[str, str], ...] = ()  # (what could not be read, the hint): `check` warnings

    def soft(self, kind: str) -> bool:
        return self.merge_strategy.get(kind) == "soft"


def _tool_kedro(folder: Path) -> dict[str, Any] | None:
    """``[tool.kedro]`` of ``folder``'s ``pyproject.toml``; one that is no regular file (a FIFO, a device,
    too large to be one) is an error naming it, never a hang nor a guess at which folder is the project."""
    path = folder / "pyproject.toml"
    if not os.path.exists(path):
        return None
    try:
        text = reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT).decode("utf-8")
    except UnicodeDecodeError:
        return None
    except ConfigError as exc:
        raise ConfigError(
            exc.message, hint="make it a regular file, or name the project folder with --project-dir"
        ) from None
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


def is_kedro_project(folder: Path) -> bool:
    return _tool_kedro(folder) is not None


def read(root: Path) -> KedroSettings:
    """The project's settings: its ``settings.py`` literals over Kedro's defaults."""
    table = _tool_kedro(root) or {}
    package, source_dir = table.get("package_name"), table.get("source_dir", "src")
    if not isinstance(package, str):
        return KedroSettings()

    path = root / str(source_dir) / package / "settings.py"
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return KedroSettings(package)
    return _from_tree(tree, path, root)._replace(package=package)


def _from_tree(tree: ast.Module, path: Path, root: Path) -> KedroSettings:
    import ast

    shown = path.relative_to(root) if path.is_relative_to(root) else path
    found: dict[str, Any] = {}
    assumed: list[tuple[str, str]] = []

    def literal(node: ast.expr, what: str, default: str) -> Any:
        try:
            return ast.literal_eval(node)
        except ValueError:
            assumed.append((f"{shown}:{node.lineno}: {what} is not a literal; assumed {default}", _HINT))
            return None

    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        name = node.targets[0].id
        if name == "CONF_SOURCE":
            found["conf_source"] = literal(node.value, "CONF_SOURCE", "conf")
        elif name == "CONFIG_LOADER_ARGS" and isinstance(node.value, ast.Dict):
            # Written at all, it replaces Kedro's default whole: no base_env is conf/ itself, no run env.
            found.update(base_env="", default_run_env="")
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                written = ast.literal_eval(key) if isinstance(key, ast.Constant) else None
                if written in _LOADER_KEYS:
                    found[str(written)] = literal(value, f"CONFIG_LOADER_ARGS[{written!r}]", "Kedro's default")
        elif name == "CONFIG_LOADER_ARGS":
            literal(node.value, "CONFIG_LOADER_ARGS", "Kedro's defaults")
    return _settings({k: v for k, v in found.items() if v is not None}, tuple(assumed))


_HINT = "layered-mlflow reads settings.py without running it; write the value itself"


def _settings(found: Mapping[str, Any], assumed: tuple[tuple[str, str], ...]) -> KedroSettings:
    patterns = dict(kedro_conf.PATTERNS)
    for kind, written in (found.get("config_patterns") or {}).items():
        if kind in patterns and isinstance(written, (list, tuple)):
            patterns[kind] = tuple(str(p) for p in written)
    strategy = found.get("merge_strategy")
    return KedroSettings(
        conf_source=str(found.get("conf_source", "conf")),
        base_env=str(found.get("base_env", "base")),  # "": conf/ itself
        default_run_env=str(found.get("default_run_env", "local")),  # "": base alone
        merge_strategy=dict(strategy) if isinstance(strategy, Mapping) else {},
        patterns=patterns,
        assumed=assumed,
    )
