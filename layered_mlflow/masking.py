"""What counts as a secret (SPEC §11), and how it is shown: ``***``.

Masking too much is safe; printing one secret byte is a bug. Every function
here runs in time linear in its input: values can be megabytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from layered_mlflow import tokens
from layered_mlflow.exports import RUN_CONTEXT, variable_name
from layered_mlflow.file_variables import SUFFIX
from layered_mlflow.keys import NAME_LISTS, SECTIONS, parse_key
from layered_mlflow.references import is_reference

if TYPE_CHECKING:
    from layered_mlflow.resolve import Resolved

MASK = "***"
SECRETS_KEY = "secrets"  # the top-level list of more names to mask
_CONTAINS = (
    *("PASSWORD", "PASSWD", "TOKEN", "SECRET", "CREDENTIAL", "CONNECTION_STRING"),
    *("API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "ACCOUNT_KEY"),
)
_ENDS = ("_KEY", "_HEADERS")
_CONTAINED = re.compile("|".join(_CONTAINS))  # one scan instead of eleven: `run` asks of every key
_TOKEN_SETTINGS = ("TOKEN.FILE", "TOKEN.TTL", "LAYERED_MLFLOW_TOKEN__FILE", "LAYERED_MLFLOW_TOKEN__TTL")
# `Name=value` inside connection strings and query strings; the look-behind keeps the scan linear.
_PAIR = re.compile(r"(?<![A-Za-z0-9_])(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>[^;&\s]*)")
# Their secret names as Azure, ODBC and SAS URLs spell them, beyond the name rules.
_PAIR_WORDS = ("ACCOUNTKEY", "ACCESSKEY", "SIGNATURE", "PWD")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USER_END = re.compile("[/@:]")  # what ends a URI's user name
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def is_secret_name(name: str) -> bool:
    """``MLFLOW_TRACKING_PASSWORD``, ``env.OPENAI_API_KEY``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``tags.api_token``."""
    upper = name.upper()
    if upper in _TOKEN_SETTINGS:
        return False  # where the token is read and how often: no secret (token.command may hold one)
    return _CONTAINED.search(upper) is not None or upper.endswith(_ENDS)


def bare(name: str) -> str:
    """The name a key and its variable share: ``env.FOO``, ``FOO`` → ``FOO``; ``mlflow_x`` → ``MLFLOW_X``."""
    section, dot, rest = name.partition(".")
    return (rest if dot and section.lower() in SECTIONS else name).upper()


class Secrets(NamedTuple):
    """What is secret in one resolved result, beyond the name rules."""

    names: frozenset[str] = frozenset()  # bare names: the `secrets` list, values read from an X_FILE
    values: tuple[str, ...] = ()  # the secret values themselves, longest first, to scrub from free text

    def is_secret(self, name: str) -> bool:
        return is_secret_name(name) or bare(name) in self.names

    def mask(self, name: str, value: str) -> str:
        """``value`` as it may be shown, given the name it is stored under."""
        if not value:
            return value
        if is_reference(value) and bare(name) not in self.names:
            return value  # where the secret lives, not the secret: `show` and `env` print it (SPEC §11)
        if self.is_secret(name):
            return MASK
        if bare(name) == RUN_CONTEXT and not value.lstrip().startswith("{"):
            return MASK  # not an object: MLflow drops it, and its entries cannot be told apart
        return self._structured(value)

    def variables(self, variables: Mapping[str, str], show_secrets: bool = False) -> dict[str, str]:
        """Variables as they may be printed: each masked by its own name, unless secrets are to be shown."""
        if show_secrets:
            return dict(variables)
        return {name: self.mask(name, value) for name, value in variables.items()}

    def hidden(self, variables: Mapping[str, str]) -> list[str]:
        """The names whose values masking changes."""
        return [name for name, value in variables.items() if self.mask(name, value) != value]

    def scrub(self, text: str) -> str:
        """Free text (an argv, a server's answer) with every secret value, URI password and key masked."""
        for value in self.values:
            text = text.replace(value, MASK)
        return mask_text(text)

    def _structured(self, value: str) -> str:
        if value.lstrip()[:1] not in ("{", "["):
            return mask_text(value)
        try:
            document = json.loads(value)
        except ValueError:
            return MASK  # looks like JSON but is not: its secret entries cannot be found
        masked = self._walk(document)
        return value if masked == document else json.dumps(masked, ensure_ascii=False)

    def _walk(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: MASK if self.is_secret(k) and node[k] is not None else self._walk(node[k]) for k in node}
        if isinstance(node, list):
            return [self._walk(item) for item in node]
        return mask_text(node) if isinstance(node, str) else node


def secrets_of(resolved: Resolved) -> Secrets:
    """The secrets of ``resolved``: its `secrets` list, X_FILE values, and every secret value, for scrubbing."""
    listed = resolved.settings.get(SECRETS_KEY)
    names = {bare(name) for name in (listed.value if isinstance(listed.value, tuple) else ())} if listed else set()
    for name, history in resolved.history.items():
        key = parse_key(name)
        variable = variable_name(key) if key else None
        if variable and any(c.source == variable + SUFFIX for c in history):
            names.add(bare(name))  # read from a file: secret whatever its name (SPEC §11)
    names |= {bare(name) for name in resolved.fetched}  # fetched: secret whatever its name, too
    names |= resolved.layout.secret_names(resolved.environment)  # a Kedro credentials entry's variables
    names.add(tokens.COMMAND)  # token.command's argv, as the command gets it, may carry a credential
    secrets = Secrets(frozenset(names))
    texts = [*resolved.variables.values(), *(s.value for s in resolved.settings.values() if isinstance(s.value, str))]
    values = {*_secret_values(secrets, resolved), *uri_passwords(texts)}
    # A word such as `true` is no secret to scrub from a command line, whatever its name.
    kept = [value for value in values if len(value) >= 4 and value.lower() not in ("true", "false")]
    return Secrets(secrets.names, tuple(sorted(kept, key=len, reverse=True)))


def _secret_values(secrets: Secrets, resolved: Resolved) -> Iterable[str]:
    for name, setting in resolved.settings.items():
        if secrets.is_secret(name) and name not in NAME_LISTS:  # `secrets: [...]` lists names, not values
            yield from setting.value if isinstance(setting.value, tuple) else (setting.value or "",)
    yield from (value for name, value in resolved.variables.items() if secrets.is_secret(name))


def uri_passwords(texts: Iterable[str]) -> Iterable[str]:
    """The password of every URI in ``texts``, as written and percent-decoded."""
    from urllib.parse import unquote

    for text in texts:
        for start, end in _password_spans(text):
            yield from (text[start:end], unquote(text[start:end]))


def mask_text(text: str) -> str:
    """``text`` with URI passwords and connection-string keys replaced by ``***``."""
    pieces, done = [], 0
    for start, end in _password_spans(text):
        pieces += [text[done:start], MASK]
        done = end
    pieces.append(text[done:])
    return _PAIR.sub(_masked_pair, "".join(pieces))


def printable(text: str, limit: int = 200) -> str:
    """Text from elsewhere (a server's answer) made one safe line: control characters escaped, bounded."""
    shown = _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text[:limit])
    return shown + ("…" if len(text) > limit else "")


def _password_spans(text: str) -> Iterable[tuple[int, int]]:
    """Where URI passwords are: ``scheme://user:PASSWORD@``, up to the last ``@`` of the word.

    Linear: each ``://`` is looked at once, and a word's last ``@`` found once.
    """
    if "://" not in text:  # most values: `run` asks of every one
        return
    for word in re.finditer(r"\S+", text):
        token, offset = word.group(), word.start()
        last_at = token.rfind("@")
        position = token.find("://", 1)
        while position > 0:
            found = _USER_END.search(token, position + 3)
            user_end = found.start() if found else len(token)
            if user_end >= last_at:
                break  # no `:…@` after this point of the word, so none after any later `://` either
            if token[user_end] == ":" and token[position - 1] in _SCHEME_CHARS:
                yield offset + user_end + 1, offset + last_at
                break  # masked up to the word's last `@`: nothing after it is user-info
            position = token.find("://", user_end)


def _masked_pair(found: re.Match[str]) -> str:
    name = found["name"]
    squeezed = name.upper().replace("_", "")
    secret = is_secret_name(name) or squeezed == "SIG" or any(w in squeezed for w in _PAIR_WORDS)
    return f"{name}={MASK}" if secret and found["value"] else found.group()
