"""Real servers for the tests: started on 127.0.0.1 on free ports, polled until ready, stopped by PID."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"  # the only address these tests ever reach
READY_WITHIN = 120.0  # seconds; MLflow starts in ~7 s on two idle cores
STOP_WITHIN = 30.0


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick for a bound-then-closed socket)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def request(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    """GET ``path`` from 127.0.0.1:``port``, with ``host`` as the Host header if given."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        headers = {"Host": host} if host else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def answers(port: int, path: str) -> Callable[[], bool]:
    """A readiness check: ``path`` answers 200."""

    def check() -> bool:
        try:
            return request(port, path)[0] == 200
        except OSError:
            return False

    return check


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((LOOPBACK, port)) == 0


@dataclass(frozen=True)
class Started:
    """A running server process, its log, and how long it took to be ready."""

    process: subprocess.Popen[bytes]
    log: Path
    startup: float  # seconds from start to ready

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def started(
    argv: Sequence[str],
    log: Path,
    ready: Callable[[], bool],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> Iterator[Started]:
    """Start ``argv``, wait until ``ready()`` (bounded), and always stop it by PID afterwards."""
    with log.open("wb") as out:
        begun = time.monotonic()
        who, group, groups = _identity(user)
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, user=who, group=group, extra_groups=groups
        )
        try:
            while not ready():
                if process.poll() is not None:
                    pytest.fail(f"{argv[0]} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
                if time.monotonic() - begun > READY_WITHIN:
                    pytest.fail(f"{argv[0]} not ready within {READY_WITHIN} s:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
            yield Started(process, log, time.monotonic() - begun)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after a timeout, to the process and (then) its descendants, by PID."""
    if process.poll() is not None:
        return
    family = descendants(process.pid)
    process.terminate()
    try:
        process.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in family:  # a killed parent cannot forward the signal to its workers
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


def descendants(pid: int) -> list[int]:
    """The PIDs of ``pid``'s children, grandchildren, …, as Linux lists them."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in map(int, children.read_text().split()):
                found += [child, *descendants(child)]
    return found


def running_with(marker: str) -> list[int]:
    """The PIDs of processes whose argv holds ``marker``, once those just killed have had a moment to end."""
    for _ in range(40):
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError):
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
        if not found:
            break
        time.sleep(0.05)
    return found


def _identity(user: str | None) -> tuple[str | None, int | None, list[int] | None]:
    """Popen's ``user``, ``group`` and ``extra_groups``: ``user`` with its own group only, or unchanged."""
    return (None, None, None) if user is None else (user, _ids(user)[1], [])


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries: on PATH, else Debian's /usr/lib/postgresql/<v>/bin."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((c for c in candidates if (c / "initdb").is_file() and (c / "postgres").is_file()), None)


@contextlib.contextmanager
def postgres_cluster(log: Path, database: str) -> Iterator[int]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 with ``database``; yields its port."""
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("no PostgreSQL server (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin")
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 (the test extra psycopg2-binary) is not installed")
    # initdb and postgres refuse to run as root; a root test run hands the cluster to `nobody`.
    user = "nobody" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="layered-mlflow-pg-"))  # not tmp_path: `nobody` cannot enter that
    try:
        if user is not None:
            os.chown(folder, *_ids(user))
        data, port = folder / "data", free_port()
        initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "mlflow", "--auth=trust", "--no-sync"]
        initdb += ["--encoding=UTF8", "--locale=C"]
        who, group, groups = _identity(user)
        subprocess.run(initdb, check=True, capture_output=True, timeout=120, user=who, group=group, extra_groups=groups)
        options = ["-c", f"listen_addresses={LOOPBACK}", "-c", "unix_socket_directories=", "-c", "fsync=off"]
        argv = [str(binaries / "postgres"), "-D", str(data), "-p", str(port), *options]
        connect = {"host": LOOPBACK, "port": port, "user": "mlflow", "dbname": "postgres", "connect_timeout": 5}

        def ready() -> bool:
            try:
                psycopg2.connect(**connect).close()
            except psycopg2.OperationalError:
                return False
            return True

        with started(argv, log, ready, user=user):
            connection = psycopg2.connect(**connect)
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            connection.cursor().execute(f'CREATE DATABASE "{database}"')
            connection.close()
            yield port
    finally:
        shutil.rmtree(folder, ignore_errors=True)
