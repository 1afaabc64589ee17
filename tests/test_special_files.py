"""SPEC §8: a path that names a FIFO, a device or a huge file is refused by name, never read until it hangs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Project

BASE = "settings/mlflow.yml"
# A hang shows as subprocess.TimeoutExpired: far above the tool's cost, so load cannot fail it.
HANG = 60


def _point(path: Path, kind: str, tmp_path: Path) -> None:
    """Make ``path`` a FIFO, a link to a device, or a sparse file larger than any limit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("zero", "urandom"):
        path.symlink_to(f"/dev/{kind}")
    else:
        with path.open("wb") as stream:
            stream.truncate(5 * 1024 * 1024)  # holes: no disk used, yet the size is 5 MiB


KINDS = [
    pytest.param("fifo", "is a named pipe (FIFO), not a regular file", id="fifo"),
    pytest.param("zero", "is a character device, not a regular file", id="dev-zero"),
    pytest.param("urandom", "is a character device, not a regular file", id="dev-urandom"),
    pytest.param("huge", "larger than 4 MiB", id="5-MiB"),
]
# (where the special file is, arguments, environment); {path} is its absolute path
PLACES = [
    pytest.param(BASE, (), {}, id="base-file"),
    pytest.param("settings/mlflow.production.yml", ("--env", "production"), {}, id="environment-file"),
    pytest.param("settings/mlflow.local.yml", (), {}, id="local-file"),
    pytest.param(".env", (), {}, id="dotenv"),
    pytest.param("other.env", ("--env-file", "other.env"), {}, id="env-file"),
    pytest.param("secret", (), {"MLFLOW_TRACKING_PASSWORD_FILE": "{path}"}, id="x-file"),
]


@pytest.mark.parametrize(("kind", "message"), KINDS)
@pytest.mark.parametrize(("relative", "args", "env"), PLACES)
def test_special_file_is_refused_by_name(
    project: Project,
    tmp_path: Path,
    kind: str,
    message: str,
    relative: str,
    args: tuple[str, ...],
    env: dict[str, str],
) -> None:
    """Each place a file is read: exit 2 at once, one line naming the file, instead of a hang or exit 70."""
    if relative != BASE:
        project.write(BASE, "mlflow_experiment_name: ok\n")
    path = project.root / relative
    _point(path, kind, tmp_path)
    if kind == "huge" and relative == "secret":
        message = "larger than 1 MiB"  # one variable's value
    result = project.cli(*args, "run", "--", "true", env={k: v.format(path=path) for k, v in env.items()}, timeout=HANG)
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert len(result.stderr.splitlines()) == 1, result
    assert message in result.stderr, result
    assert str(path) in result.stderr, result


@pytest.mark.parametrize("command", [("run", "--", "true"), ("show",), ("check",)])
def test_other_environments_fifo_is_not_opened(project: Project, tmp_path: Path, command: tuple[str, ...]) -> None:
    """A FIFO as the file of an environment that is not active: nothing reads it, so nothing waits for it."""
    project.write(BASE, "mlflow_experiment_name: ok\n")
    _point(project.root / "settings/mlflow.staging.yml", "fifo", tmp_path)
    result = project.cli(*command, timeout=HANG)
    assert result.returncode == 0, result
    assert "error" not in result.stderr, result


def test_files_up_to_the_limit_are_read(project: Project) -> None:
    """A 3 MiB `.env` and a 1 MiB secret are big but within the limits: both are read."""
    project.write_bytes(".env", b"# padding\n" * (300 * 1024) + b"BIG=" + b"b" * 1000 + b"\n")
    secret = project.write_bytes("secret", b"s" * (1024 * 1024))
    env = {"MLFLOW_TRACKING_PASSWORD_FILE": str(secret)}
    result = project.cli("env", "--format", "json", "--show-secrets", env=env, timeout=HANG)
    assert result.returncode == 0, result
    variables = result.json()
    assert (len(variables["BIG"]), len(variables["MLFLOW_TRACKING_PASSWORD"])) == (1000, 1024 * 1024)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        *KINDS,
        pytest.param("kmsg", "cannot read it", id="proc-kmsg"),
        pytest.param("sparse-10-GiB", "larger than 4 MiB", id="10-GiB"),
    ],
)
@pytest.mark.parametrize("where", ["working-directory", "ancestor"])
def test_a_pyproject_toml_that_is_no_regular_file_is_refused_by_name(
    project: Project, tmp_path: Path, kind: str, message: str, where: str
) -> None:
    """Finding the project reads each `pyproject.toml` on the way up (a Kedro marker): a FIFO, a device,
    `/proc/kmsg` or a huge file there is exit 2 naming it, never a hang or a MemoryError, nor skipped (which
    would silently choose another project root)."""
    below = project.root / "notebooks" / "eda"
    below.mkdir(parents=True)
    path = (below if where == "working-directory" else project.root) / "pyproject.toml"
    if kind == "kmsg":
        path.symlink_to("/proc/kmsg")
    elif kind == "sparse-10-GiB":
        with path.open("wb") as stream:
            stream.truncate(10 * 1024**3)
    else:
        _point(path, kind, tmp_path)
    result = project.cli("run", "--", "true", cwd=below, timeout=HANG)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {path}: "), result
    assert len(result.stderr.splitlines()) == 1, result
    assert message in result.stderr, result
    assert "--project-dir" in result.stderr, result
