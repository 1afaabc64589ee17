"""`check` over one or every environment: each one's problems, or why its settings do not load (SPEC §7, §8)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from layered_mlflow.checks.located import Located, located
from layered_mlflow.checks.offline import check
from layered_mlflow.errors import LayeredMlflowError, with_hint
from layered_mlflow.layouts.base import Layout
from layered_mlflow.layouts.discovery import locate
from layered_mlflow.problems import ERROR, NOTE, WARNING, Problem
from layered_mlflow.resolution import precedence
from layered_mlflow.resolution.exports import child_environment
from layered_mlflow.resolution.fetched import fetched
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import secrets_of
from layered_mlflow.secrets.references import BOUND


class Report(NamedTuple):
    """One environment's problems, for programs (`check --format json|github`): located only when asked."""

    environment: str | None  # as people read it; None: the active one, whose settings did not load
    problems: tuple[Problem, ...]
    root: Path
    resolved: Resolved | None = None  # None: the problems are why the settings do not load (exit 2)

    @property
    def loads(self) -> bool:
        return self.resolved is not None

    def located(self) -> tuple[Located, ...]:
        """Each problem with its key, layer, file and line, secrets masked."""
        secrets = secrets_of(self.resolved) if self.resolved is not None else None
        return tuple(located(problem, self.resolved, self.root, secrets) for problem in self.problems)


class Outcome(NamedTuple):
    text: str
    exit_code: int  # 0 clean (notes and warnings allowed), 1 problems, 2 settings that do not load
    errors: tuple[str, ...] = ()  # the active environment's settings do not load: each reason, for stderr
    reports: tuple[Report, ...] = ()


def check_project(
    resolve: Callable[[str | None, Mapping[str, str]], Resolved],
    project_dir: str | None,
    env: str | None,
    environ: Mapping[str, str],
    all_envs: bool,
    strict: bool,
    timeout: float | None,
) -> Outcome:
    """`check` of the active environment, or of every known one, of the project ``resolve`` reads."""
    _, layout, _ = locate(project_dir, environ)
    # Whose files to read when the settings do not resolve: the environment named, if any.
    guess = env or next((environ[name] for name in layout.environment_variables if environ.get(name)), None)
    return run_checks(
        resolve,
        layout.environments if all_envs else (None,),
        strict,
        timeout,
        environ,
        lambda name: file_errors(layout, name or guess, environ),
        layout.root,
    )


def run_checks(
    resolve: Callable[[str | None, Mapping[str, str]], Resolved],
    environments: Sequence[str | None],
    strict: bool,
    timeout: float | None,
    environ: Mapping[str, str],
    load_errors: Callable[[str | None], list[LayeredMlflowError]],
    root: Path,
) -> Outcome:
    """Check each environment (``None``: the active one), reaching the store when ``timeout`` is given.

    Settings that do not load are reported with every other file that does not load
    (``load_errors``), so that one run names them all. Of every environment
    (``--all-envs``), a variable only the run's environment gives is a note.
    """
    lines: list[str] = []
    codes = [0]
    reports: list[Report] = []
    for name in environments:
        unset: list[Problem] = []
        try:
            resolved = resolve(name, environ) if name is None else _given_unset(resolve, name, environ, unset)
        except LayeredMlflowError as exc:
            failures = _gathered(exc, load_errors(name))
            report = Report(name, tuple(Problem(ERROR, f.message, f.hint) for f in failures), root)
            if name is None:
                return Outcome(
                    "", 2, tuple(with_hint(failure.message, failure.hint) for failure in failures), (report,)
                )
            reports.append(report)
            lines.extend(f"{name}: error: {with_hint(failure.message, failure.hint)}" for failure in failures)
            codes.append(2)
            continue
        problems = unset + check(resolved, environ)
        if timeout is not None:
            problems += _online(resolved, environ, timeout)
        if strict:
            problems = [Problem(ERROR, p.message, p.hint) if p.level == WARNING else p for p in problems]
        errors = sum(p.level == ERROR for p in problems)
        warnings = sum(p.level == WARNING for p in problems)
        lines.append(f"{resolved.environment_shown}: {_count(errors, 'error')}, {_count(warnings, 'warning')}")
        secrets = secrets_of(resolved)  # a message may quote a value made from a secret, under another name
        lines.extend(f"  {secrets.scrub_values(p.line())}" for p in problems)
        reports.append(Report(resolved.environment_shown, tuple(problems), root, resolved))
        codes.append(1 if errors else 0)
    return Outcome("\n".join(lines), max(codes), (), tuple(reports))


def _given_unset(
    resolve: Callable[[str | None, Mapping[str, str]], Resolved],
    name: str,
    environ: Mapping[str, str],
    notes: list[Problem],
) -> Resolved:
    """``name`` resolved, each ``${oc.env:VAR}`` the environment lacks noted and evaluated as empty.

    In CI, `check --all-envs` runs without the secrets each environment's run is given.
    """
    from layered_mlflow.layouts.kedro.interpolation import UnsetVariable

    given, unset = dict(environ), []
    while True:
        try:
            resolved = resolve(name, given)
            break
        except UnsetVariable as exc:
            if exc.variable in given:  # evaluated as empty, it cannot be unset again: never loop
                raise
            given[exc.variable] = ""
            unset.append(exc)
    notes += [
        Problem(
            NOTE, f"{resolved.relative(exc.where)}: {exc.variable} is not set here; a run in {name} needs it", exc.hint
        )
        for exc in unset
    ]
    return resolved


def _online(resolved: Resolved, environ: Mapping[str, str], timeout: float) -> list[Problem]:
    """The stores reached as the command would reach them: its secret references fetched first, then the
    tracking store, then (when that answered) the artifact store."""
    from layered_mlflow.checks.online import artifacts as online_artifacts
    from layered_mlflow.checks.online.tracking import reach

    try:
        resolved = fetched(resolved, environ, min(timeout, BOUND))  # --timeout bounds the secret stores too
    except LayeredMlflowError as exc:
        return [Problem(ERROR, exc.message, exc.hint)]
    # As the command would see it: HOME (~/.mlflow/credentials) and AWS_* are inherited ones too.
    environment, secrets = child_environment(environ, resolved), secrets_of(resolved)
    found = [reach(environment, timeout, secrets)]
    if found[-1].level != ERROR:
        found += online_artifacts.reach(resolved, environment, timeout, secrets)
    return found


def file_errors(layout: Layout, environment: str | None, environ: Mapping[str, str]) -> list[LayeredMlflowError]:
    """Why each settings file ``environment`` reads does not load, every one of them."""
    failures = []
    for layer in precedence.file_layers(layout, environment.lower() if environment else None, environ):
        try:
            layer.contributions()
        except LayeredMlflowError as exc:
            failures.append(exc)
    return failures


def _gathered(first: LayeredMlflowError, others: list[LayeredMlflowError]) -> list[LayeredMlflowError]:
    """The error that stopped resolution, then those of the other files, each once."""
    seen, gathered = {first.message}, [first]
    for other in others:
        if other.message not in seen:
            seen.add(other.message)
            gathered.append(other)
    return gathered


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
