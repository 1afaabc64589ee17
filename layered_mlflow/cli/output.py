"""Writing a command's output on stdout, and ending as well-behaved tools do when that fails.

A reader that went away (`show | head -c0`) ends the command as it ends
`cat`: killed by SIGPIPE, silently (a shell shows 141). Any other failure
(`show > /dev/full`, stdout closed) is one line on stderr and exit 2.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import NoReturn, TextIO

from layered_mlflow.errors import escaped

# click.echo's (click/_compat.py, `_ansi_re`): escape sequences reach a terminal, not a pipe or a file.
# `show` and `env` print without importing click (a tenth of their start), so that write() is click.echo.
ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")


class Failed(Exception):
    """Writing stdout failed; not an OSError, which click would turn into a silent exit 1."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror)
        self.error = error


def write(text: str | bytes, nl: bool = True) -> None:
    """Write ``text`` on stdout; a failure raises Failed.

    Text is a report for people: a key or a file name holding an escape sequence is shown, not obeyed.
    Bytes are a format for programs (`env`'s), written exactly.
    """
    if sys.stdout is None:  # started with stdout closed (`>&-`)
        raise Failed(OSError(errno.EBADF, os.strerror(errno.EBADF)))
    try:
        echo(escaped(text, keep="\n\t") if isinstance(text, str) else text, nl)
    except OSError as exc:
        raise Failed(exc) from None


def echo(text: str | bytes, nl: bool = True, err: bool = False) -> None:
    """What ``click.echo(text, nl=nl, err=err)`` writes, without importing click where it would change nothing."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # started with it closed: click.echo says nothing either
        return
    binary = getattr(stream, "buffer", None)
    if isinstance(text, bytes) and binary is not None:
        stream.flush()
        binary.write(text + b"\n" if nl else text)
        binary.flush()
        return
    if isinstance(text, str) and not _is_ascii(getattr(stream, "encoding", None)):  # click rewraps ASCII ones
        out = text + "\n" if nl else text
        stream.write(out if _is_terminal(stream) or _is_jupyter(stream) else ANSI.sub("", out))
        stream.flush()
        return
    import click

    click.echo(text, nl=nl, err=err)


def _is_ascii(encoding: str | None) -> bool:
    try:
        return codecs.lookup(encoding or "ascii").name == "ascii"
    except LookupError:
        return False


def _is_jupyter(stream: TextIO) -> bool:
    return type(stream).__module__.startswith("ipykernel.")  # click leaves a notebook's output its colours


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except Exception:  # as click asks: a stream that cannot say is no terminal
        return False


def failed(error: OSError, fail: Callable[[str, str | None, int], NoReturn]) -> NoReturn:
    """End the process after ``error``; ``fail`` prints the one-line error and exits."""
    if sys.stdout is not None:
        with contextlib.suppress(OSError, ValueError):  # the interpreter's last flush must not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if isinstance(error, BrokenPipeError):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
        sys.exit(128 + signal.SIGPIPE)  # where the signal cannot kill (PID 1 of a container)
    fail(f"cannot write the output: {error.strerror}", None, 2)
