"""The `server` section's values, validated once for `check` and for `server`/`ui` (SPEC §5, §12)."""

from __future__ import annotations

from collections.abc import Iterator

from layered_mlflow import mlflow_vars, precedence
from layered_mlflow.resolve import Resolved

# key: (lowest, highest) for integers; `mlflow server` hands them to uvicorn/gunicorn as they are.
_INTEGERS = {"port": (1, 65535), "workers": (1, None)}
_BOOLEANS = ("serve_artifacts",)


def invalid(resolved: Resolved) -> list[str]:
    """Why each value of the `server` section that `mlflow server` would refuse is wrong, all at once.

    Each message names the key, the value and where it was set.
    """
    return list(_invalid(resolved))


def _invalid(resolved: Resolved) -> Iterator[str]:
    for key, (low, high) in _INTEGERS.items():
        text = text_of(resolved, key)
        if text is not None and not _in_range(text, low, high):
            wanted = f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
            yield f"`server.{key}` must be {wanted}, not {text!r} ({_origin(resolved, key)})"
    for key in _BOOLEANS:
        text = text_of(resolved, key)
        if text is not None and mlflow_vars.boolean(text.strip()) is None:
            yield f"`server.{key}` must be true or false, not {text!r} ({_origin(resolved, key)})"


def text_of(resolved: Resolved, key: str) -> str | None:
    """The section's value for ``key`` as a string (a list joined with commas), None when unset."""
    setting = resolved.settings.get(f"server.{key}")
    if setting is None or setting.value is None:
        return None
    return ",".join(setting.value) if isinstance(setting.value, tuple) else setting.value


def _in_range(text: str, low: int, high: int | None) -> bool:
    number = text.strip()
    return number.isdigit() and int(number) >= low and (high is None or int(number) <= high)


def _origin(resolved: Resolved, key: str) -> str:
    setting = resolved.settings[f"server.{key}"]
    where = f"{setting.source} in the environment" if setting.layer == precedence.PROCESS_ENV.name else setting.source
    return "from " + resolved.relative(where)
