"""Tokens that rotate mid-run: a real `mlflow server` behind a loopback proxy that accepts only the current token."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from layered_mlflow.keys import TOKEN_PREFIX
from layered_mlflow.secrets import tokens
from tests.conftest import COMMAND, Project
from tests.servers import LOOPBACK, answers, free_port, running_with, started
from tests.test_tracking_server import environment

# The training job: logs, says it is half-way, waits for the rotation, logs again.
TRAIN = """
import os, pathlib, sys, time
import mlflow
here = pathlib.Path(sys.argv[1])
with mlflow.start_run() as run:
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    (here / "half-way").write_text(run.info.run_id)
    for _ in range(600):
        if (here / "rotated").exists():
            break
        time.sleep(0.1)
    for step in range(3, 6):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
print("logged 6")
"""


@dataclass
class Gate:
    """What the proxy accepts: ``Bearer <token>``, and nothing else."""

    token: str = "token-one"  # noqa: S105 (a test token)
    refused: list[str] = field(default_factory=list)


def _proxy(gate: Gate, upstream: int) -> type[http.server.BaseHTTPRequestHandler]:
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Authorization") != f"Bearer {gate.token}":
                gate.refused.append(self.path)
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            connection = http.client.HTTPConnection(LOOPBACK, upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "host")}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            connection.close()

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Proxy


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Gate]]:
    """A real `mlflow server` (sqlite) and, in front of it, the proxy; yields the proxy's port and its gate."""
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    argv = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder}/mlflow.db"]
    argv += ["--default-artifact-root", str(folder / "artifacts"), "--host", LOOPBACK, "--port", str(port)]
    with started(
        [*argv, "--workers", "1"], folder / "mlflow.log", answers(port, "/health"), cwd=folder, env=environment()
    ):
        gate = Gate()
        proxy = http.server.ThreadingHTTPServer((LOOPBACK, 0), _proxy(gate, port))
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        yield proxy.server_port, gate
        proxy.shutdown()
        proxy.server_close()


def _kubelet_write(folder: Path, token: str, generation: int) -> None:
    """As a kubelet updates a projected volume: a new timestamped folder, then ``..data`` swapped atomically."""
    new = folder / f"..2026_12_01_0{generation}"
    new.mkdir()
    (new / "token").write_text(token + "\n")
    (folder / "..data_tmp").symlink_to(new.name)
    os.replace(folder / "..data_tmp", folder / "..data")
    if not (folder / "token").is_symlink():
        (folder / "token").symlink_to("..data/token")


