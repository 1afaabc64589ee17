"""`check --format json|github`: its problems for programs, and as GitHub Actions' workflow annotations.

GitHub's syntax (``::error file=F,line=L,title=T::message``; actions/toolkit's ``command.ts``): the message
escapes ``%``, CR and LF; a property's value escapes those and ``:`` and ``,`` too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from layered_mlflow.checks.command import Outcome
from layered_mlflow.checks.located import Located
from layered_mlflow.cli.formats import json_text
from layered_mlflow.cli.github import escape
from layered_mlflow.errors import with_hint
from layered_mlflow.problems import ERROR, NOTE, WARNING

# Our levels -> GitHub's commands.
_COMMANDS = {ERROR: "error", WARNING: "warning", NOTE: "notice"}


def check_json(outcome: Outcome) -> str:
    """Every environment checked, each problem with its level, key, layer, file, line, message and hint."""
    document = {
        "exit_code": outcome.exit_code,
        "environments": [
            {
                "environment": report.environment,
                "loads": report.loads,
                "errors": sum(p.level == ERROR for p in report.problems),
                "warnings": sum(p.level == WARNING for p in report.problems),
                "problems": [problem.document() for problem in report.located()],
            }
            for report in outcome.reports
        ],
    }
    return json_text(document, indent=2)


def check_github(outcome: Outcome, environ: Mapping[str, str]) -> str:
    """One workflow annotation a problem; files relative to the checkout ($GITHUB_WORKSPACE, else here)."""
    base = environ.get("GITHUB_WORKSPACE") or os.getcwd()
    several = len(outcome.reports) > 1
    lines = []
    for report in outcome.reports:
        title = "layered-mlflow check" + (f" ({report.environment})" if several and report.environment else "")
        lines += [annotation(problem, title, base) for problem in report.located()]
    return "\n".join(lines)


def annotation(problem: Located, title: str, base: str) -> str:
    properties = []
    if problem.file is not None:
        properties.append(("file", _relative(problem.file, base)))
        if problem.line is not None:
            properties.append(("line", str(problem.line)))
    properties.append(("title", title))
    written = ",".join(f"{name}={escape_property(value)}" for name, value in properties)
    return f"::{_COMMANDS[problem.level]} {written}::{escape(with_hint(problem.message, problem.hint))}"


def escape_property(text: str) -> str:
    """A property's value: as the message is escaped, and ``:`` and ``,``, which end a value there."""
    return escape(text).replace(":", "%3A").replace(",", "%2C")


def _relative(path: str, base: str) -> str:
    relative = os.path.relpath(path, base)
    return path if relative.startswith("..") else relative
