"""The console script: `run`'s common command line parsed by hand, every other by click.

`run` starts every job, and importing click is about a tenth of its start. Its
plain form (global options each written in full, then ``run``, ``--`` or not,
and the command) is parsed here and goes through the very steps of the click
command (``options.checked`` and ``options.start``); anything else (``--help``,
``--dry-run``, ``-vq``, a value that looks like an option, shell completion, a
mistake) goes to click, so that its messages are click's. A differential test
holds this parser to click's over a table and generated command lines.
"""

from __future__ import annotations

import gc
import io
import os
import sys
from typing import Any, NoReturn

DEBUG_VARIABLE = "LAYERED_MLFLOW_DEBUG"
_VALUED = {"--env": "env", "--project-dir": "project_dir", "--env-file": "env_files", "--set": "assignments"}
_FLAGS = {"-v": "verbose", "--verbose": "verbose", "-q": "quiet", "--quiet": "quiet"}
_REPEATED = ("env_files", "assignments")
_COMPLETION_VARIABLE = "_LAYERED_MLFLOW_COMPLETE"  # click's shell completion: it answers, not `run`


def main() -> NoReturn:
    """``layered-mlflow``: the plain `run` without click, else the full command line."""
    gc.disable()  # a short-lived process whose data hold no cycles to speak of: collections are pure cost
    prepare()
    argv = sys.argv[1:]
    parsed = None if _COMPLETION_VARIABLE in os.environ else plain_run(argv)
    if parsed is None:
        from layered_mlflow.cli import main as full

        full(argv)
    from layered_mlflow.options import Options, checked, start
    from layered_mlflow.runner import inherited_environment

    fields, command = parsed
    try:
        options = Options(environ=inherited_environment(), **fields)
        start(options, checked(options), command)
    except KeyboardInterrupt:
        import click

        from layered_mlflow.cli import failed

        failed(click.Abort(), argv)  # as click reports it: `interrupted`, 130
    except Exception as exc:
        from layered_mlflow.cli import failed

        failed(exc, argv)


def prepare() -> None:
    """What every start needs: Dynaconf loaded lean, and output that passes any bytes through."""
    from layered_mlflow import settings_files

    settings_files.lean_imports = True
    for stream in (sys.stdout, sys.stderr):
        # A variable may hold any bytes (not UTF-8): print them back as they came in.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")


def plain_run(argv: list[str]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The global options and the command of ``argv``, if it is a plain `run`; else None (click parses it)."""
    fields: dict[str, Any] = {"env": None, "project_dir": None, "env_files": (), "assignments": ()}
    fields.update(verbose=False, quiet=False)
    words = iter(argv)
    for word in words:
        if word == "run":
            rest = list(words)
            command = rest[1:] if rest[:1] == ["--"] else rest
            if not command or (command is rest and command[0].startswith("-")):
                return None  # `run` with no command, or with an option of its own (--dry-run, --help)
            return fields, tuple(command)
        name, equals, value = word.partition("=")
        if word in _FLAGS:
            fields[_FLAGS[word]] = True
            continue
        if name not in _VALUED:
            return None
        if not equals:
            value = next(words, "-")
            if value.startswith("-"):  # click would take it as the value; its own error or help is clearer
                return None
        field = _VALUED[name]
        fields[field] = (*fields[field], value) if field in _REPEATED else value
    return None
