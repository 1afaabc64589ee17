"""What counts as a secret, and how it is shown: ``***`` (SPEC §5)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

MASK = "***"
_SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "ACCESS_KEY", "CREDENTIAL", "CONNECTION_STRING")
# The password of a URI's user-info: scheme://user:PASSWORD@host. Greedy up to the
# last `@`, so a password holding `@` is masked whole (masking too much is safe).
_URI_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:)\S*(?P<at>@)")
# Keys embedded in connection strings (Azure's AccountKey=, SharedAccessSignature=).
_EMBEDDED_KEY = re.compile(r"(?P<head>(?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s]*", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """``MLFLOW_TRACKING_PASSWORD``, ``env.AWS_SECRET_ACCESS_KEY``, ``tags.api_token``."""
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


def mask(name: str, value: str) -> str:
    """``value`` as it may be shown, given the name it is stored under."""
    if is_secret_name(name):
        return MASK if value else value
    if value.startswith("{"):  # a JSON object (MLFLOW_RUN_CONTEXT): each entry by its own name
        return _mask_json(value)
    return mask_text(value)


def shown_variables(variables: Mapping[str, str], show_secrets: bool) -> dict[str, str]:
    """Variables as they may be printed: each masked by its own name, unless secrets are to be shown."""
    if show_secrets:
        return dict(variables)
    return {name: mask(name, value) for name, value in variables.items()}


def hidden(variables: Mapping[str, str]) -> list[str]:
    """The names whose values masking changes."""
    return [name for name, value in variables.items() if mask(name, value) != value]


def _mask_json(value: str) -> str:
    try:
        document = json.loads(value)
    except ValueError:
        return mask_text(value)
    if not isinstance(document, dict):
        return mask_text(value)
    masked = {k: mask(k, v) if isinstance(v, str) else v for k, v in document.items()}
    return json.dumps(masked, ensure_ascii=False)


def mask_text(text: str) -> str:
    """``text`` with URI passwords and connection-string keys replaced by ``***``."""
    text = _URI_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)
    return _EMBEDDED_KEY.sub(lambda m: f"{m['head']}{MASK}", text)
