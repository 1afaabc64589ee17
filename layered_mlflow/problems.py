"""What `check` reports: a problem, its level, the one way it is written, and how it names a setting."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from layered_mlflow import precedence
from layered_mlflow.errors import with_hint
from layered_mlflow.exports import variable_name

if TYPE_CHECKING:
    from layered_mlflow.layers import Setting
    from layered_mlflow.resolve import Resolved

ERROR, WARNING, NOTE = "error", "warning", "note"


class Problem(NamedTuple):
    level: str  # error, warning or note
    message: str  # names the key and where it was set; never a secret
    hint: str | None = None

    def line(self) -> str:
        return f"{self.level}: {with_hint(self.message, self.hint)}"


def where(resolved: Resolved, setting: Setting) -> str:
    """The key as its layer spelled it, and where: ``MLFLOW_X (environment)``, ``x (settings/mlflow.yml)``."""
    if setting.layer == precedence.PROCESS_ENV.name:
        return f"{setting.source} (environment)"
    written = variable_name(setting.key) if precedence.kind(setting.layer).spells_variables else None
    return f"{written or setting.name} ({resolved.relative(setting.source)})"
