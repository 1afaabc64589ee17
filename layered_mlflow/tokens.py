"""Tokens that expire (SPEC §11): the `token` section, and reading the current token from a file or a command.

The command gets ``MLFLOW_TRACKING_AUTH=layered-mlflow`` and the variables below;
layered-mlflow's auth provider (auth_provider.py), which MLflow calls for every
request, reads them in the command's process. Reading is cheap when nothing
changed: one ``stat`` for a file, one clock read for a command.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading

    from layered_mlflow.layers import Setting

PROVIDER = "layered-mlflow"  # the entry point's name, and MLFLOW_TRACKING_AUTH's value
AUTH = "MLFLOW_TRACKING_AUTH"
FILE = "LAYERED_MLFLOW_AUTH_FILE"
COMMAND = "LAYERED_MLFLOW_AUTH_COMMAND"  # a JSON array: the argv
TTL = "LAYERED_MLFLOW_AUTH_TTL"
DEFAULT_TTL = 300
COMMAND_TIMEOUT = 30.0  # seconds for one run of token.command


def variables(settings: Mapping[str, Setting]) -> dict[str, str]:
    """What the command gets for a `token` section: the provider's name and where it reads the token."""
    file, command, ttl = (settings.get(f"token.{name}") for name in ("file", "command", "ttl"))
    found: dict[str, str] = {}
    if file is not None and isinstance(file.value, str):
        found[FILE] = file.value
    if command is not None and isinstance(command.value, tuple):
        found[COMMAND] = json.dumps(list(command.value))
        found[TTL] = str(ttl.value) if ttl is not None and isinstance(ttl.value, str) else str(DEFAULT_TTL)
    return {AUTH: PROVIDER, **found} if found else {}


class TokenError(Exception):
    """The token cannot be read; the message names the file or command, never a token."""


def _lock() -> threading.Lock:
    import threading  # only in the command's process, which reads tokens; `run` imports this module for names

    return threading.Lock()


class FileToken:
    """A token file read again when it changed: a kubelet swaps its ``..data`` symlink, a sidecar rewrites it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._seen: tuple[int, int, int, int] | None = None
        self._token = ""
        self._lock = _lock()

    def token(self) -> str:
        try:
            # stat follows the symlinks: a swapped ..data is another inode, a rewrite another mtime or size.
            st = os.stat(self.path)
        except OSError as exc:
            if self._token:
                return self._token  # mid-swap or briefly gone: the last token is still the best guess
            raise TokenError(f"token.file {self.path}: cannot read it ({exc.strerror})") from None
        seen = (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_size)
        if seen != self._seen:
            with self._lock:
                self._token = _read(self.path)
                self._seen = seen
        return self._token

    def expire(self) -> None:
        """After a 401: read the file again on the next request, even if it looks unchanged."""
        self._seen = None


class CommandToken:
    """A token a command prints, run again when it is older than ``ttl`` seconds or after a 401."""

    def __init__(self, argv: Sequence[str], ttl: float) -> None:
        self.argv, self.ttl = list(argv), ttl
        self._at = -float("inf")
        self._token = ""
        self._lock = _lock()

    def token(self) -> str:
        if time.monotonic() - self._at < self.ttl:
            return self._token
        with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self._token = _run(self.argv)
                self._at = time.monotonic()
        return self._token

    def expire(self) -> None:
        self._at = -float("inf")


Source = FileToken | CommandToken


def source_of(variables: Mapping[str, str]) -> Source | None:
    """Where the token is read, from the command's variables; None without a `token` section."""
    if variables.get(FILE):
        return FileToken(variables[FILE])
    if variables.get(COMMAND):
        return CommandToken(json.loads(variables[COMMAND]), float(variables.get(TTL) or DEFAULT_TTL))
    return None


def current_token(variables: Mapping[str, str]) -> str | None:
    """The token the provider would send now, for ``variables`` (`check --online` calls this); None without one."""
    source = source_of(variables) if variables.get(AUTH) == PROVIDER else None
    return None if source is None else source.token()


def _read(path: str) -> str:
    try:
        with open(path, "rb") as stream:
            text = os.fsdecode(stream.read()).strip()  # a token never holds white space; files end in \n
    except OSError as exc:
        raise TokenError(f"token.file {path}: cannot read it ({exc.strerror})") from None
    if not text:
        raise TokenError(f"token.file {path}: the file is empty")
    return text


def _run(argv: Sequence[str]) -> str:
    import subprocess  # here: exports (on `run`'s path) imports this module for `variables`

    shown = argv[0] if argv else "(empty)"
    try:
        done = subprocess.run(list(argv), capture_output=True, timeout=COMMAND_TIMEOUT, check=False)  # noqa: S603 (the settings' argv, no shell)
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = "timed out" if isinstance(exc, subprocess.TimeoutExpired) else (exc.strerror or "cannot run it")
        raise TokenError(f"token.command {shown}: {reason}") from None
    text = os.fsdecode(done.stdout).strip()
    if done.returncode != 0 or not text:
        raise TokenError(f"token.command {shown}: exit {done.returncode}" + ("" if text else ", no token printed"))
    return text
