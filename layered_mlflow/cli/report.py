"""Rendering a resolved result for people (text) and programs (JSON): ``show``, ``run --dry-run``."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from layered_mlflow import keys
from layered_mlflow.cli.formats import json_text
from layered_mlflow.errors import escaped
from layered_mlflow.keys import Value
from layered_mlflow.layouts.base import root_note
from layered_mlflow.resolution import precedence
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import Secrets, secrets_of
from layered_mlflow.server import command as server
from layered_mlflow.sources.layers import Setting


def show_json(resolved: Resolved, show_secrets: bool) -> str:
    secrets = secrets_of(resolved)
    document: dict[str, Any] = {
        "environment": resolved.environment or None,  # null: none named (Kedro reads base alone)
        "environment_source": resolved.environment_source,
        "root": str(resolved.root),
        "files": [str(path) for path in resolved.files],
        "settings": {
            name: {
                "value": _jsonable(_masked(secrets, name, s.value, show_secrets)),
                "layer": s.layer,
                "source": s.source,
                # Its name, or a password or key inside it (a URI's, a connection string's): SPEC §13.
                "secret": name not in keys.NAME_LISTS
                and (secrets.is_secret(name) or _masked(secrets, name, s.value, False) != s.value),
            }
            for name, s in resolved.settings.items()
        },
        "variables": secrets.variables(resolved.variables, show_secrets),
    }
    return json_text(document, indent=2)


def show_text(resolved: Resolved, show_secrets: bool) -> str:
    secrets = secrets_of(resolved)
    files = [resolved.relative(str(path)) for path in resolved.files] or ["(none: built-in defaults only)"]
    lines = [
        f"environment  {resolved.environment_shown}  (from {resolved.environment_source})",
        f"root         {escaped(str(resolved.root))}" + (f"  ({note})" if (note := root_note(resolved.layout)) else ""),
        f"files        {files[0]}",
        *(f"             {name}" for name in files[1:]),
        "",
    ]
    rows = [("KEY", "VALUE", "FROM")] + [
        (name, _text(_masked(secrets, name, s.value, show_secrets)), _origin(resolved, s))
        for name, s in resolved.settings.items()
    ]
    return "\n".join(lines + _table(rows))


def dry_run(resolved: Resolved, argv: Sequence[str], cwd: Path | None = None) -> str:
    """What `run --dry-run` prints: the variables (masked), the folder, and the command (secrets scrubbed)."""
    secrets = secrets_of(resolved)
    lines = [f"unset {shlex.quote(name)}" for name in resolved.unset]
    shown = secrets.variables(resolved.variables)
    # Scrubbed too: `server` hands an option holding a secret over in a variable named for the option.
    lines += [f"{shlex.quote(name)}={shlex.quote(secrets.scrub(value))}" for name, value in shown.items()]
    if cwd is not None:
        lines.append(f"cd {shlex.quote(str(cwd))}")
    # The argv may hold a URI's password, or a secret's value (`--token "$MLFLOW_TRACKING_TOKEN"`).
    lines.append(f"exec {shlex.join(secrets.scrub(arg) for arg in argv)}")
    return "\n".join(lines)


def _origin(resolved: Resolved, setting: Setting) -> str:
    if setting.layer == precedence.DERIVED.name:
        return f"{precedence.DERIVED.title} ({setting.source})"
    if setting.layer == precedence.DEFAULT.name:
        return setting.source
    return resolved.relative(setting.source)


def _text(value: Value) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    # One row a key: a multi-line value shows its newlines escaped.
    return "" if value is None else value.replace("\r", "\\r").replace("\n", "\\n")


def _jsonable(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Aligned columns, two spaces apart; the last column is not padded."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in rows
    ]


class _Explained(NamedTuple):
    setting: Setting | None  # the winner, or the default that applies; None: MLflow's own default
    history: tuple[Setting, ...]  # every layer's word, highest first (our default last, where one applies)
    winner: int | None  # the index in history of the winning word
    defaulted: bool  # no layer sets it: our default applies


def _explained(resolved: Resolved, name: str) -> _Explained:
    setting = resolved.settings.get(name)
    history = resolved.history.get(name, ())
    section, _, server_key = name.partition(".")
    default = server.default(resolved, server_key) if section == "server" else None
    if default is not None:
        # Ours, not MLflow's: shown as the lowest layer, as the built-in mlflow_tracking_uri is.
        fallback = Setting((section, server_key), default, precedence.DEFAULT.name, precedence.DEFAULT.title)
        history = (*history, fallback)
    defaulted = setting is None and default is not None
    if defaulted:
        setting = fallback
    # The winner is the highest layer's non-empty word (a layer may speak twice: --set, --set).
    winner = next((i for i, c in enumerate(history) if not keys.is_empty(c.value)), None) if setting else None
    return _Explained(setting, history, winner, defaulted)


def explain_text(resolved: Resolved, name: str, show_secrets: bool) -> str:
    """Every layer's value for one key, highest first, the winner marked."""
    secrets = secrets_of(resolved)
    setting, history, winner, defaulted = _explained(resolved, name)
    if setting is not None and defaulted:
        head = f"{name} = {_text(setting.value)}\n  {_use(setting)}; no layer sets it, so the default applies"
    elif setting is None:
        owner = "`mlflow server`'s" if name.partition(".")[0] == "server" else "MLflow's"
        head = f"{name} is not set by any layer: {owner} own default applies"
    else:
        head = f"{name} = {_text(_masked(secrets, name, setting.value, show_secrets))}\n  {_use(setting)}"
    rows = [
        (
            f"{'*' if i == winner else ' '} {precedence.kind(c.layer).title}",
            resolved.relative(c.source),
            "(empty: says nothing)" if keys.is_empty(c.value) else _text(_masked(secrets, name, c.value, show_secrets)),
        )
        for i, c in enumerate(history)
    ]
    return "\n".join([head, *(f"  {line}" for line in _table(rows))])


