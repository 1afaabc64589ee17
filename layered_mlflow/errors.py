"""The error hierarchy: every error knows the exit code it ends the command with."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable


class LayeredMlflowError(Exception):
    """Base of every error layered-mlflow reports to its user.

    The message is one line, safe to print (it never holds a secret value);
    ``hint`` says what to do about it.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def with_hint(message: str, hint: str | None) -> str:
    """A message and its hint, as every message of the tool ends: ``… (hint: …)``."""
    return f"{message} (hint: {hint})" if hint else message


def did_you_mean(
    written: str, known: Iterable[str], cutoff: float = 0.6, spell: Callable[[str], str] = str
) -> str | None:
    """``did you mean x?`` for the known name closest to ``written``, if one is close; ``spell`` writes it."""
    import difflib  # here: only an error or a warning needs it, and `run` starts without

    close = difflib.get_close_matches(written, list(known), n=1, cutoff=cutoff)
    return f"did you mean {spell(close[0])}?" if close else None


def shown(text: str) -> str:
    """``text`` as a message may echo it: as it is when printable, else quoted, escaped, on one line."""
    return text if text.isprintable() else repr(text)


# C0 and C1 control characters: a terminal takes them (ESC, CSI, BEL) as commands, not text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def escaped(text: str, keep: str = "") -> str:
    """``text`` with each control character but those in ``keep`` written as ``\\xNN``: nothing a terminal obeys."""
    return _CONTROL.sub(lambda found: found.group() if found.group() in keep else f"\\x{ord(found.group()):02x}", text)


def one_line(text: str) -> str:
    """``text`` as one printable line of stderr: line breaks become spaces, other control characters escapes."""
    return escaped(" ".join(text.splitlines()))


class ConfigError(LayeredMlflowError):
    """The settings cannot be loaded: a bad file, value, name or environment."""


class UsageError(LayeredMlflowError):
    """The command line is malformed (a bad ``--set``, a missing path)."""


class WouldOverwrite(LayeredMlflowError):
    """``init``: a file it would write exists, and ``--force`` was not given."""

    exit_code = 1


class InsideAProject(LayeredMlflowError):
    """``init``: the working directory is inside a project already; ``--project-dir`` nests one on purpose."""

    exit_code = 1


class CommandNotFound(LayeredMlflowError):
    """``run``: the command does not exist on ``PATH``."""

    exit_code = 127


class CommandNotExecutable(LayeredMlflowError):
    """``run``: the command exists but cannot be executed."""

    exit_code = 126
