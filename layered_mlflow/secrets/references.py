"""Secret references (SPEC §11): ``aws-sm:``, ``aws-ssm:``, ``op://``, ``vault:``, ``gcp-sm:``, ``azure-kv:`` and
``sops:`` values, fetched only when needed.

What a reference looks like. Fetching is ``fetching.py`` (every reference of a command, bounded in all) and
``fetchers.py`` (one reference); ``resolution/fetched.py`` applies it to a resolved result, after merging,
for the winning values only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from layered_mlflow.errors import ConfigError
from layered_mlflow.keys import AS_FILE

BOUND = 10.0  # seconds for every fetch of one command together
OP_WAITS = "`op` waits for a sign-in or the desktop app's approval: run `op signin`, or set OP_SERVICE_ACCOUNT_TOKEN"
# How every reference starts, and a secret as a file (keys.AS_FILE), which holds a reference or the content.
_BEFORE, _AFTER = AS_FILE.format("\0").split("\0")  # `{from: ` and `, as: file}`
_STARTS = ("aws-s", "op://", "vault:", "gcp-sm:", "azure-kv:", "sops:", _BEFORE)
_REFERENCE = re.compile(
    r"aws-sm:[^\s#]+(#\S+)?|aws-ssm:\S+|op://[^/\s]+/[^/\s]+/\S+"
    r"|vault:[^\s#]+#\S+"
    r"|gcp-sm:projects/[^/\s]+/secrets/[^/\s]+(/versions/[^/\s]+)?"
    r"|azure-kv:[^/\s]+/[^/\s]+(/[^/\s]+)?"
    r"|sops:[^\s#]+(#\S+)?"
)


class FetchError(ConfigError):
    """A reference that cannot be fetched: the command is not started."""


def is_reference(value: object) -> bool:
    """``aws-sm:NAME[#FIELD]``, ``aws-ssm:NAME``, ``op://VAULT/ITEM/FIELD``, ``vault:PATH#FIELD``,
    ``gcp-sm:projects/P/secrets/S[/versions/V]``, ``azure-kv:VAULT/NAME[/VERSION]``, ``sops:PATH[#KEY.PATH]``:
    the whole value."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


def file_content(value: object) -> str | None:
    """What a secret as a file (``{from: …, as: file}``) holds: a reference or the content; None for other values."""
    if isinstance(value, str) and value.startswith(_BEFORE) and value.endswith(_AFTER):
        return value[len(_BEFORE) : -len(_AFTER)] or None
    return None


def any_may_be(values: Iterable[Any]) -> bool:
    """Whether a value of ``values`` starts as a reference does (most often, none of thousands does)."""
    return any(isinstance(value, str) and value.startswith(_STARTS) for value in values)
