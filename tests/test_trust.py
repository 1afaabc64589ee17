"""Whose files are trusted (SPEC §2): a project found from the working directory that another user may have chosen.

Run as two users: as root, files are given to another uid (``chown``), and the victim runs either as
root or as another uid (``setpriv``), in a sticky world-writable folder under /tmp (a stand-in for it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import COMMAND

ATTACKER = 4242  # no account needs to exist for a file to be theirs
VICTIM = 4243
ROOT = 0
PLANTED_URI = "http://127.0.0.1:5999"
PYPROJECT = '[tool.kedro]\npackage_name = "demo"\nproject_name = "demo"\nkedro_init_version = "1.0.0"\n'
SETTINGS = f"mlflow_tracking_uri: {PLANTED_URI}\n"
KEDRO_CONF = f"server:\n  mlflow_tracking_uri: {PLANTED_URI}\n"
DOTENV = f"MLFLOW_TRACKING_URI={PLANTED_URI}\nLD_PRELOAD=/planted.so\nPYTHONPATH=/planted\n"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")


class File(NamedTuple):
    """A file (or, ending in /, a folder) of the shared folder: its owner and mode."""

    path: str
    owner: int
    mode: int
    text: str = ""


def _as(uid: int) -> list[str]:
    return [] if uid == ROOT else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


@pytest.fixture
def shared() -> Iterator[Path]:
    """A sticky folder every user can write, as /tmp is (tmp_path is root's alone: no other uid reaches it)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    folder.chmod(0o1777)
    probe = subprocess.run([*_as(VICTIM), COMMAND, "--version"], capture_output=True, check=False, timeout=60)
    if probe.returncode != 0:  # pragma: no cover (a checkout or venv other users cannot reach)
        shutil.rmtree(folder)
        pytest.skip(f"uid {VICTIM} cannot run {COMMAND}")
    yield folder
    shutil.rmtree(folder)


def plant(shared: Path, files: list[File]) -> None:
    for file in files:
        path = shared / file.path
        if file.path.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file.text, encoding="utf-8")
        os.chown(path, file.owner, file.owner)
        path.chmod(file.mode)


def run_as(uid: int, cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``layered-mlflow ARGS run`` printing the child's environment (``env``), as ``uid``, from ``cwd``."""
    # Not PRINT_ENV: another uid may not reach this interpreter by its path (root's pyenv), as the command does.
    argv = [*_as(uid), COMMAND, *args, "run", "--", "/usr/bin/env"]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, text=True, check=False, timeout=120)


def _mine(owner: int, text: str = SETTINGS) -> list[File]:
    """A settings/ project at ``proj`` that ``owner`` keeps as people do: folders 0755, files 0644."""
    return [
        File("proj/", owner, 0o755),
        File("proj/settings/", owner, 0o755),
        File("proj/settings/mlflow.yml", owner, 0o644, text),
        File("proj/work/", owner, 0o755),
    ]


def _kedro(owner: int, conf_owner: int) -> list[File]:
    return [
        File("proj/", owner, 0o755),
        File("proj/pyproject.toml", owner, 0o644, PYPROJECT),
        File("proj/conf/", owner, 0o755),
        File("proj/conf/base/", owner, 0o755),
        File("proj/conf/base/mlflow.yml", conf_owner, 0o644, KEDRO_CONF),
        File("proj/work/", owner, 0o755),
    ]


# In the shared folder itself, by the attacker: what the issue found used.
PLANTED_SETTINGS = [File("settings/", ATTACKER, 0o755), File("settings/mlflow.yml", ATTACKER, 0o644, SETTINGS)]
PLANTED_KEDRO = [
    File("pyproject.toml", ATTACKER, 0o644, PYPROJECT),
    File("conf/", ATTACKER, 0o755),
    File("conf/base/", ATTACKER, 0o755),
    File("conf/base/mlflow.yml", ATTACKER, 0o644, KEDRO_CONF),
]
WORK = [File("work/", ROOT, 0o755), File("work/deeper/", ROOT, 0o755)]
NAMED_BY_OPTION = ("--project-dir", "{shared}")
NAMED_BY_VARIABLE = {"LAYERED_MLFLOW_PROJECT_DIR": "{shared}"}


class Case(NamedTuple):
    files: list[File]
    cwd: str
    victim: int
    refused: str | None  # the start of the error after the shared folder's path; None: the files are used
    option: tuple[str, ...] = ()
    variable: Mapping[str, str] = {}


