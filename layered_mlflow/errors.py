"""The error hierarchy: every error knows the exit code it ends the command with."""

from __future__ import annotations


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


def shown(text: str) -> str:
    """``text`` as a message may echo it: as it is when printable, else quoted, escaped, on one line."""
    return text if text.isprintable() else repr(text)


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
