"""Reading `.env` files with python-dotenv's parser, expanding ``${VAR}`` without touching os.environ."""

from __future__ import annotations

import io
import os
import sys
import types
from collections import ChainMap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layered_mlflow.errors import ConfigError, UsageError, shown
from layered_mlflow.sources import reading

if TYPE_CHECKING:
    from dotenv.parser import Original

# (name, value, where): `where` is the file, as `explain` shows it.
Binding = tuple[str, "str | None", str]


def read_dotenv(paths: Sequence[Path], environ: Mapping[str, str], explicit: bool) -> list[tuple[Path, list[Binding]]]:
    """Each file of ``paths`` that exists, in order, with its variables; ``${VAR}`` expanded as ``dotenv run`` does.

    A file is one layer: the last binding of a name is the file's word on it
    (``a=x`` then ``a=`` says ``a=``), as python-dotenv's ``dotenv_values``
    has it. ``${VAR}`` sees the file's variables so far, then what the files
    before it say (an empty value saying nothing, as across any layers), then
    the process environment, which wins as it does for the child. A missing
    default `.env` is no error; a missing file given by ``--env-file`` is.
    """
    injected: dict[str, str | None] = {name: value for name, value in environ.items() if value}
    earlier: dict[str, str | None] = {}
    files: list[tuple[Path, list[Binding]]] = []
    for path in paths:
        text = _read(path, explicit)
        if text is None:
            continue
        said = _parse(path, text, earlier, injected)
        files.append((path, [(name, value, str(path)) for name, value in said.items()]))
        earlier.update((name, value) for name, value in said.items() if value)
    return files


def _parse(
    path: Path, text: str, earlier: dict[str, str | None], injected: dict[str, str | None]
) -> dict[str, str | None]:
    parse_stream, parse_variables = _parsers()
    said: dict[str, str | None] = {}
    # A chain, not a merged copy per line: a `.env` of 10,000 lines stays linear.
    scope = ChainMap(injected, said, earlier)
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(
                f"{path}:{first_written_line(binding.original)}: not a python-dotenv line",
                hint="write KEY=VALUE, quoting values that hold spaces or #",
            )
        if binding.key is None:
            continue
        value = binding.value
        if value is not None:
            value = "".join(atom.resolve(scope) for atom in parse_variables(value))
        said[binding.key] = value
    return said


def _parsers() -> tuple[Any, Any]:
    """python-dotenv's ``parse_stream`` and ``parse_variables``, imported without the package's ``__init__``.

    Its ``__init__`` imports ``dotenv.main`` (logging, tempfile, shutil), a third of
    `run`'s start, for nothing that reading a file uses. The two modules import only
    the standard library; tests/test_dotenv_layer.py holds them to python-dotenv's
    own reading (``dotenv_values``), and to that, over the installed version.
    """
    stand_in = "dotenv" not in sys.modules and _stand_in_package()  # here: a project without .env need not
    try:
        from dotenv.parser import parse_stream
        from dotenv.variables import parse_variables
    finally:  # the real package, should anything import it later, runs its __init__ then
        if stand_in:
            del sys.modules["dotenv"]
    return parse_stream, parse_variables


def _stand_in_package() -> bool:
    """An empty ``dotenv`` package in ``sys.modules``, through which its submodules import; False if not found."""
    from importlib.util import find_spec

    spec = find_spec("dotenv")
    if spec is None or spec.submodule_search_locations is None:
        return False
    package = types.ModuleType("dotenv")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["dotenv"] = package
    return True


def first_written_line(original: Original) -> int:
    """The line a statement python-dotenv could not parse starts on: it counts from the blank lines before it."""
    text = original.string
    return original.line + text[: len(text) - len(text.lstrip())].count("\n")


def _read(path: Path, explicit: bool) -> str | None:
    if not os.path.lexists(path):
        if explicit:
            raise UsageError(f"--env-file {shown(str(path))}: no such file")
        return None  # no `.env` is no error
    return reading.read_text(path, str(path), reading.DOTENV_LIMIT)
