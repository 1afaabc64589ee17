"""What `check` reports: a problem, its level, the one way it is written, and how it names a setting."""

from __future__ import annotations

from typing import NamedTuple

from layered_mlflow.errors import with_hint

ERROR, WARNING, NOTE = "error", "warning", "note"


class Problem(NamedTuple):
    level: str  # error, warning or note
    message: str  # names the key and where it was set; never a secret
    hint: str | None = None

    def line(self) -> str:
        return f"{self.level}: {with_hint(self.message, self.hint)}"
