"""The token sources in-process: what a hiccup of the file or the command does to the token sent (fast tables).

The same faults under a real training job and a real `mlflow server` are in test_tokens.py.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from layered_mlflow.secrets import token_sources
from layered_mlflow.secrets.token_sources import CommandToken, FileToken, TokenError
from tests.servers import running_with

GOOD = "token-one"


def _empty(path: Path) -> None:
    path.write_text("")


def _deleted(path: Path) -> None:
    path.unlink()


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _garbage_lines(path: Path) -> None:
    path.write_text("secret-garbage-1\nsecret-garbage-2\n")


def _binary(path: Path) -> None:
    path.write_bytes(b"secret\xff\x00garbage")


FILE_FAULTS: dict[str, Callable[[Path], None]] = {
    "emptied": _empty,
    "deleted": _deleted,
    "a-folder": _folder,
    "a-fifo": _fifo,
    "a-dev-zero-link": _dev_zero,
    "garbage-lines": _garbage_lines,
    "binary": _binary,
}


def _bounded(call: Callable[[], str], seconds: float = 10.0) -> str | BaseException:
    """``call()``'s answer, in a thread this test stops waiting for: a hang fails the test, not the suite."""
    outcome: list[str | BaseException] = []
    worker = threading.Thread(target=lambda: outcome.append(_caught(call)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"no answer within {seconds} s"
    return outcome[0]


def _caught(call: Callable[[], str]) -> str | BaseException:
    try:
        return call()
    except BaseException as exc:  # the test looks at it
        return exc


@pytest.mark.parametrize("fault", FILE_FAULTS.values(), ids=FILE_FAULTS.keys())
def test_a_file_fault_keeps_the_last_token_and_says_so_once(
    tmp_path: Path, fault: Callable[[Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    """Every fault of the file, a deleted and an emptied one alike, keeps the last good token, said in one line."""
    path = tmp_path / "token"
    path.write_text(GOOD + "\n")
    source = FileToken(str(path), retry_within=0)
    assert source.token() == GOOD
    fault(path)
    with caplog.at_level(logging.WARNING, logger="layered_mlflow"):
        assert _bounded(source.token) == GOOD
        assert _bounded(source.token) == GOOD
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1, said  # said once, not at every request
    assert said[0].startswith(f"layered-mlflow: warning: token.file {path}: ")
    assert "\n" not in said[0]
    assert "secret" not in said[0]


@pytest.mark.parametrize("fault", FILE_FAULTS.values(), ids=FILE_FAULTS.keys())
def test_without_a_good_token_a_file_fault_is_one_line(tmp_path: Path, fault: Callable[[Path], None]) -> None:
    """With no good token (none yet, or the last one refused), each fault is one TokenError without a token byte."""
    path = tmp_path / "token"
    path.write_text(GOOD + "\n")
    source = FileToken(str(path), retry_within=0)
    source.token()
    source.expire()  # the server answered 401
    fault(path)
    failure = _bounded(source.token)
    assert isinstance(failure, TokenError), failure
    assert str(failure).startswith(f"token.file {path}: ")
    assert str(failure).endswith("the last token was refused (HTTP 401)")
    for leak in ("secret", GOOD, "\n"):
        assert leak not in str(failure)


def test_a_file_missing_at_start_is_waited_for(tmp_path: Path) -> None:
    """No token yet: the first request waits (within the bound) for the file a sidecar writes a moment later."""
    path = tmp_path / "token"
    threading.Timer(0.5, lambda: path.write_text(GOOD)).start()
    assert _bounded(FileToken(str(path), retry_within=5).token) == GOOD


def test_a_file_that_never_comes_fails_at_the_bound(tmp_path: Path) -> None:
    """... and says so once the bound has passed."""
    begun = time.monotonic()
    failure = _bounded(FileToken(str(tmp_path / "token"), retry_within=0.5).token)
    assert isinstance(failure, TokenError)
    assert str(failure) == f"token.file {tmp_path / 'token'}: no such file (tried for 0.5 s)"
    assert time.monotonic() - begun >= 0.5


def _jwt(expires_in: float) -> str:
    def part(document: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': time.time() + expires_in})}.signature"


@pytest.mark.parametrize(
    ("expires_in", "kept"),
    [pytest.param(3600, True, id="valid-jwt"), pytest.param(-60, False, id="expired-jwt")],
)
def test_a_jwt_is_kept_until_its_exp(tmp_path: Path, expires_in: float, kept: bool) -> None:
    """The last token is kept while it is good: a JWT whose `exp` has passed is not sent again."""
    path = tmp_path / "token"
    token = _jwt(expires_in)
    path.write_text(token)
    source = FileToken(str(path), retry_within=0)
    assert source.token() == token  # just read: sent, whatever its exp says (the server decides)
    path.write_text("")
    outcome = _bounded(source.token)
    assert outcome == token if kept else isinstance(outcome, TokenError) and "has expired" in str(outcome)


def _command(tmp_path: Path, body: str) -> list[str]:
    """A token command whose behaviour the file ``mode`` selects: ok, fail, garbage, hang, orphan."""
    script = tmp_path / "get-token.py"
    script.write_text(body)
    return [sys.executable, str(script), str(tmp_path)]


COMMAND = """
import pathlib, subprocess, sys, time
here = pathlib.Path(sys.argv[1])
mode = (here / "mode").read_text()
if mode == "fail":
    sys.exit(3)
if mode == "garbage":
    print("secret-garbage one\\nsecret-garbage two")
    sys.exit(0)
if mode in ("hang", "orphan"):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", str(here / "marker")])
if mode == "hang":
    time.sleep(600)
print("token-one")
"""


@pytest.mark.parametrize("mode", ["fail", "garbage", "hang", "orphan"])
def test_a_command_fault_keeps_the_last_token_and_leaves_no_process(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A command that fails, prints garbage, hangs or leaves a child: the last token is sent on, nothing outlives it."""
    monkeypatch.setattr(token_sources, "COMMAND_TIMEOUT", 1.0)
    (tmp_path / "mode").write_text("ok")
    source = CommandToken(_command(tmp_path, COMMAND), ttl=0, retry_within=0)
    assert source.token() == GOOD
    (tmp_path / "mode").write_text(mode)
    with caplog.at_level(logging.WARNING, logger="layered_mlflow"):
        assert _bounded(source.token) == GOOD
    assert running_with(str(tmp_path / "marker")) == []
    said = " ".join(record.getMessage() for record in caplog.records)
    assert "secret" not in said
    expected = {"fail": "exit 3", "garbage": "2 lines where a token is one", "hang": "timed out; killed"}
    assert expected.get(mode, "") in said


def test_the_command_is_not_run_at_every_request_while_it_fails(tmp_path: Path) -> None:
    """After a failed run, while the last token serves, the command waits (its TTL, 30 s at most) to run again."""
    (tmp_path / "mode").write_text("ok")
    counted = "import sys; open(sys.argv[1] + '/runs', 'a').write('x')\n"
    source = CommandToken(_command(tmp_path, counted + COMMAND), ttl=1)
    source.token()
    (tmp_path / "mode").write_text("fail")
    time.sleep(1.1)
    for _ in range(5):
        assert source.token() == GOOD
    assert (tmp_path / "runs").read_text() == "xx"  # the first run, and one failed run


@pytest.mark.parametrize(
    ("printed", "message"),
    [
        pytest.param(b"  tok-en_1.2~+/=\n", None, id="jwt-alphabet-trimmed"),
        pytest.param(b"", "no token", id="nothing"),
        pytest.param(b"\n \t\n", "no token", id="white-space"),
        pytest.param(b"a\nb\n", "2 lines where a token is one", id="two-lines"),
        pytest.param(b"a b", "holds a space or a byte", id="a-space-inside"),
        pytest.param(b"a\x7fb", "holds a space or a byte", id="a-control-character"),
        pytest.param("tökén".encode(), "holds a space or a byte", id="not-ascii"),
    ],
)
def test_what_counts_as_a_token(printed: bytes, message: str | None) -> None:
    """A token is one line of visible ASCII: anything else is refused by name, never quoted."""
    if message is None:
        assert token_sources.checked(printed, "token.command x", "no token") == printed.strip().decode()
        return
    with pytest.raises(TokenError) as refused:
        token_sources.checked(printed, "token.command x", "no token")
    assert message in str(refused.value)
    assert "tok" not in str(refused.value).replace("token", "")
