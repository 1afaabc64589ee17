"""Rendering a resolved result for people (text) and programs (JSON): ``show``, ``run --dry-run``."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from layered_mlflow.keys import Value
from layered_mlflow.masking import mask, shown_variables
from layered_mlflow.resolve import Resolved, Setting

LAYER_TITLES = {
    "default": "built-in default",
    "base_file": "settings file",
    "env_file": "environment settings file",
    "local_file": "local settings file",
    "dotenv": ".env",
    "process_env": "environment variable",
    "command_line": "command line",
    "derived": "derived",
}


def shown(setting: Setting, show_secrets: bool) -> Value:
    """The value as it may be printed."""
    value = setting.value
    if show_secrets or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(mask(setting.name, item) for item in value)
    return mask(setting.name, value)


def source_of(resolved: Resolved, source: str) -> str:
    """A source for people: a path inside the project relative to its root."""
    path = Path(source)
    if path.is_absolute() and path.is_relative_to(resolved.root):
        return str(path.relative_to(resolved.root))
    return source


def show_json(resolved: Resolved, show_secrets: bool) -> str:
    document: dict[str, Any] = {
        "environment": resolved.environment,
        "environment_source": resolved.environment_source,
        "root": str(resolved.root),
        "files": [str(path) for path in resolved.files],
        "settings": {
            name: {"value": _jsonable(shown(s, show_secrets)), "layer": s.layer, "source": s.source}
            for name, s in resolved.settings.items()
        },
        "variables": shown_variables(resolved.variables, show_secrets),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def show_text(resolved: Resolved, show_secrets: bool) -> str:
    files = [source_of(resolved, str(path)) for path in resolved.files] or ["(none: built-in defaults only)"]
    lines = [
        f"environment  {resolved.environment}  (from {resolved.environment_source})",
        f"root         {resolved.root}",
        f"files        {files[0]}",
        *(f"             {name}" for name in files[1:]),
        "",
    ]
    rows = [("KEY", "VALUE", "FROM")] + [
        (name, _text(shown(s, show_secrets)), _origin(resolved, s)) for name, s in resolved.settings.items()
    ]
    return "\n".join(lines + _table(rows))


def dry_run(resolved: Resolved, argv: Sequence[str], show_secrets: bool = False) -> str:
    lines = [f"unset {name}" for name in resolved.unset]
    shown = shown_variables(resolved.variables, show_secrets)
    lines += [f"{name}={shlex.quote(value)}" for name, value in shown.items()]
    lines.append(f"exec {shlex.join(argv)}")
    return "\n".join(lines)


def _origin(resolved: Resolved, setting: Setting) -> str:
    if setting.layer in ("default", "derived"):
        return f"{LAYER_TITLES[setting.layer]} ({setting.source})" if setting.layer == "derived" else setting.source
    return source_of(resolved, setting.source)


def _text(value: Value) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    # One row a key: a multi-line value shows its newlines escaped.
    return "" if value is None else value.replace("\r", "\\r").replace("\n", "\\n")


def _jsonable(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _table(rows: Sequence[tuple[str, str, str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]
