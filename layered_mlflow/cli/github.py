"""`env --github-env` (SPEC §11): the variables appended to ``$GITHUB_ENV``, each secret value masked in the logs.

GitHub masks a value in later logs only once a workflow command
``::add-mask::VALUE`` has been printed for it, and it matches one line at a
time: a multi-line value needs one command per line.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from layered_mlflow.cli.formats import github, refuse_names
from layered_mlflow.errors import ConfigError
from layered_mlflow.secrets.masking import MASK, Secrets, secrets_of

if TYPE_CHECKING:
    from layered_mlflow.resolution.resolve import Resolved

VARIABLE = "GITHUB_ENV"


def write_env(resolved: Resolved, environ: Mapping[str, str]) -> str:
    """Append ``resolved``'s variables, unmasked, to the file ``$GITHUB_ENV`` names; the ``::add-mask::`` lines."""
    path = environ.get(VARIABLE)
    if not path:
        raise ConfigError(
            f"--github-env writes to the file ${VARIABLE} names, and {VARIABLE} is not set",
            hint="run it in a GitHub Actions step, or use --format github to print the lines instead",
        )
    refuse_names("github", resolved.variables, resolved)
    masks = add_mask_lines(resolved.variables, secrets_of(resolved))
    try:
        # Not blocking: a FIFO without a reader would hang the step; it is refused once open.
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY, 0o666)
        with open(descriptor, "ab") as stream:  # bytes: a value that is not UTF-8 is written exactly
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise _not_a_file(path)
            stream.write(os.fsencode(github(resolved.variables) + "\n"))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO no one reads
            raise _not_a_file(path) from None
        raise ConfigError(f"{VARIABLE}={path}: cannot append to it ({exc.strerror})") from None
    return "\n".join(masks)


def _not_a_file(path: str) -> ConfigError:
    return ConfigError(
        f"{VARIABLE}={path}: not a regular file (a FIFO or a device), which GitHub's runner never names",
        hint=f"point {VARIABLE} at a file, or use --format github to print the lines instead",
    )


def add_mask_lines(variables: Mapping[str, str], secrets: Secrets) -> list[str]:
    """One ``::add-mask::`` command for each line of each secret value, escaped as workflow commands require."""
    lines: list[str] = []
    for name, value in variables.items():
        for secret in secret_parts(name, value, secrets):
            for line in secret.splitlines():
                command = f"::add-mask::{escape(line)}"
                if line.strip() and command not in lines:
                    lines.append(command)
    return lines


def secret_parts(name: str, value: str, secrets: Secrets) -> Iterable[str]:
    """What of ``value`` is secret: the pieces masking hides (a URI's password), else the whole value."""
    masked = secrets.mask(name, value)
    if masked == value:
        return []
    parts = [secret for secret in secrets.values if secret in value]
    scrubbed = value
    for part in parts:  # longest first, as Secrets keeps them
        scrubbed = scrubbed.replace(part, MASK)
    return parts if parts and secrets.mask(name, scrubbed) == scrubbed else [value]


def escape(text: str) -> str:
    """A workflow command's data: ``%``, CR and LF as GitHub's runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
