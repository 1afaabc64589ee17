"""Reading the current token (SPEC §11) in the training job: from a file, or from a command, kept while it is good.

A long job must not die because the token's source hiccups: a sidecar rewriting
the file (it is empty for a moment), a folder or a FIFO where the file was, a
command that hangs, fails or prints garbage. The last good token is sent on while
it is good (until its JWT ``exp``, or until the server refuses it), with one
line on stderr saying what failed; only without a good token does a request
wait, up to RETRY_WITHIN seconds, for a new one, and then fail in one line.
No message holds a byte of a token. Imported in the command's process (the auth
provider) and by `check --online`; `run` needs only tokens.py's names.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from layered_mlflow.errors import ConfigError
from layered_mlflow.secrets import subprocesses, tokens
from layered_mlflow.sources import reading

RETRY_WITHIN = 10.0  # seconds a request waits for a token when it has no good one
RETRY_PAUSE = 0.25
COMMAND_TIMEOUT = 10.0  # seconds for one run of token.command; its whole process group is killed after
COMMAND_RETRY_AFTER = 30.0  # after a failed run, while the last token serves: not every request waits again
EXPIRY_MARGIN = 10.0  # seconds: a JWT this close to its `exp` is no longer sent
_TOKEN = re.compile(rb"[\x21-\x7e]+")  # what an HTTP header carries: visible ASCII, no space
_log = logging.getLogger("layered_mlflow")


class TokenError(Exception):
    """The token cannot be read; the message names the file or command, never a token."""


class Source:
    """A token, whether it may still be sent, and when to read a new one; ``_read`` is a file's or a command's."""

    def __init__(self, what: str, retry_within: float) -> None:
        self.what = what  # `token.file PATH`, `token.command PROGRAM`: how messages name it
        self.retry_within = retry_within
        self._token = ""
        self._expires = math.inf  # monotonic: a JWT's `exp`; any other token is good until the server refuses it
        self._refused = False  # the server answered 401 to it
        self._said = ""  # the failure last said, so that it is said once
        self._lock = threading.Lock()

    def token(self) -> str:
        if self._due():
            with self._lock:
                if self._due():
                    self._refresh()
        return self._token

    def expire(self) -> None:
        """After a 401: the server refused the token sent; read a new one, and do not send that one again."""
        self._refused = True

    def _due(self) -> bool:
        """Whether to read a new token: none yet, refused, or (the file's, the command's own) time for one."""
        raise NotImplementedError

    def _read(self) -> str:
        raise NotImplementedError

    def _kept(self) -> None:
        """A read failed while the last token is good: when to try again (a file's: at the next request)."""

    def _good(self) -> bool:
        return bool(self._token) and not self._refused and time.monotonic() < self._expires

    def _refresh(self) -> None:
        deadline = time.monotonic() + self.retry_within
        while True:
            try:
                token = self._read()
            except TokenError as exc:
                if self._good():
                    self._say(f"{exc}; sending the last token, which is still good")
                    self._kept()
                    return
                if time.monotonic() >= deadline:
                    raise TokenError(f"{exc}{self._why_none()}") from None
                time.sleep(RETRY_PAUSE)
                continue
            self._token, self._expires, self._refused, self._said = token, _expires(token), False, ""
            return

    def _why_none(self) -> str:
        waited = f" (tried for {self.retry_within:g} s)" if self.retry_within else ""
        if not self._token:
            return waited
        return f"{waited}; the last token " + ("was refused (HTTP 401)" if self._refused else "has expired")

    def _say(self, message: str) -> None:
        if message != self._said:
            self._said = message
            _log.warning("layered-mlflow: warning: %s", message)


class FileToken(Source):
    """A token file, read again when it changed: a kubelet swaps its ``..data`` symlink, a sidecar rewrites it."""

    def __init__(self, path: str, retry_within: float = RETRY_WITHIN) -> None:
        super().__init__(f"token.file {path}", retry_within)
        self.path = path
        self._seen: tuple[int, int, int, int] | None = None

    def _due(self) -> bool:
        # Called for every request: one stat when nothing changed.
        return self._refused or not self._token or _signature(self.path) != self._seen

    def _read(self) -> str:
        seen = _signature(self.path)  # before reading: a change while it is read is seen at the next request
        try:
            data = reading.read_bytes(Path(self.path), self.what, reading.VALUE_LIMIT)
        except ConfigError as exc:
            raise TokenError(exc.message) from None
        token = checked(data, self.what, "the file is empty")
        self._seen = seen
        return token


class CommandToken(Source):
    """A token a command prints, run again when it is older than ``ttl`` seconds or after a 401."""

    def __init__(self, argv: Sequence[str], ttl: float, retry_within: float = RETRY_WITHIN) -> None:
        super().__init__(f"token.command {argv[0] if argv else '(empty)'}", retry_within)
        self.argv, self.ttl = list(argv), ttl
        self._next = -math.inf  # monotonic: when the command runs again

    def _due(self) -> bool:
        return self._refused or time.monotonic() >= self._next  # without a token, _next is -inf

    def _kept(self) -> None:
        self._next = time.monotonic() + min(self.ttl, COMMAND_RETRY_AFTER)

    def _read(self) -> str:
        try:
            done = subprocesses.run(self.argv, COMMAND_TIMEOUT, reading.VALUE_LIMIT)
        except subprocesses.TimedOut:
            raise TokenError(f"{self.what}: no token within {COMMAND_TIMEOUT:g} s (timed out; killed)") from None
        except OSError as exc:
            raise TokenError(f"{self.what}: cannot run it ({exc.strerror or type(exc).__name__})") from None
        if done.returncode != 0:
            raise TokenError(f"{self.what}: exit {done.returncode}")
        token = checked(done.stdout, self.what, "it printed no token")
        self._next = time.monotonic() + self.ttl
        return token


def checked(data: bytes, what: str, empty: str) -> str:
    """The token in ``data`` (white space around it dropped), or why it is none; never quoting a byte of it."""
    text = data.strip()
    if not text:
        raise TokenError(f"{what}: {empty}")
    if len(text) > reading.VALUE_LIMIT:
        raise TokenError(f"{what}: more than {reading.VALUE_LIMIT // reading.MIB} MiB, which is no token")
    lines = len(text.splitlines())
    if lines > 1:
        raise TokenError(f"{what}: {lines} lines where a token is one")
    if _TOKEN.fullmatch(text) is None:
        raise TokenError(f"{what}: holds a space or a byte no HTTP header can carry (a token is visible ASCII)")
    return text.decode("ascii")


def _signature(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)  # follows the symlinks: a swapped ..data is another inode, a rewrite another mtime or size
    except OSError:
        return None
    return (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_size)


def _expires(token: str) -> float:
    """When (monotonic) ``token`` stops being worth sending if no new one can be read: a JWT's ``exp``, less a
    margin; any other, never (until the server refuses it). A token just read is sent whatever this says."""
    import base64
    import binascii

    parts = token.split(".")
    if len(parts) != 3:
        return math.inf
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return math.inf
    expiry = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(expiry, (int, float)) or isinstance(expiry, bool):
        return math.inf
    return time.monotonic() + (expiry - time.time()) - EXPIRY_MARGIN


def source_of(variables: Mapping[str, str], retry_within: float = RETRY_WITHIN) -> Source | None:
    """Where the token is read, from the command's variables; None without a `token` section."""
    if variables.get(tokens.FILE):
        return FileToken(variables[tokens.FILE], retry_within)
    if variables.get(tokens.COMMAND):
        argv = json.loads(variables[tokens.COMMAND])
        return CommandToken(argv, float(variables.get(tokens.TTL) or tokens.DEFAULT_TTL), retry_within)
    return None


def current_token(variables: Mapping[str, str]) -> str | None:
    """The token the provider would send now, read once (`check --online`); None without a `token` section."""
    source = source_of(variables, retry_within=0) if variables.get(tokens.AUTH) == tokens.PROVIDER else None
    return None if source is None else source.token()
