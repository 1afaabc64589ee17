"""Replacing this process with the command (POSIX exec), so its PID, signals and status are its own."""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from layered_mlflow.errors import CommandNotExecutable, CommandNotFound, ConfigError, shown
from layered_mlflow.resolution.exports import holds_nul

# Python ignores these, and an ignored signal stays ignored across exec:
# `layered-mlflow run -- cmd | head` must behave as `cmd | head`.
_RESTORED = ("SIGPIPE", "SIGXFSZ")


def exec_command(argv: Sequence[str], environment: Mapping[str, str], cwd: Path | None = None) -> NoReturn:
    """Exec ``argv`` with exactly ``environment`` (in ``cwd``); 127 if not found, 126 if not executable."""
    if cwd is not None:
        os.chdir(cwd)
    for name in _RESTORED:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None when started with that descriptor closed (`>&-`): the command still runs
            stream.flush()
    command = shown(argv[0])
    if not argv[0]:  # as a shell says of ""
        raise CommandNotFound(f"{command}: command not found", hint="name the command after --")
    try:
        _execvpe(list(argv), dict(environment))
    except ValueError:  # "embedded null byte", which names nothing
        raise holds_nul(environment) from None
    except FileNotFoundError:
        raise CommandNotFound(f"{command}: command not found", hint="check the spelling and PATH") from None
    except PermissionError:
        raise CommandNotExecutable(f"{command}: permission denied", hint="is it executable (chmod +x)?") from None
    except OSError as exc:
        if exc.errno == errno.E2BIG:  # the kernel's limit, not the command's fault
            raise _too_long(argv, environment) from None
        raise CommandNotExecutable(f"{command}: cannot execute ({exc.strerror})") from None


def _too_long(argv: Sequence[str], environment: Mapping[str, str]) -> ConfigError:
    """What exec refused as too long (E2BIG): the variable over Linux's per-string limit, if one is; else all of it."""
    limit = 32 * os.sysconf("SC_PAGE_SIZE")  # MAX_ARG_STRLEN: 32 pages, 128 KiB, counting `NAME=` and the NUL
    for name, value in environment.items():
        size = len(os.fsencode(name)) + len(os.fsencode(value)) + 2
        if size > limit:
            return ConfigError(
                f"{shown(name)} is {size:,} bytes, over the {limit:,} that exec lets one variable have",
                hint=f"hand it over as a file ({shown(name)}_FILE, or `as: file`); "
                f"`layered-mlflow explain {shown(name)}` shows where it is set",
            )
    size = sum(len(os.fsencode(word)) + 1 for word in argv)
    size += sum(len(os.fsencode(n)) + len(os.fsencode(v)) + 2 for n, v in environment.items())
    return ConfigError(
        f"the command's arguments and environment are {size:,} bytes, more than exec can pass (E2BIG)",
        hint="shorten the arguments, or hand large values over as files",
    )


def _execvpe(argv: list[str], environment: dict[str, str]) -> NoReturn:
    """``os.execvpe(argv[0], argv, environment)``, less the cost of the folders of PATH that lack the command.

    ``os.execvpe`` tries an exec in each folder in turn, and each try converts
    the whole environment again: with 20,000 variables, a command in the tenth
    folder cost 40 ms more than its path. A folder where the command's path
    does not exist is passed over without the exec, whose error it would have
    been (``FileNotFoundError``, ``NotADirectoryError``); every other path is
    tried, and the error raised is the one ``os.execvpe`` raises.
    """
    if os.path.dirname(argv[0]):
        os.execve(argv[0], argv, environment)  # noqa: S606 (no shell: argv is the user's)
    saved: OSError | None = None
    last: OSError = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
    for folder in os.get_exec_path(environment):  # the command's own PATH, as os.execvpe reads it
        path = os.path.join(folder, argv[0])
        try:
            os.stat(path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            last = exc
            continue
        except OSError:
            pass  # the exec says what is wrong, as it would have
        try:
            os.execve(path, argv, environment)  # noqa: S606
        except (FileNotFoundError, NotADirectoryError) as exc:
            last = exc
        except OSError as exc:
            last, saved = exc, saved or exc
    raise saved or last


def inherited_environment() -> dict[str, str]:
    """The environment this process was started with.

    Not ``os.environ``: with no ``LANG``, Python's locale coercion adds
    ``LC_CTYPE`` to it at start-up, and the command must not get variables
    that neither the user nor the settings set.
    """
    try:
        with open("/proc/self/environ", "rb") as stream:
            raw = stream.read()
    except OSError:  # no /proc (a sandbox, a container without it)
        return _uncoerced(dict(os.environ))
    environment = {}
    for entry in raw.split(b"\0"):
        name, equals, value = entry.partition(b"=")
        if equals and name:
            environment[os.fsdecode(name)] = os.fsdecode(value)
    return environment


def _uncoerced(environment: dict[str, str]) -> dict[str, str]:
    """``environment`` less the ``LC_CTYPE`` that Python's locale coercion (PEP 538) added, if it did.

    Python coerces when it starts in the C locale (no LC_ALL, PYTHONCOERCECLOCALE
    not 0), and then also turns on its UTF-8 mode (PEP 540) by itself: that mode,
    on without PYTHONUTF8, tells a coerced LC_CTYPE from one the user set.
    """
    coerced = (
        environment.get("LC_CTYPE") in ("C.UTF-8", "C.utf8", "UTF-8")
        and sys.flags.utf8_mode
        and "PYTHONUTF8" not in environment
        and not environment.get("LC_ALL")
        and environment.get("PYTHONCOERCECLOCALE") != "0"
    )
    if coerced:
        del environment["LC_CTYPE"]
    return environment
