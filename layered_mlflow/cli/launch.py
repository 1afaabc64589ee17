"""The console script: the common command lines parsed by hand, every other by click.

`run` starts every job, and importing click is about a tenth of its start (and
of `show`'s and `env`'s). Their plain forms (global options each written in
full, then ``run``, ``--`` or not, and the command; or ``show``/``env`` with
``--format`` and ``--show-secrets``) are parsed here and go through the very
steps of the click commands (``options.checked`` and ``options.start``,
``commands.show`` and ``commands.env``); anything else (``--help``,
``--dry-run``, ``-vq``, a value that looks like an option, shell completion, a
mistake) goes to click, so that its messages are click's. A differential test
holds this parser to click's over a table and generated command lines.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, NoReturn

from layered_mlflow.cli.options import Options, checked, start
from layered_mlflow.cli.process import failed, prepare
from layered_mlflow.cli.runner import inherited_environment
from layered_mlflow.sources.settings_file import lean_dynaconf

_VALUED = {"--env": "env", "--project-dir": "project_dir", "--env-file": "env_files", "--set": "assignments"}
_FLAGS = {"-v": "verbose", "--verbose": "verbose", "-q": "quiet", "--quiet": "quiet"}
_REPEATED = ("env_files", "assignments")
_COMPLETION_VARIABLE = "_LAYERED_MLFLOW_COMPLETE"  # click's shell completion: it answers, not `run`
_PRINTING = ("show", "env")  # commands whose plain forms take only --format and --show-secrets

Fields = dict[str, Any]


def main() -> NoReturn:
    """``layered-mlflow``: a plain `run`, `show` or `env` without click, else the full command line."""
    gc.disable()  # a short-lived process whose data hold no cycles to speak of: collections are pure cost
    prepare()
    with lean_dynaconf():
        _main(sys.argv[1:])


def _main(argv: list[str]) -> NoReturn:
    parsed = None if _COMPLETION_VARIABLE in os.environ else plain(argv)
    if parsed is None:
        from layered_mlflow.cli.main import main as full

        full(argv)
    fields, name, given = parsed
    try:
        options = Options(environ=inherited_environment(), **fields)
        if name == "run":
            start(options, checked(options), given["command"])
        from layered_mlflow.cli import commands

        getattr(commands, name)(options, **given)
    except KeyboardInterrupt:
        from layered_mlflow.cli import output

        output.echo("", err=True)  # as click does: the error on a line of its own, not after the terminal's ^C
        failed(KeyboardInterrupt())
    except Exception as exc:
        failed(exc)
    sys.exit(0)


def plain(argv: list[str]) -> tuple[Fields, str, Fields] | None:
    """The global options, the command and its parameters, if ``argv`` is a plain form; else None (click parses it)."""
    split = _global_options(argv)
    if split is None:
        return None
    fields, name, rest = split
    given = _run_command(rest) if name == "run" else _printing_options(name, rest)
    return None if given is None else (fields, name, given)


def _global_options(argv: list[str]) -> tuple[Fields, str, list[str]] | None:
    """The global options each written in full, the command's name and the words after it."""
    fields: Fields = {"env": None, "project_dir": None, "env_files": (), "assignments": ()}
    fields.update(verbose=False, quiet=False)
    words = iter(argv)
    for word in words:
        if word == "run" or word in _PRINTING:
            return fields, word, list(words)
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


def _run_command(rest: list[str]) -> Fields | None:
    command = rest[1:] if rest[:1] == ["--"] else rest
    if not command or (command is rest and command[0].startswith("-")):
        return None  # `run` with no command, or with an option of its own (--dry-run, --help)
    return {"command": tuple(command)}


def _printing_options(name: str, rest: list[str]) -> Fields | None:
    """``--format NAME`` (or ``--format=NAME``) and ``--show-secrets``, each as often as click allows."""
    choices: tuple[str, ...]
    if name == "show":
        default, choices = "text", ("text", "json")
    else:
        from layered_mlflow.cli.formats import FORMATS

        default, choices = "dotenv", tuple(FORMATS)
    given: Fields = {"fmt": default, "show_secrets": False}
    words = iter(rest)
    for word in words:
        option, equals, value = word.partition("=")
        if word == "--show-secrets":
            given["show_secrets"] = True
            continue
        if option != "--format":
            return None  # --help, --github-env, a stray argument: click's to say
        value = value if equals else next(words, "")
        if value not in choices:
            return None  # click's message lists the choices
        given["fmt"] = value
    return given
