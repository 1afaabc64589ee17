"""Notebooks (SPEC §15): ``%load_ext layered_mlflow`` configures the kernel; ``%layered_mlflow`` applies again.

``%layered_mlflow [--env NAME] [--set KEY=VALUE]... [--project-dir PATH]`` is a small command line of its own:
it applies the settings as a fresh ``configure()`` does and prints what `layered-mlflow show` prints (secrets
masked). It lives with the command line for that reason: it parses options and prints `show`'s report.
IPython itself is imported by the kernel, never by ``import layered_mlflow``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TYPE_CHECKING

from layered_mlflow.errors import LayeredMlflowError, with_hint
from layered_mlflow.integrations.configure import apply, configure

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

MAGIC = "layered_mlflow"


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext layered_mlflow``: the settings applied as ``configure()`` applies them, and the magic registered.

    Settings that do not resolve are one line on stderr, not a traceback: the magic is there to apply them
    once they are fixed.
    """
    ipython.magics_manager.register_function(layered_mlflow_magic, "line", MAGIC)
    try:
        configure()
    except LayeredMlflowError as exc:
        print(f"layered-mlflow: error: {with_hint(exc.message, exc.hint)}", file=sys.stderr)


def layered_mlflow_magic(line: str) -> None:
    """%layered_mlflow [--env NAME] [--set KEY=VALUE]... [--project-dir PATH]: apply the settings, print `show`."""
    from IPython.core.error import UsageError

    from layered_mlflow.cli import report

    try:
        options = _parser().parse_args(shlex.split(line))
        resolved = apply(options.env, options.project_dir, options.assignments, env_given_as="--env")
    except LayeredMlflowError as exc:
        raise UsageError(f"layered-mlflow: {with_hint(exc.message, exc.hint)}") from None
    except ValueError as exc:  # shlex: an unclosed quote
        raise UsageError(f"%{MAGIC}: {exc}") from None
    print(report.show_text(resolved, show_secrets=False))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse would exit the kernel
        from IPython.core.error import UsageError

        raise UsageError(f"%{MAGIC}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=f"%{MAGIC}", add_help=False)
    parser.add_argument("--env", metavar="NAME")
    parser.add_argument("--set", dest="assignments", metavar="KEY=VALUE", action="append", default=[])
    parser.add_argument("--project-dir", metavar="PATH")
    return parser
