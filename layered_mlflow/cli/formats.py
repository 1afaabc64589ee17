"""The formats of `env` (SPEC §7): the variables `run` sets, quoted for where they are going."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError, shown
from layered_mlflow.keys import variable_name
from layered_mlflow.secrets.masking import Secrets

if TYPE_CHECKING:
    from layered_mlflow.resolution.resolve import Resolved


def render(fmt: str, resolved: Resolved, secrets: Secrets, show_secrets: bool) -> str:
    """The variables `run` sets, written in format ``fmt``, ``secrets`` masked unless ``show_secrets``.

    ``shell`` also unsets what `run` removes (empty MLFLOW_*, X_FILE); the
    other formats can only set variables.
    """
    unset = resolved.unset if fmt == "shell" else ()
    if fmt != "json":
        refuse_names(fmt, [*resolved.variables, *unset], resolved)
    if fmt == "docker":
        # On the real values: whether the output works must not depend on --show-secrets.
        _refuse_line_breaks(resolved.variables)
    text = FORMATS[fmt](secrets.variables(resolved.variables, show_secrets))
    return "".join(f"unset {name}\n" for name in unset) + text


# A name a line-based format writes as it is: one line, no quote, no comment, no `=` or heredoc `<<` in it.
_LINE_NAME = re.compile(r"[^\s=#'\"<]+")


def refuse_names(fmt: str, names: Iterable[str], resolved: Resolved) -> None:
    """Exit 2 on a name ``fmt`` cannot write verbatim: printed, it would be code (shell) or another line.

    The hint names where the name was written (a settings file, `.env`, or the environment).
    """
    for name in names:
        fits = keys.is_variable_name(name) if fmt == "shell" else name.isprintable() and _LINE_NAME.fullmatch(name)
        if not fits:
            what = "a shell variable name" if fmt == "shell" else f"a name --format {fmt} can write"
            other = "dotenv or json" if fmt == "shell" else "json"
            raise ConfigError(
                f"{name!r} is not {what}, so --format {fmt} cannot set it",
                hint=f"rename it in {_written_in(resolved, name)}, or use --format {other}",
            )


def json_text(document: Any, indent: int | None = None) -> str:
    """JSON that is valid UTF-8 whatever the values: bytes that were not UTF-8, and the control characters
    JSON leaves raw (DEL, C1: a terminal obeys CSI), become \\u escapes."""
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    # Only a string can hold a lone surrogate (an undecodable byte) or a control character, so escaping
    # them keeps the JSON valid.
    return re.sub("[\ud800-\udfff\x7f-\x9f]", lambda found: f"\\u{ord(found.group()):04x}", text)


def dotenv(variables: Mapping[str, str]) -> str:
    """python-dotenv syntax, one line a variable: what `dotenv_values` and `--env-file` read back exactly."""
    return "\n".join(f'{name}="{_dotenv_quoted(value)}"' for name, value in variables.items())


def _dotenv_quoted(value: str) -> str:
    # Escaped line breaks keep one line a variable, and survive the newline
    # translation of a file opened as text (a raw `\r` would not).
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    # python-dotenv expands `${NAME}` inside quotes too and has no escape for `$`.
    # `${:-$}` is a variable with no name, so always its default `$`: `${` stays literal.
    return escaped.replace("${", "${:-$}{")


def _written_in(resolved: Resolved, name: str) -> str:
    """The file (or the environment) that set the variable ``name``."""
    for setting in resolved.settings.values():
        if variable_name(setting.key) == name and setting.source != name:  # the environment's source is the name
            return shown(resolved.relative(setting.source))
    return "the environment"


def shell(variables: Mapping[str, str]) -> str:
    """`export NAME='VALUE'` lines that `eval` or `.` in a POSIX shell set exactly, whatever the value.

    The names are valid ones: `render` refuses the others first, naming where they were written.
    """
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items())


def json_object(variables: Mapping[str, str]) -> str:
    return json_text(dict(variables), indent=2)


def docker(variables: Mapping[str, str]) -> str:
    """Docker's `--env-file`: `NAME=VALUE` taken verbatim (quotes would stay quotes), one line each."""
    return "\n".join(f"{name}={value}" for name, value in variables.items())


def _refuse_line_breaks(variables: Mapping[str, str]) -> None:
    for name, value in variables.items():
        if "\n" in value or "\r" in value:
            raise ConfigError(
                f"{name} holds a line break, which Docker's --env-file cannot carry",
                hint=f"use --format dotenv or json, or mount the value as a file and pass {name}_FILE",
            )


def github(variables: Mapping[str, str]) -> str:
    """`$GITHUB_ENV` syntax: `NAME=VALUE`, or `NAME<<DELIMITER` lines for a value with line breaks."""
    lines = []
    for name, value in variables.items():
        if "\n" in value or "\r" in value:
            delimiter = _delimiter(value)
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "\n".join(lines)


def _delimiter(value: str) -> str:
    # Random, as GitHub advises: a value must not be able to end its own heredoc early.
    import secrets  # here, not at start-up: it costs `run` 8 ms

    while True:
        delimiter = f"LAYERED_MLFLOW_EOF_{secrets.token_hex(16)}"
        if delimiter not in value:
            return delimiter


FORMATS: Mapping[str, Callable[[Mapping[str, str]], str]] = {
    "dotenv": dotenv,
    "shell": shell,
    "json": json_object,
    "docker": docker,
    "github": github,
}
