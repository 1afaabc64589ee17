"""What counts as a secret (SPEC §11), and how it is shown: ``***``.

Masking too much is safe; printing one secret byte is a bug. Every function
here runs in time linear in its input: values can be megabytes.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from layered_mlflow.errors import escaped
from layered_mlflow.keys import NAME_LISTS, RUN_CONTEXT, SECTIONS, parse_key, variable_name
from layered_mlflow.secrets import tokens
from layered_mlflow.secrets.references import file_content, is_reference
from layered_mlflow.sources.file_variables import SUFFIX

if TYPE_CHECKING:
    from layered_mlflow.resolution.resolve import Resolved

MASK = "***"
SECRETS_KEY = "secrets"  # the top-level list of more names to mask
_CONTAINS = (
    *("PASSWORD", "PASSWD", "TOKEN", "SECRET", "CREDENTIAL", "CONNECTION_STRING"),
    *("API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "ACCOUNT_KEY"),
)
_ENDS = ("_KEY", "_HEADERS")
_CONTAINED = re.compile("|".join(_CONTAINS))  # one scan instead of eleven: `run` asks of every key
_TOKEN_SETTINGS = ("TOKEN.FILE", "TOKEN.TTL", "LAYERED_MLFLOW_TOKEN__FILE", "LAYERED_MLFLOW_TOKEN__TTL")
# `Name=value` (or `Name = value`) inside connection strings and query strings; the look-behind keeps the scan
# linear. A value may be quoted, and then hold `;` and spaces: ODBC's `{a;b}` (`}}` inside), libpq's `'a b'`
# (`\'` inside), ADO.NET's `"a;b"` (`""` inside); bounded, so that an unclosed one costs a bounded rescan.
_QUOTED = r"\{(?:[^}]|\}\}){0,4096}\}|'(?:[^'\\]|\\.){0,4096}'|\"(?:[^\"]|\"\"){0,4096}\""
_PAIR = re.compile(
    rf"(?<![A-Za-z0-9_])(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<equals>[ \t]*=[ \t]*)(?P<value>{_QUOTED}|[^;&\s]*)"
)
# Secret values shorter than this are not scrubbed from free text: `ab` would mask every word that holds it.
# Under its own name (or the `secrets` list's) a value of any length is still `***`.
MIN_SCRUBBED = 4
_FEW = 32  # up to this many secret values, free text is scrubbed with one str.replace each
# Their secret names as Azure, ODBC and SAS URLs spell them, beyond the name rules.
_PAIR_WORDS = ("ACCOUNTKEY", "ACCESSKEY", "SIGNATURE", "PWD")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USER_END = re.compile(r"[/@:\s]")  # what ends a URI's user name
_SPACE = re.compile(r"\s")


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


@dataclass(frozen=True)
class Secrets:
    """What is secret in one resolved result, beyond the name rules."""

    names: frozenset[str] = frozenset()  # bare names: the `secrets` list, values read from an X_FILE
    values: tuple[str, ...] = ()  # the secret values themselves, to scrub from every value and free text

    def is_secret(self, name: str) -> bool:
        return is_secret_name(name) or bare(name) in self.names

    def mask(self, name: str, value: str) -> str:
        """``value`` as it may be shown, given the name it is stored under."""
        if not value:
            return value
        held = file_content(value)  # a secret as a file: shown as written when it holds a reference, else masked
        if is_reference(value if held is None else held) and bare(name) not in self.names:
            return value  # where the secret lives, not the secret: `show` and `env` print it (SPEC §11)
        if held is not None:
            return MASK
        if self.is_secret(name):
            return MASK
        if bare(name) == RUN_CONTEXT and not value.lstrip().startswith("{"):
            return MASK  # not an object: MLflow drops it, and its entries cannot be told apart
        # A value made from a secret (`@format {env[MLFLOW_TRACKING_PASSWORD]}`) is masked by value, as `op run` does.
        return self.scrub_values(self._structured(value))

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
        return mask_text(self.scrub_values(text))

    def scrub_values(self, text: str) -> str:
        """``text`` with every secret value, in any case (a scheme is quoted lower-cased), replaced by ``***``.

        secrets_of keeps the values of MIN_SCRUBBED characters or more.
        """
        if not self.values:
            return text
        if len(self.values) <= _FEW:
            return self._pattern.sub(MASK, text)
        # Thousands of secrets (an `env` section of tokens): only those whose beginning is in the text.
        lowered = text.lower()
        starts = {lowered[i : i + MIN_SCRUBBED] for i in range(len(lowered) - MIN_SCRUBBED + 1)}
        found = {value for start in starts & self._by_start.keys() for value in self._by_start[start]}
        return _alternatives(sorted(found, key=len, reverse=True)).sub(MASK, text) if found else text

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        # Longest first: a secret that holds another is masked whole, not around the shorter one's `***`.
        return _alternatives(sorted(set(self.values), key=len, reverse=True))

    @functools.cached_property
    def _by_start(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for value in set(self.values):
            index.setdefault(value[:MIN_SCRUBBED].lower(), []).append(value)
        return index

    def _structured(self, value: str) -> str:
        if value.lstrip()[:1] not in ("{", "["):
            return mask_text(value)
        try:
            document = json.loads(value)
            masked = self._walk(document)
        except (ValueError, RecursionError):  # not JSON, or too deep to look into: its secrets cannot be found
            return MASK
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
    values = [*_secret_values(secrets, resolved), *uri_passwords(texts), *environment_secrets(os.environ)]
    return Secrets(secrets.names, scrubbed(values))


def scrubbed(values: Iterable[str]) -> tuple[str, ...]:
    """Of secret ``values``, those to scrub from free text, longest first.

    A word such as `true` is no secret to scrub from a command line, whatever its name;
    nor is a reference, which says where the secret lives (alone or as ``{from: REFERENCE, as: file}``).
    """
    kept = {
        value
        for value in values
        if len(value) >= MIN_SCRUBBED
        and value.lower() not in ("true", "false")
        and not is_reference(file_content(value) or value)  # a secret as a file's reference too
    }
    return tuple(sorted(kept, key=len, reverse=True))


def environment_secrets(environ: Mapping[str, str]) -> Iterable[str]:
    """The values of the process environment's secret-named variables, and its URIs' passwords.

    ``@format {env[DB_PASSWORD]}``, ``@jinja`` and ``${DB_PASSWORD}`` in `.env` copy
    them into any value, under any name.
    """
    # An X_FILE variable (`MLFLOW_TRACKING_PASSWORD_FILE`) holds a path; the secret is what the file holds.
    yield from (value for name, value in environ.items() if is_secret_name(name) and not name.endswith(SUFFIX))
    yield from uri_passwords(value for value in environ.values() if "://" in value)


def _secret_values(secrets: Secrets, resolved: Resolved) -> Iterable[str]:
    for name, setting in resolved.settings.items():
        if secrets.is_secret(name) and name not in NAME_LISTS:  # `secrets: [...]` lists names, not values
            if name == "token.command" and isinstance(setting.value, tuple):
                yield from setting.value[1:]  # its arguments may carry a credential; the program is no secret
            else:
                yield from setting.value if isinstance(setting.value, tuple) else (setting.value or "",)
    yield from (value for name, value in resolved.variables.items() if secrets.is_secret(name))


def _alternatives(values: Iterable[str]) -> re.Pattern[str]:
    """Any of ``values``, ignoring case; the first that matches wins, so the longest come first."""
    return re.compile("|".join(map(re.escape, values)), re.IGNORECASE)


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
    shown = escaped(text[:limit])
    return shown + ("…" if len(text) > limit else "")


def _password_spans(text: str) -> Iterable[tuple[int, int]]:
    """Where URI passwords are: ``scheme://user:PASSWORD@``, up to the last ``@`` of the word.

    A password may hold spaces (``http://u:pw more@host``): when the word has no
    ``@``, the password runs on to the next ``@`` of the line, unless another
    ``://`` comes first. Linear: each stretch between two ``://`` is looked at a
    bounded number of times.
    """
    if "://" not in text:  # most values: `run` asks of every one
        return
    position = text.find("://", 1)
    while position > 0:
        found = _USER_END.search(text, position + 3)
        user_end = found.start() if found else len(text)
        if user_end < len(text) and text[user_end] == ":" and text[position - 1] in _SCHEME_CHARS:
            at = _password_end(text, user_end + 1)
            if at is not None:
                yield user_end + 1, at
                position = text.find("://", at)  # masked up to the last `@`: nothing before it is user-info
                continue
        position = text.find("://", user_end)


def _password_end(text: str, start: int) -> int | None:
    """The ``@`` that ends a password beginning at ``start``, if one does."""
    word_end = _word_end(text, start)
    at = text.rfind("@", start, word_end)
    if at >= 0:
        return at
    following = text.find("://", word_end)
    at = text.find("@", word_end, len(text) if following < 0 else following)
    if at < 0 or text.find("\n", word_end, at) >= 0:
        return None
    return text.rfind("@", at, _word_end(text, at))


def _word_end(text: str, start: int) -> int:
    found = _SPACE.search(text, start)
    return found.start() if found else len(text)


def _masked_pair(found: re.Match[str]) -> str:
    name = found["name"]
    squeezed = name.upper().replace("_", "")
    secret = is_secret_name(name) or squeezed == "SIG" or any(w in squeezed for w in _PAIR_WORDS)
    return f"{name}{found['equals']}{MASK}" if secret and found["value"] else found.group()
