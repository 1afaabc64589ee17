"""In-process: reading `.env` files, as ``read_dotenv`` returns them (SPEC §3, §8).

tests/test_dotenv_layer.py holds the reading to python-dotenv's own ``dotenv_values``;
these pin the expansion across files, the line an error names, and what reading imports.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from unittest import mock

import pytest

from layered_mlflow.errors import ConfigError
from layered_mlflow.sources.dotenv_files import _stand_in_package, read_dotenv


def files(root: Path, texts: list[str]) -> list[Path]:
    paths = [root / f"{i}.env" for i in range(len(texts))]
    for path, text in zip(paths, texts, strict=True):
        path.write_text(text, encoding="utf-8")
    return paths


@pytest.mark.parametrize(
    ("texts", "environ", "expected"),
    [
        pytest.param(["A=1\n", "B=${A}-2\n"], {}, [{"A": "1"}, {"B": "1-2"}], id="later-file-sees-earlier-files"),
        pytest.param(["A=1\n", "A=\nB=${A}\n"], {}, [{"A": "1"}, {"A": "", "B": ""}], id="own-empty-value-first"),
        pytest.param(["A=\n", "B=${A}x\n"], {}, [{"A": ""}, {"B": "x"}], id="earlier-empty-value-says-nothing"),
        pytest.param(["A=1\n", "B=${A}\n"], {"A": "env"}, [{"A": "1"}, {"B": "env"}], id="process-environment-wins"),
        pytest.param(["B=${NOPE}-${NONE:-d}\n"], {}, [{"B": "-d"}], id="undefined-is-empty-or-its-default"),
        pytest.param(["B=${A}\nA=1\n"], {}, [{"B": "", "A": "1"}], id="later-lines-are-not-seen"),
    ],
)
def test_expansion_across_files(
    tmp_path: Path, texts: list[str], environ: dict[str, str], expected: list[dict[str, str]]
) -> None:
    """`${VAR}` sees the file so far, then earlier files (an empty value saying nothing), the process env winning."""
    paths = files(tmp_path, texts)
    found = read_dotenv(paths, environ, explicit=True)
    assert found == [
        (path, [(name, value, str(path)) for name, value in said.items()])
        for path, said in zip(paths, expected, strict=True)
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("B C\n", 1, id="first-line"),
        pytest.param("A=1\nB C\n", 2, id="after-a-binding"),
        pytest.param("A=1\n\n\nB C\n", 4, id="after-blank-lines"),
        pytest.param("\n\nB C\nD=1\n", 3, id="after-leading-blank-lines"),
    ],
)
def test_unparsable_line_is_named(tmp_path: Path, text: str, line: int) -> None:
    """A line python-dotenv cannot parse is exit 2 naming the file and the line it is written on (SPEC §8)."""
    [path] = files(tmp_path, [text])
    with pytest.raises(ConfigError) as raised:
        read_dotenv([path], {}, explicit=True)
    assert (raised.value.message, raised.value.hint) == (
        f"{path}:{line}: not a python-dotenv line",
        "write KEY=VALUE, quoting values that hold spaces or #",
    )


def _dotenv_modules() -> list[str]:
    return sorted(name for name in sys.modules if name == "dotenv" or name.startswith("dotenv."))


def test_reading_imports_only_the_parser(tmp_path: Path) -> None:
    """Reading `.env` imports python-dotenv's parser, not the package's ``__init__`` (dotenv.main: slow start)."""
    [path] = files(tmp_path, ["A=1\n"])
    with mock.patch.dict(sys.modules):
        for name in _dotenv_modules():
            del sys.modules[name]
        found = read_dotenv([path], {}, explicit=True)
        loaded = _dotenv_modules()
    assert (found, loaded) == ([(path, [("A", "1", str(path))])], ["dotenv.parser", "dotenv.variables"])


def test_reading_keeps_an_imported_dotenv(tmp_path: Path) -> None:
    """Where python-dotenv is already imported, reading uses it and leaves it in place."""
    import dotenv

    [path] = files(tmp_path, ["A=1\n"])
    with mock.patch.dict(sys.modules):
        found = read_dotenv([path], {}, explicit=True)
        assert sys.modules.get("dotenv") is dotenv
    assert found == [(path, [("A", "1", str(path))])]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(None, False, id="not-installed"),
        pytest.param(ModuleSpec("dotenv", None), False, id="a-module-not-a-package"),
        pytest.param(ModuleSpec("dotenv", None, is_package=True), True, id="a-package"),
    ],
)
def test_stand_in_package(monkeypatch: pytest.MonkeyPatch, spec: ModuleSpec | None, expected: bool) -> None:
    """The stand-in is an empty `dotenv` package over the real one's folders; none where there is no package."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec if name == "dotenv" else None)
    with mock.patch.dict(sys.modules):
        sys.modules.pop("dotenv", None)
        made = _stand_in_package()
        package = sys.modules.get("dotenv")
    stand_in = None if package is None else (package.__name__, package.__path__)
    assert (made, stand_in) == (expected, ("dotenv", []) if expected else None)
