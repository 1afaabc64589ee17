"""Whether `server`/`ui` can listen where they are told, checked before `mlflow server` starts (SPEC §8).

MLflow itself only finds out after its workers import, prints a traceback a
minute later, and may still exit 0; a browser meanwhile reaches whatever holds
the port.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

from layered_mlflow.errors import ConfigError

# `mlflow server`'s spellings of the two options (mlflow/utils/cli_args.py).
_HOST_OPTIONS = ("--host", "-h")
_PORT_OPTIONS = ("--port", "-p")
_SUGGESTIONS = 20  # ports tried above a busy one for the hint


def refuse_unusable(argv: Sequence[str], passed: Sequence[str] = ()) -> None:
    """Exit 2 unless the host and port ``argv`` ends up with can be listened on now.

    ``passed`` is the tail of ``argv`` given after `server --`: an option there overrides the settings, so the
    hint names it rather than ``--set server.…``.
    """
    host, port = option_value(argv, _HOST_OPTIONS), option_value(argv, _PORT_OPTIONS)
    if host is None or port is None or not port.isdigit():
        return  # mlflow server's own defaults or usage error: it reports those itself
    problem = _bind_error(host, int(port))
    if problem is None:
        return
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if problem.errno == errno.EADDRINUSE:
        free = next((p for p in range(int(port) + 1, int(port) + _SUGGESTIONS) if _bind_error(host, p) is None), None)
        other = str(free) if free else "PORT"
        if option_value(passed, _PORT_OPTIONS) is None:
            pick = f"--set server.port={other}"
        else:
            pick = f"change the --port given after -- (layered-mlflow server -- --port {other})"
        raise ConfigError(
            f"{where} is already in use; mlflow server was not started",
            hint=f"stop what listens there, or pick another port: {pick}",
        )
    reason = problem.strerror or type(problem).__name__
    host_from = "the --host given after --" if option_value(passed, _HOST_OPTIONS) is not None else "server.host"
    raise ConfigError(
        f"cannot listen on {where} ({reason}); mlflow server was not started",
        hint=f"{host_from} must be an address of this machine (0.0.0.0 for all of them), "
        "and ports below 1024 need privileges",
    )


def option_value(argv: Sequence[str], names: Sequence[str]) -> str | None:
    """The value of the last of ``names`` in ``argv`` (``--port 1``, ``--port=1``, ``-p 1``): the one that wins."""
    found = None
    for i, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if name in names and equals:
            found = value
        elif arg in names and i + 1 < len(argv):
            found = argv[i + 1]
    return found


def _bind_error(host: str, port: int) -> OSError | None:
    """Why binding ``host:port`` fails, as the server would bind it (SO_REUSEADDR, as uvicorn and gunicorn)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        return exc
    return None