def _train(project: Project, gate: Gate, env: dict[str, str], rotate: object) -> subprocess.CompletedProcess[str]:
    """Run the job under `layered-mlflow run`, rotate the token when it is half-way, let it finish."""
    work = project.root / "work"
    work.mkdir(exist_ok=True)
    project.write("train.py", TRAIN)
    full = {**environment(), **env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    job = subprocess.Popen(
        [COMMAND, "run", "--", sys.executable, "train.py", str(work)],
        cwd=project.root,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(1200):
            if (work / "half-way").exists() or job.poll() is not None:
                break
            time.sleep(0.1)
        assert (work / "half-way").exists(), job.communicate(timeout=60)
        rotate()  # type: ignore[operator]
        (work / "rotated").write_text("")
        out, err = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
    return subprocess.CompletedProcess(job.args, job.returncode, out, err)


@pytest.mark.server
@pytest.mark.mlflow
def test_a_kubelet_rotated_token_file_keeps_logging(project: Project, guarded: tuple[int, Gate]) -> None:
    """token.file behind a ..data symlink: the proxy turns to the new token mid-run, and the job logs on."""
    port, gate = guarded
    gate.refused.clear()
    gate.token = "file-token-one"  # noqa: S105 (a test token)
    folder = project.root / "tokens"
    folder.mkdir()
    _kubelet_write(folder, "file-token-one", 1)
    project.write(
        "settings/mlflow.yml", f"mlflow_tracking_uri: http://{LOOPBACK}:{port}\ntoken:\n  file: tokens/token\n"
    )

    def rotate() -> None:
        gate.token = "file-token-two"  # noqa: S105 (a test token)
        _kubelet_write(folder, "file-token-two", 2)

    done = _train(project, gate, {}, rotate)
    assert done.returncode == 0, done.stderr
    assert "logged 6" in done.stdout
    assert gate.refused == []  # the changed file was seen before any request: no 401 was needed


@pytest.mark.server
@pytest.mark.mlflow
def test_a_command_token_is_fetched_again_after_a_401(project: Project, guarded: tuple[int, Gate]) -> None:
    """token.command, its TTL far away: refused once (401), the command runs again, and logging goes on."""
    port, gate = guarded
    gate.refused.clear()
    gate.token = "command-token-one"  # noqa: S105 (a test token)
    current = project.write("current-token", "command-token-one")
    argv = [sys.executable, "-c", f"print(open({str(current)!r}).read())"]
    project.write(
        "settings/mlflow.yml",
        f"mlflow_tracking_uri: http://{LOOPBACK}:{port}\ntoken:\n  command: {json.dumps(argv)}\n  ttl: 3600\n",
    )

    def rotate() -> None:
        gate.token = "command-token-two"  # noqa: S105 (a test token)
        current.write_text("command-token-two")

    done = _train(project, gate, {}, rotate)
    assert done.returncode == 0, done.stderr
    assert "logged 6" in done.stdout
    assert len(gate.refused) == 1, gate.refused  # the one 401 that made the provider run the command again


@pytest.mark.server
@pytest.mark.mlflow
def test_a_static_token_fails_after_the_rotation(project: Project, guarded: tuple[int, Gate]) -> None:
    """The same job with MLFLOW_TRACKING_TOKEN: logging works until the token rotates, then fails with 401."""
    port, gate = guarded
    gate.refused.clear()
    gate.token = "static-token-one"  # noqa: S105 (a test token)
    project.write("settings/mlflow.yml", f"mlflow_tracking_uri: http://{LOOPBACK}:{port}\n")

    def rotate() -> None:
        gate.token = "static-token-two"  # noqa: S105 (a test token)

    done = _train(project, gate, {"MLFLOW_TRACKING_TOKEN": "static-token-one"}, rotate)
    assert done.returncode != 0, done.stdout
    assert "401" in done.stderr, done.stderr
    assert "logged 6" not in done.stdout


# A job that logs a step each time the test says `go-N`: the test breaks the token's source between steps.
STEPS = """
import pathlib, sys, time
import mlflow
here = pathlib.Path(sys.argv[1])
(here / "ready").write_text("")
with mlflow.start_run():
    step = 0
    while True:
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        (here / f"logged-{step}").write_text("")
        while not (here / f"go-{step + 1}").exists() and not (here / "stop").exists():
            time.sleep(0.05)
        if (here / "stop").exists():
            break
        step += 1
print(f"logged {step + 1}")
"""


def _drive(
    project: Project, before: Callable[[], None], faults: Sequence[Callable[[], object]]
) -> subprocess.CompletedProcess[str]:
    """Run STEPS under `layered-mlflow run`: ``before`` once it has imported mlflow, then a fault before each step."""
    work = project.root / "work"
    work.mkdir()
    project.write("steps.py", STEPS)
    job = subprocess.Popen(
        [COMMAND, "run", "--", sys.executable, "steps.py", str(work)],
        cwd=project.root,
        env={**environment(), "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def reached(name: str) -> bool:
        for _ in range(1200):
            if (work / name).exists() or job.poll() is not None:
                break
            time.sleep(0.05)
        return (work / name).exists()

    try:
        if reached("ready"):
            before()
        for step, fault in enumerate(faults, start=1):
            if not reached(f"logged-{step - 1}"):
                break
            fault()
            (work / f"go-{step}").write_text("")
        reached(f"logged-{len(faults)}")
        (work / "stop").write_text("")
        out, err = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
    return subprocess.CompletedProcess(job.args, job.returncode, out, err)


@pytest.mark.server
@pytest.mark.mlflow
def test_a_job_outlives_every_fault_of_its_token_file(project: Project, guarded: tuple[int, Gate]) -> None:
    """Missing at start, emptied, deleted, a folder, a FIFO, /dev/zero, garbage: the job logs on with the last token.

    Each fault is said once on stderr, in one line without a byte of a token; the rotation after them is followed.
    """
    port, gate = guarded
    gate.refused.clear()
    gate.token = "file-token-one"  # noqa: S105 (a test token)
    path = project.root / "token"
    project.write("settings/mlflow.yml", f"mlflow_tracking_uri: http://{LOOPBACK}:{port}\ntoken:\n  file: token\n")

    def written(text: str) -> Callable[[], object]:
        return lambda: path.write_text(text)

    def swapped(make: Callable[[], object]) -> Callable[[], None]:
        def swap() -> None:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            elif path.exists() or path.is_symlink():
                path.unlink()
            make()

        return swap

    def rotated() -> None:
        gate.token = "file-token-two"  # noqa: S105 (a test token)
        path.write_text("file-token-two\n")

    def missing_at_start() -> None:
        time.sleep(1)  # the job's first request is waiting for the file by now
        path.write_text("file-token-one\n")

    faults = [
        written(""),  # a non-atomic rewrite, caught while the file is empty
        written("file-token-one\n"),
        swapped(lambda: None),  # deleted
        swapped(path.mkdir),
        swapped(lambda: os.mkfifo(path)),
        swapped(lambda: path.symlink_to("/dev/zero")),
        swapped(lambda: path.write_text("garbage-line-one\ngarbage-line-two\n")),
        rotated,
    ]
    done = _drive(project, missing_at_start, faults)
    assert done.returncode == 0, done.stderr
    assert f"logged {len(faults) + 1}" in done.stdout, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("layered-mlflow: warning: token.file")]
    assert len(warnings) == 6, done.stderr  # the second write is whole again; the rotation is no fault
    assert "Traceback" not in done.stderr, done.stderr
    for leak in ("file-token", "garbage-line"):
        assert leak not in done.stderr, done.stderr


@pytest.mark.server
@pytest.mark.mlflow
def test_a_job_outlives_every_fault_of_its_token_command(project: Project, guarded: tuple[int, Gate]) -> None:
    """A command that fails, prints garbage, hangs or leaves a child behind: the job logs on, no process is left."""
    port, gate = guarded
    gate.refused.clear()
    gate.token = "command-token-one"  # noqa: S105 (a test token)
    mode = project.write("mode", "ok")
    marker = str(project.root / "left-behind")
    script = project.write(
        "get-token.py",
        "import pathlib, subprocess, sys, time\n"
        f"mode = pathlib.Path({str(mode)!r}).read_text()\n"
        "if mode == 'fail':\n    sys.exit(3)\n"
        "if mode == 'garbage':\n    print('garbage-line-one\\ngarbage-line-two')\n    sys.exit(0)\n"
        "if mode in ('hang', 'orphan'):\n"
        f"    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {marker!r}])\n"
        "if mode == 'hang':\n    time.sleep(600)\n"
        "print('command-token-two' if mode == 'two' else 'command-token-one')\n",
    )
    argv = [sys.executable, str(script)]
    project.write(
        "settings/mlflow.yml",
        f"mlflow_tracking_uri: http://{LOOPBACK}:{port}\ntoken:\n  command: {json.dumps(argv)}\n  ttl: 1\n",
    )

    def moded(name: str) -> Callable[[], None]:
        def switch() -> None:
            mode.write_text(name)
            if name == "two":
                gate.token = "command-token-two"  # noqa: S105 (a test token)
            time.sleep(1.1)  # the token is older than its TTL: the next request runs the command

        return switch

    faults = [moded(name) for name in ("fail", "garbage", "hang", "orphan", "two")]
    done = _drive(project, lambda: None, faults)
    assert done.returncode == 0, done.stderr
    assert f"logged {len(faults) + 1}" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    for leak in ("command-token", "garbage-line"):
        assert leak not in done.stderr, done.stderr
    assert "timed out; killed" in done.stderr, done.stderr
    assert running_with(str(marker)) == []


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        pytest.param({"FILE": "/t"}, {tokens.AUTH: tokens.PROVIDER, tokens.FILE: "/t"}, id="file"),
        pytest.param(
            {"COMMAND": "get-token,--audience,mlflow"},
            {tokens.AUTH: tokens.PROVIDER, tokens.COMMAND: '["get-token", "--audience", "mlflow"]', tokens.TTL: "300"},
            id="command-default-ttl",
        ),
        pytest.param({}, {}, id="no-section"),
    ],
)
def test_the_command_gets_what_the_provider_reads(
    project: Project, section: dict[str, str], expected: dict[str, str]
) -> None:
    """LAYERED_MLFLOW_TOKEN__FILE / __COMMAND (a list: comma-separated) give MLFLOW_TRACKING_AUTH and where to read."""
    child = project.child_env(env={f"{TOKEN_PREFIX}{name}": value for name, value in section.items()})
    assert {k: child[k] for k in (tokens.AUTH, tokens.FILE, tokens.COMMAND, tokens.TTL) if k in child} == expected