CASES = {
    "settings-planted-above-root-victim": Case(
        PLANTED_SETTINGS + WORK, "work/deeper", ROOT, "/settings/mlflow.yml is owned by another user (uid 4242)"
    ),
    "settings-planted-above-user-victim": Case(
        PLANTED_SETTINGS + WORK, "work/deeper", VICTIM, "/settings/mlflow.yml is owned by another user (uid 4242)"
    ),
    "dotenv-planted-in-the-working-directory": Case(
        [File(".env", ATTACKER, 0o644, DOTENV)], ".", VICTIM, "/.env is owned by another user (uid 4242)"
    ),
    "settings-folder-of-another-user": Case(
        [File("settings/", ATTACKER, 0o755), File("settings/mlflow.yml", ROOT, 0o644, SETTINGS), *WORK],
        "work",
        ROOT,
        "/settings is owned by another user (uid 4242)",
    ),
    "dotenv-of-another-user-in-a-team-project": Case(
        [*_mine(VICTIM), File("proj/", VICTIM, 0o2775), File("proj/.env", ATTACKER, 0o644, DOTENV)],
        "proj/work",
        VICTIM,
        "/proj/.env is owned by another user (uid 4242)",
    ),
    "kedro-project-planted-above": Case(
        PLANTED_KEDRO + WORK, "work/deeper", VICTIM, "/pyproject.toml is owned by another user (uid 4242)"
    ),
    "kedro-conf-file-of-another-user": Case(
        _kedro(VICTIM, ATTACKER), "proj/work", VICTIM, "/proj/conf/base/mlflow.yml is owned by another user"
    ),
    "settings-planted-named-by-option": Case(PLANTED_SETTINGS + WORK, "work/deeper", VICTIM, None, NAMED_BY_OPTION),
    "settings-and-dotenv-planted-named-by-option": Case(
        [
            File("settings/", ATTACKER, 0o755),
            File("settings/mlflow.yml", ATTACKER, 0o644, "mlflow_tracking_uri: http://127.0.0.1:5000\n"),
            File(".env", ATTACKER, 0o644, f"MLFLOW_TRACKING_URI={PLANTED_URI}\n"),
            *WORK,
        ],
        "work/deeper",
        VICTIM,
        None,
        NAMED_BY_OPTION,
    ),
    "env-file-of-another-user-named-and-planted-dotenv-unread": Case(
        [
            File(".env", ATTACKER, 0o644, DOTENV),
            File("theirs.env", ATTACKER, 0o644, f"MLFLOW_TRACKING_URI={PLANTED_URI}\n"),
        ],
        ".",
        VICTIM,
        None,
        ("--env-file", "{shared}/theirs.env"),
    ),
    "kedro-planted-named-by-variable": Case(
        PLANTED_KEDRO + WORK, "work/deeper", VICTIM, None, variable=NAMED_BY_VARIABLE
    ),
    "root-owned-files-user-victim": Case(
        [
            *_mine(ROOT, "mlflow_tracking_uri: http://127.0.0.1:5000\n"),
            File("proj/.env", ROOT, 0o644, f"MLFLOW_TRACKING_URI={PLANTED_URI}\n"),
        ],
        "proj/work",
        VICTIM,
        None,
    ),
    "group-writable-team-folder-of-the-victim": Case(
        [
            File("proj/", VICTIM, 0o2775),
            File("proj/settings/", VICTIM, 0o2775),
            File("proj/settings/mlflow.yml", VICTIM, 0o664, SETTINGS),
            File("proj/work/", VICTIM, 0o2775),
        ],
        "proj/work",
        VICTIM,
        None,
    ),
    "world-writable-file-of-the-victim": Case(
        [*_mine(VICTIM), File("proj/settings/mlflow.yml", VICTIM, 0o666, SETTINGS)],
        "proj/work",
        VICTIM,
        "/proj/settings/mlflow.yml is writable by every user (owner uid 4243)",
    ),
    "own-dotenv-in-a-world-writable-working-directory-holding-no-project": Case(
        [File(".env", VICTIM, 0o644, f"MLFLOW_TRACKING_URI={PLANTED_URI}\n")], ".", VICTIM, None
    ),
    "world-writable-root-of-the-victims-files": Case(
        [File("settings/", VICTIM, 0o755), File("settings/mlflow.yml", VICTIM, 0o644, SETTINGS)],
        ".",
        VICTIM,
        " is writable by every user (owner root)",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_found_project_is_used_only_if_no_other_user_may_have_chosen_its_files(shared: Path, case: Case) -> None:
    """SPEC §2, git's rule since CVE-2022-24765: a file or folder of a project found from the working
    directory that another user owns (root's own are trusted) or every user can write is refused (exit 2,
    naming it and its owner); a group-writable team folder is fine, and a project named is trusted."""
    plant(shared, case.files)
    option = tuple(arg.format(shared=shared) for arg in case.option)
    variable = {name: value.format(shared=shared) for name, value in case.variable.items()}
    result = run_as(case.victim, shared / case.cwd, *option, env=variable)
    if case.refused is None:
        assert (result.returncode, result.stderr) == (0, ""), result
        assert f"MLFLOW_TRACKING_URI={PLANTED_URI}" in result.stdout.splitlines(), result
    else:
        assert (result.returncode, result.stdout) == (2, ""), result
        assert result.stderr.startswith(f"layered-mlflow: error: {shared}{case.refused}"), result.stderr
        assert "--project-dir" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr


def test_the_issues_attack_an_attacker_plants_settings_and_dotenv_in_tmp(shared: Path) -> None:
    """Issue 26: another user, as themself (setpriv), plants settings/mlflow.yml and .env in the shared
    folder; the victim's `run` below it refuses them and starts nothing, instead of handing its command
    LD_PRELOAD, PYTHONPATH and the planted tracking URI."""
    script = (
        f"umask 022 && mkdir {shared}/settings && printf '{SETTINGS}' > {shared}/settings/mlflow.yml"
        f" && printf '{DOTENV}' > {shared}/.env"
    )
    subprocess.run([*_as(ATTACKER), "sh", "-c", script], check=True, timeout=30)
    plant(shared, [File("work/", VICTIM, 0o755)])
    result = run_as(VICTIM, shared / "work")
    assert (result.returncode, result.stdout) == (2, ""), result
    assert f"{shared}/settings/mlflow.yml is owned by another user (uid {ATTACKER})" in result.stderr
