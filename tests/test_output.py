"""SPEC §8: output that cannot be written ends the command as `cat` ends, never with a traceback or exit 70."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from layered_mlflow.cli import output
from tests.conftest import COMMAND, Project

COMMANDS = [
    pytest.param(("show",), id="show"),
    pytest.param(("show", "--format", "json"), id="show-json"),
    pytest.param(("env",), id="env"),
    pytest.param(("explain", "mlflow_tracking_uri"), id="explain"),
    pytest.param(("check",), id="check"),
    pytest.param(("run", "--dry-run", "--", "true"), id="dry-run"),
]


def _started(project: Project, args: tuple[str, ...], stdout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args], cwd=project.root, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False, timeout=120
    )


@pytest.mark.parametrize("args", COMMANDS)
def test_reader_gone_is_a_silent_sigpipe(project: Project, args: tuple[str, ...]) -> None:
    """Into a pipe nobody reads (`| head -c0`): killed by SIGPIPE like `cat` (141 in a shell), nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before the command starts, so its first write certainly fails
    try:
        done = _started(project, args, write_end)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (-signal.SIGPIPE, ""), done


@pytest.mark.parametrize("args", COMMANDS)
def test_full_disk_is_one_line(project: Project, args: tuple[str, ...]) -> None:
    """Into /dev/full: one line naming the failure, exit 2, and no complaint from the interpreter's exit."""
    with Path("/dev/full").open("w") as full:
        done = _started(project, args, full.fileno())
    assert done.returncode == 2, done
    assert done.stderr == "layered-mlflow: error: cannot write the output: No space left on device\n", done


