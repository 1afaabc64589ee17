"""How the console script starts and ends, whichever parser read its command line (SPEC §8).

Both parsers (``launch``'s by hand, click's in ``main``) prepare the process here and end it through
``failed``: one line on stderr, ``layered-mlflow: error: …``, the exit code of the error's kind.
"""

from __future__ import annotations

import io
import os
import sys
from typing import NoReturn

from layered_mlflow.errors import LayeredMlflowError, one_line, with_hint
from layered_mlflow.secrets.masking import Secrets, environment_secrets, scrubbed

PROG = "layered-mlflow"
DEBUG_VARIABLE = "LAYERED_MLFLOW_DEBUG"


def prepare() -> None:
    """What every start needs: output that passes any bytes through."""
    for stream in (sys.stdout, sys.stderr):
        # A variable may hold any bytes (not UTF-8): print them back as they came in.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")


def failed(error: BaseException) -> NoReturn:
    """End with ``error`` as SPEC §8 says: one line on stderr, the exit code of its kind."""
    from layered_mlflow.cli import output

    if isinstance(error, LayeredMlflowError):  # the settings' own errors: no click to say them
        _traceback_when_debugging(error)
        fail(error.message, error.hint, error.exit_code)
    if isinstance(error, output.Failed):
        output.failed(error.error, fail)
    if isinstance(error, KeyboardInterrupt):
        fail("interrupted", None, 130)  # as click reports its Abort
    import click  # only the errors of click's command line need it

    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        click.echo(error.ctx.get_help() if error.ctx else error.format_message(), err=True)  # no command: the help
        sys.exit(2)
    if isinstance(error, click.UsageError):
        where = error.ctx.command_path if error.ctx else PROG
        fail(error.format_message(), f"see '{where} --help'", error.exit_code)
    if isinstance(error, click.ClickException):
        fail(error.format_message(), None, error.exit_code)
    if isinstance(error, click.Abort):
        fail("interrupted", None, 130)
    _traceback_when_debugging(error)
    fail(f"internal error ({type(error).__name__})", f"rerun with {DEBUG_VARIABLE}=1 and report the traceback", 70)


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """End with one line on stderr, ``layered-mlflow: error: …``, and exit ``code`` (SPEC §8)."""
    from layered_mlflow.cli import output

    # Whatever a message echoes is quoted where it is built (errors.shown); this is the last guard. A name or
    # value it quotes may be made from a secret of the environment (ENV_FOR_DYNACONF=$MLFLOW_TRACKING_PASSWORD).
    known = Secrets(values=scrubbed(environment_secrets(os.environ)))
    line = known.scrub_values(one_line(with_hint(message, hint)))
    output.echo(f"{PROG}: error: {line}", err=True)
    sys.exit(code)


def say(message: str) -> None:
    """One line on stderr, if there is a stderr (started with it closed, `2>&-`, there is none)."""
    if sys.stderr is not None:
        sys.stderr.write(f"{PROG}: {one_line(message)}\n")
        sys.stderr.flush()


def _traceback_when_debugging(error: BaseException) -> None:
    """With LAYERED_MLFLOW_DEBUG=1, the traceback of ``error``, before its line: nothing else changes."""
    if os.environ.get(DEBUG_VARIABLE) == "1":
        import traceback

        traceback.print_exception(error)
