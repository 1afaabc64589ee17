"""The global options every command shares, and the steps of `run`, free of click.

The console script parses `run`'s common command line itself (``launch``), and
click parses every other; both reach the same ``Options`` and the same
``checked`` and ``start``, so `run` behaves alike whichever parsed it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NamedTuple, NoReturn

from layered_mlflow.resolve import Resolved, resolve

PROG = "layered-mlflow"


class Options(NamedTuple):
    """The global options, shared by every command."""

    env: str | None
    project_dir: str | None
    env_files: tuple[str, ...]
    assignments: tuple[str, ...]
    verbose: bool
    quiet: bool
    environ: dict[str, str]

    def resolve(self, env: str | None = None) -> Resolved:
        return resolve(
            env=env or self.env,
            project_dir=self.project_dir,
            overrides=self.assignments,
            environ=self.environ,
            env_files=self.env_files or None,
            env_given_as="--env",
        )

    def ready(self) -> Resolved:
        """Resolved, once each `required` key has a value (else exit 2, before anything starts)."""
        from layered_mlflow.required import refuse_missing

        return refuse_missing(self.resolve(), self.environ)

    def fetched(self, resolved: Resolved) -> Resolved:
        """``resolved``, its secret references fetched: only for what starts a command or prints secrets."""
        from layered_mlflow.references import fetched

        return fetched(resolved, self.environ)


def checked(options: Options) -> Resolved:
    """`run`'s resolution: ready, and the warnings printed (unless -q)."""
    resolved = options.ready()
    warn(options, resolved)
    return resolved


def start(options: Options, resolved: Resolved, command: Sequence[str]) -> NoReturn:
    """Exec ``command`` with ``resolved``, its secret references fetched first."""
    from layered_mlflow.exports import child_environment
    from layered_mlflow.runner import exec_command

    resolved = options.fetched(resolved)
    if options.verbose:
        from layered_mlflow import report

        say(f"environment {resolved.environment_shown} (from {resolved.environment_source}), root {resolved.root}")
        for line in report.dry_run(resolved, command).splitlines():
            say(line)
    exec_command(command, child_environment(options.environ, resolved))


def warn(options: Options, resolved: Resolved) -> None:
    """Names that do nothing and values `check` calls errors, one line each on stderr, unless -q."""
    if options.quiet:
        return
    from layered_mlflow.checks import run_warnings
    from layered_mlflow.problems import WARNING, Problem

    problems = run_warnings(resolved, options.environ)
    if problems:  # rare: what is secret is worked out only to scrub what a warning quotes
        from layered_mlflow.masking import secrets_of

        secrets = secrets_of(resolved)
        for problem in problems:  # `run` goes on: errors of `check` warn
            say(secrets.scrub_values(Problem(WARNING, problem.message, problem.hint).line()))


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """End with one line on stderr, ``layered-mlflow: error: …``, and exit ``code`` (SPEC §8)."""
    from layered_mlflow import output
    from layered_mlflow.errors import with_hint
    from layered_mlflow.masking import Secrets, environment_secrets, scrubbed

    # Whatever a message echoes is quoted where it is built (errors.shown); this is the last guard. A name or
    # value it quotes may be made from a secret of the environment (ENV_FOR_DYNACONF=$MLFLOW_TRACKING_PASSWORD).
    known = Secrets(values=scrubbed(environment_secrets(os.environ)))
    line = known.scrub_values(output.one_line(with_hint(message, hint)))
    output.echo(f"{PROG}: error: {line}", err=True)
    sys.exit(code)


def say(message: str) -> None:
    """One line on stderr, if there is a stderr (started with it closed, `2>&-`, there is none)."""
    from layered_mlflow.output import one_line

    if sys.stderr is not None:
        sys.stderr.write(f"{PROG}: {one_line(message)}\n")
        sys.stderr.flush()
