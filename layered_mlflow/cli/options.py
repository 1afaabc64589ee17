"""The global options every command shares, and the steps of `run`, free of click.

The console script parses `run`'s common command line itself (``launch``), and
click parses every other; both reach the same ``Options`` and the same
``checked`` and ``start``, so `run` behaves alike whichever parsed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, NoReturn

from layered_mlflow.cli.process import say
from layered_mlflow.cli.runner import exec_command
from layered_mlflow.problems import WARNING, Problem
from layered_mlflow.resolution.exports import child_environment
from layered_mlflow.resolution.required import refuse_missing
from layered_mlflow.resolution.resolve import Resolved, resolve
from layered_mlflow.secrets.masking import secrets_of


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
        return refuse_missing(self.resolve(), self.environ)

    def fetched(self, resolved: Resolved) -> Resolved:
        """``resolved``, its secret references fetched: only for what starts a command or prints secrets."""
        from layered_mlflow.resolution.fetched import fetched

        return fetched(resolved, self.environ)


def checked(options: Options) -> Resolved:
    """`run`'s resolution: ready, and the warnings printed (unless -q)."""
    resolved = options.ready()
    warn(options, resolved)
    return resolved


def joined(options: Options, resolved: Resolved, shared_run: str | None, parent_run: str | None) -> Options:
    """``options`` with the run of ``--shared-run`` or ``--parent-run`` among their ``--set`` (SPEC §14).

    The store is reached, within a bound, to find or create that run; without either option, nothing is.
    """
    if shared_run is None and parent_run is None:
        return options
    from layered_mlflow.integrations import shared_run as runs

    given = runs.assignment(options.fetched(resolved), options.environ, shared_run, parent_run)
    return options._replace(assignments=(*options.assignments, *([given] if given else [])))


def start(options: Options, resolved: Resolved, command: Sequence[str]) -> NoReturn:
    """Exec ``command`` with ``resolved``, its secret references fetched first."""
    resolved = options.fetched(resolved)
    if options.verbose:
        from layered_mlflow.cli import report

        say(f"environment {resolved.environment_shown} (from {resolved.environment_source}), root {resolved.root}")
        for line in report.dry_run(resolved, command).splitlines():
            say(line)
    exec_command(command, child_environment(options.environ, resolved))


def warn(options: Options, resolved: Resolved) -> None:
    """Names that do nothing and values `check` calls errors, one line each on stderr, unless -q."""
    if options.quiet:
        return
    from layered_mlflow.checks.offline import run_warnings

    problems = run_warnings(resolved, options.environ)
    if problems:  # rare: what is secret is worked out only to scrub what a warning quotes
        secrets = secrets_of(resolved)
        for problem in problems:  # `run` goes on: errors of `check` warn
            say(secrets.scrub_values(Problem(WARNING, problem.message, problem.hint).line()))