def test_closed_stdout_is_one_line(project: Project) -> None:
    """With stdout closed (`>&-`), `show` says it cannot write instead of succeeding with nothing printed."""
    done = subprocess.run(
        ["sh", "-c", f"exec {COMMAND} show >&-"], cwd=project.root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done
    assert done.stderr == "layered-mlflow: error: cannot write the output: Bad file descriptor\n", done


# Writes ``text`` (str, or {"bytes": latin-1 text}) on stdout or stderr the way ``how`` says, as `show` does.
ECHO = """
import json, sys
from layered_mlflow.cli import process
from layered_mlflow.cli import output
process.prepare()
how, text, nl, err = json.loads(sys.argv[1])
text = text["bytes"].encode("latin-1") if isinstance(text, dict) else text
if how == "click":
    import click
    click.echo(text, nl=nl, err=err)
else:
    output.echo(text, nl=nl, err=err)
"""


@pytest.mark.parametrize("err", [pytest.param(False, id="stdout"), pytest.param(True, id="stderr")])
@pytest.mark.parametrize("encoding", [pytest.param(None, id="utf-8"), pytest.param("ascii", id="ascii-stream")])
@pytest.mark.parametrize(
    ("text", "nl"),
    [
        pytest.param("mlflow_tracking_uri  file:///p/mlruns", True, id="plain"),
        pytest.param("", False, id="nothing"),
        pytest.param("", True, id="a-newline"),
        pytest.param("a\x1b[31mred\x1b[0m and \x1b[2J cleared", True, id="escape-sequences-stripped"),
        pytest.param("bell\x07 and \x1b]0;title\x07 stay", True, id="not-csi-sequences-stay"),
        pytest.param("caf\u00e9 \udcff", True, id="non-utf8-byte-as-surrogate"),
        pytest.param({"bytes": "A=caf\u00e9\xff\n"}, False, id="bytes"),
    ],
)
def test_output_writes_what_click_echo_writes(text: object, nl: bool, encoding: str | None, err: bool) -> None:
    """`show`/`env` print, and errors are said, without click; into a pipe, the bytes are exactly click.echo's."""
    env = {**os.environ, **({"PYTHONIOENCODING": encoding} if encoding else {})}

    def written(how: str) -> tuple[bytes, bytes]:
        argv = [sys.executable, "-c", ECHO, json.dumps([how, text, nl, err])]
        done = subprocess.run(argv, capture_output=True, env=env, check=True)
        return done.stdout, done.stderr

    assert written("layered-mlflow") == written("click")


def test_the_escape_sequences_are_clicks() -> None:
    """The pattern of what click.echo strips is click's own; a click that changes it fails here first."""
    from click import _compat

    assert output.ANSI.pattern == _compat._ansi_re.pattern


class BareStream:
    """A stdout replacement with only write and flush: no encoding, no isatty, no buffer."""

    def __init__(self) -> None:
        self.parts: list[str | bytes] = []  # click takes a writer that accepts b"" for a binary one

    def write(self, text: str | bytes) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def written(self) -> bytes:
        return b"".join(part if isinstance(part, bytes) else part.encode() for part in self.parts)


@pytest.mark.parametrize("err", [pytest.param(False, id="stdout"), pytest.param(True, id="stderr")])
def test_a_bare_stream_gets_what_click_echo_gives_it(err: bool) -> None:
    """In-process, with stdout or stderr replaced by a bare writer (a test harness, an embedding): as click.echo."""
    import click

    text = "a\x1b[31mred\x1b[0m line"
    mine, clicks = BareStream(), BareStream()
    redirect = contextlib.redirect_stderr if err else contextlib.redirect_stdout
    with redirect(mine):
        output.echo(text, err=err)
    with redirect(clicks):
        click.echo(text, err=err)
    assert mine.written() == clicks.written() == b"ared line\n"


# A terminal obeys these: OSC sets the window title (ended by BEL), CSI (8-bit) clears the screen.
HOSTILE = "\x1b]0;pwned\x07\x9b2J"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but the line break and the tab


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("show",), id="show"),
        pytest.param(("show", "--format", "json"), id="show-json"),
        pytest.param(("check",), id="check"),
        pytest.param(("explain", f"key{HOSTILE}"), id="explain"),
        pytest.param(("explain", f"no{HOSTILE}such"), id="explain-unknown"),
        pytest.param(("--set", f"{HOSTILE}=x", "show"), id="bad-set"),
    ],
)
def test_a_key_cannot_command_the_terminal(project: Project, args: tuple[str, ...]) -> None:
    """A key holding escape sequences is shown escaped (JSON: as \\u escapes), never written raw."""
    project.write("settings/mlflow.yml", f'"key{HOSTILE.encode("unicode_escape").decode()}": 1\n')
    result = project.cli(*args)
    assert result.returncode in (0, 1, 2), result
    assert not RAW_CONTROL.search(result.stdout + result.stderr), repr(result.stdout + result.stderr)
    if args[-1] == "json":
        assert f"key{HOSTILE}".lower() in json.loads(result.stdout)["settings"]


def test_show_names_a_root_with_escapes_and_a_line_break_on_one_line(tmp_path: Path) -> None:
    """`show`'s root row under `a<ESC>[2Jb<newline>c` is one row, the sequence and the line break escaped."""
    project = Project(tmp_path / "a\x1b[2Jb\nc")
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    result = project.cli("show")
    assert result.returncode == 0, result
    rows = [line for line in result.stdout.splitlines() if line.startswith("root ")]
    assert rows == [f"root         {tmp_path}/a\\x1b[2Jb\\x0ac"], result


@pytest.mark.parametrize("args", [("show",), ("check",), ("run", "--", "true"), ("env",)], ids=" ".join)
def test_a_folder_name_with_escapes_and_a_line_break_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    """An error naming a file under `a<ESC>[2Jb<newline>c` is one line on stderr, the sequence escaped."""
    project = Project(tmp_path / "a\x1b[2Jb\nc")
    project.write("settings/mlflow.yml", "x: [1\n")
    result = project.cli(*args)
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1, result
    assert result.stderr.startswith(f"layered-mlflow: error: {tmp_path}/a\\x1b[2Jb c/settings/mlflow.yml:2:1"), result