def explain_json(resolved: Resolved, name: str, show_secrets: bool) -> str:
    """What explain_text says, for programs: the value, what it is for, and every layer's word, highest first."""
    secrets = secrets_of(resolved)
    setting, history, winner, defaulted = _explained(resolved, name)
    document = {
        "key": name,
        "value": None if setting is None else _jsonable(_masked(secrets, name, setting.value, show_secrets)),
        "set": setting is not None,  # false: no layer sets it and MLflow's (or `mlflow server`'s) own default applies
        "default": defaulted,  # true: no layer sets it and layered-mlflow's default applies
        "use": None if setting is None else _use(setting),
        "layers": [
            {
                "layer": c.layer,
                "title": precedence.kind(c.layer).title,
                "source": c.source,
                "value": _jsonable(_masked(secrets, name, c.value, show_secrets)),
                "empty": keys.is_empty(c.value),
                "wins": i == winner,
            }
            for i, c in enumerate(history)
        ],
    }
    return json_text(document, indent=2)


def _use(setting: Setting) -> str:
    """What the winning value is for."""
    exported = keys.variable_name(setting.key)
    if exported:
        return f"exported as {exported}"
    if setting.key[0] == "tags":
        return f"a tag of every run, in {keys.RUN_CONTEXT}"
    if setting.key[0] == "server":
        return "read by `layered-mlflow server` and `ui`"
    return _OWN_KEYS.get(setting.key[0], "not used by layered-mlflow (see `layered-mlflow check`)")


# layered-mlflow's own keys, which no variable spells: what each is for.
_OWN_KEYS = {
    "required": "names what must have a value before `run`, `server`, `ui`, `env` or configure() start",
    "secrets": "names more keys and variables whose values are masked (the names themselves are shown)",
    "token": "read by layered-mlflow's bearer-token provider (MLFLOW_TRACKING_AUTH=layered-mlflow)",
    "experiment": "given to the experiment `layered-mlflow experiment` and configure() create",
}


def _masked(secrets: Secrets, name: str, value: Value, show_secrets: bool) -> Value:
    """The value as it may be printed; `secrets` and `required` hold names, not values: shown."""
    if show_secrets or value is None or name in keys.NAME_LISTS:
        return value
    if isinstance(value, tuple):
        return tuple(secrets.mask(name, item) for item in value)
    return secrets.mask(name, value)
