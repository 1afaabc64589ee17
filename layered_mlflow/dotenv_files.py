"""Reading `.env` files with python-dotenv's parser, expanding ``${VAR}`` without touching os.environ."""

from __future__ import annotations

import io
import os
from collections import ChainMap
from collections.abc import Mapping, Sequence
from pathlib import Path

from layered_mlflow import reading
from layered_mlflow.errors import ConfigError, UsageError, shown

# (name, value, where): `where` is the file, as `explain` shows it.
Binding = tuple[str, "str | None", str]


def read_dotenv(paths: Sequence[Path], environ: Mapping[str, str], explicit: bool) -> tuple[list[Binding], list[Path]]:
    """The variables of ``paths`` in order, and the files read; ``${VAR}`` expanded as ``dotenv run`` does.

    ``${VAR}`` sees the variables read so far, then the process environment,
    which wins as it does for the child. A missing default `.env` is no
    error; a missing file given by ``--env-file`` is.
    """
    injected: dict[str, str | None] = {name: value for name, value in environ.items() if value}
    known: dict[str, str | None] = {}
    bindings: list[Binding] = []
    read: list[Path] = []
    for path in paths:
        text = _read(path, explicit)
        if text is None:
            continue
        read.append(path)
        from dotenv.parser import parse_stream  # here: a project without .env need not import it
        from dotenv.variables import parse_variables

        for binding in parse_stream(io.StringIO(text)):
            if binding.error:
                raise ConfigError(
                    f"{path}:{binding.original.line}: not a python-dotenv line",
                    hint="write KEY=VALUE, quoting values that hold spaces or #",
                )
            if binding.key is None:
                continue
            value = binding.value
            if value is not None:
                scope = ChainMap(injected, known)  # a view, not a copy per line (which was quadratic)
                value = "".join(atom.resolve(scope) for atom in parse_variables(value))
            known[binding.key] = value
            bindings.append((binding.key, value, str(path)))
    return bindings, read


def _read(path: Path, explicit: bool) -> str | None:
    if not os.path.lexists(path):
        if explicit:
            raise UsageError(f"--env-file {shown(str(path))}: no such file")
        return None  # no `.env` is no error
    return reading.read_text(path, str(path), reading.DOTENV_LIMIT)
