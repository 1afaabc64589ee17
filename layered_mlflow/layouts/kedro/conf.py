"""A Kedro ``conf/`` folder read as Kedro's OmegaConfigLoader reads it (SPEC §10).

Each folder's files are merged (a top-level key in two files is an error),
its ``${…}`` evaluated by OmegaConf, and then base and the environment merged
by the loader's strategy. The top-level key remembers its file, so every
value can name the exact file it came from.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from layered_mlflow.errors import ConfigError
from layered_mlflow.sources import cache, reading, settings_file, yaml_limits

EXTENSIONS = (".yml", ".yaml", ".json")
# Kedro's and kedro-mlflow's patterns (kedro/config/omegaconf_config.py, kedro_mlflow/framework/hooks).
PATTERNS: Mapping[str, tuple[str, ...]] = {
    "mlflow": ("mlflow*", "mlflow*/**", "**/mlflow*"),
    "credentials": ("credentials*", "credentials*/**", "**/credentials*"),
    "globals": ("globals.yml",),
}


class Folder(NamedTuple):
    """One folder's files of one kind, merged: the data, and which file holds each top-level key."""

    data: dict[str, Any]
    owner: dict[str, Path]


def files(folder: Path, patterns: Sequence[str]) -> list[Path]:
    """The files ``patterns`` match in ``folder``, as Kedro finds them: hidden ones ignored, sorted."""
    found: set[Path] = set()
    for pattern in patterns:
        # pathlib's trailing `**` matches only folders; fsspec's, as Kedro globs, matches their files too.
        for path in folder.glob(f"{pattern}/*" if pattern.endswith("**") else pattern):
            hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
            if path.suffix in EXTENSIONS and not hidden and path.is_file():
                found.add(path)
    return sorted(found)


def text_of(path: Path) -> str:
    """A file of ``conf/`` read as a ``settings/`` file is: bounded, regular, UTF-8 text."""
    return settings_file.decoded(path, reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT))


def read_folder(paths: Sequence[Path], environ: Mapping[str, str]) -> Folder:
    """The files' top-level mappings merged; the same top-level key in two files is an error, as in Kedro.

    Each file's parse comes from the cache of parsed files when it holds that file's bytes (``environ`` says
    where the cache is, or that it is off), as a ``settings/`` file's does.
    """
    data: dict[str, Any] = {}
    owner: dict[str, Path] = {}
    for path in paths:
        loaded = cache.read_through(path, environ, cache.KEDRO, functools.partial(_parse, path))
        for key, value in loaded.items():
            if key in owner:
                raise ConfigError(
                    f"{owner[key]} and {path} both set the top-level key `{key}`",
                    hint="Kedro refuses it too: keep it in one file of the folder",
                )
            data[key], owner[key] = value, path
    # Kedro drops top-level keys that start with `_` (its YAML anchors' home).
    return Folder({k: v for k, v in data.items() if not k.startswith("_")}, owner)


def _parse(path: Path, data: bytes) -> tuple[dict[str, Any], bool]:
    """The file's mapping, and that nothing in it was evaluated from outside the file, for the cache."""
    return _load(path, data), False


def _load(path: Path, data: bytes) -> dict[str, Any]:
    """One file's top-level mapping, within the bounds a ``settings/`` file has (``yaml_limits.py``).

    It depends on the bytes alone (``${…}`` is evaluated later, on the merged folders): it may be cached.
    """
    text = settings_file.decoded(path, data)
    yaml_limits.refuse_deep_nesting(path, text)  # first: the parsers' cost grows with the square of it
    try:
        loaded = _json(path, text) if path.suffix == ".json" else _yaml(path, text)
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply", hint="flatten the structure") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    keyed: dict[str, Any] = _keyed(loaded, path)
    return keyed


def _json(path: Path, text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError as exc:  # JSONDecodeError
        raise ConfigError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None  # type: ignore[attr-defined]
    except RecursionError:
        raise ConfigError(f"{path}: the JSON is nested too deeply", hint="flatten the structure") from None


def _yaml(path: Path, text: str) -> Any:
    """The document, composed first so that its size and depth are bounded before a value is built."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
        yaml_limits.refuse_expansion(path, root)
        return None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise settings_file.yaml_error(path, text, exc) from None
    finally:
        loader.dispose()


def _keyed(value: Any, path: Path, name: str = "") -> Any:
    """Every key as text, as a ``settings/`` file's are (``1: x`` names the key "1"); depth is bounded already.

    YAML's ``!!binary`` is refused as in a ``settings/`` file: no variable holds bytes.
    """
    if isinstance(value, dict):
        return {str(key): _keyed(item, path, f"{name}.{key}" if name else str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_keyed(item, path, name) for item in value]
    if isinstance(value, bytes):
        raise ConfigError(
            f"{path}: `{name}` is binary data (!!binary), which no environment variable can hold",
            hint="write the value as text, without !!binary",
        )
    return value


def merged(base: Mapping[str, Any], env: Mapping[str, Any], soft: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Base as it survives under the environment, and the environment: Kedro's destructive or soft merge.

    Destructive: the environment replaces base's top-level keys whole. Soft: deeply, the
    environment's word (null included) replaces base's, mapping by mapping.
    """
    if not soft:
        return {k: v for k, v in base.items() if k not in env}, dict(env)
    return _pruned(base, env), dict(env)


def _pruned(base: Mapping[str, Any], env: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in base.items():
        if key not in env:
            kept[key] = value
        elif isinstance(value, Mapping) and isinstance(env[key], Mapping):
            kept[key] = _pruned(value, env[key])
    return kept


def combined(base: Mapping[str, Any], env: Mapping[str, Any], soft: bool) -> dict[str, Any]:
    """The one mapping Kedro's loader returns for a kind of file."""
    kept, over = merged(base, env, soft)
    return _deep(kept, over)


def _deep(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep(out[key], value)
        else:
            out[key] = value
    return out


def holds_interpolation(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, Mapping):
        return any(holds_interpolation(k) or holds_interpolation(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_interpolation(item) for item in value)
    return False
