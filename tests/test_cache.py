"""The cache of parsed settings files: never stale, private, skipped where it cannot be, off on request."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layered_mlflow import cache, settings_files
from tests.conftest import Project

WORDS = st.text("abcxyz019 -_:@#'\"{}[],.*&!%\\\n", max_size=12)
LINES = st.lists(
    st.tuples(st.sampled_from(["mlflow_experiment_name", "tags", "env", "a", "b"]), WORDS), min_size=1, max_size=6
)
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def render(lines: list[tuple[str, str]]) -> str:
    """A YAML text, often invalid, of top-level keys and nested ones (`tags:`, `env:` take indented lines)."""
    return "".join(
        f"{key}: {value}\n" if key not in ("tags", "env") else f"{key}:\n  X_{key}: {value}\n" for key, value in lines
    )


def outcome(path: Path, environ: dict[str, str]) -> object:
    """What reading ``path`` through the cache gives: the mapping, or the error's message."""
    try:
        return cache.read_settings_file(path, environ)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def uncached(path: Path) -> object:
    try:
        return settings_files.read_settings_file(path, {})
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@QUICK
@given(first=LINES, edits=st.lists(LINES, min_size=1, max_size=3))
def test_cached_and_uncached_results_are_identical_over_edits(
    tmp_path_factory: pytest.TempPathFactory, first: list[tuple[str, str]], edits: list[list[tuple[str, str]]]
) -> None:
    """Over generated files and edits (each read twice, so the second is a hit), the cache changes nothing."""
    folder = tmp_path_factory.mktemp("edits")
    path, environ = folder / "mlflow.yml", {"XDG_CACHE_HOME": str(folder / "cache")}
    for lines in [first, *edits]:
        path.write_text(render(lines))
        assert outcome(path, environ) == uncached(path)
        assert outcome(path, environ) == uncached(path)


@QUICK
@given(lines=LINES, flip=st.integers(min_value=0))
def test_an_edit_within_the_same_second_and_the_same_size_is_seen(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, str]], flip: int
) -> None:
    """One character changed, the size and modification time kept: the next read sees the edit."""
    folder = tmp_path_factory.mktemp("same")
    path, environ = folder / "mlflow.yml", {"XDG_CACHE_HOME": str(folder / "cache")}
    text = render(lines)
    path.write_text(text)
    outcome(path, environ)
    before = os.stat(path)
    at = flip % len(text)
    path.write_text(text[:at] + ("b" if text[at] != "b" else "c") + text[at + 1 :])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    assert outcome(path, environ) == uncached(path)


def cache_folder() -> Path:
    """The folder the tool under test keeps its cache in (the test's own, conftest.clean_environment)."""
    return Path(os.environ["XDG_CACHE_HOME"], "layered-mlflow")


def test_entries_are_private_and_hold_no_value_from_the_environment_or_dotenv(project: Project) -> None:
    """A 0700 folder of 0600 files; values from `.env`, the environment and references never reach it."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn-from-file\n")
    project.write(".env", "MLFLOW_TRACKING_PASSWORD=dotenv-secret\n")
    env = {"MLFLOW_TRACKING_USERNAME": "environ-secret", "MLFLOW_TRACKING_TOKEN": "env:SOME_TOKEN", "SOME_TOKEN": "t0k"}
    assert project.child_env(env=env)["MLFLOW_EXPERIMENT_NAME"] == "churn-from-file"
    folder = cache_folder()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    entries = list(folder.iterdir())
    assert [stat.S_IMODE(entry.stat().st_mode) for entry in entries] == [0o600]
    held = entries[0].read_bytes()
    assert b"churn-from-file" in held
    assert not any(secret in held for secret in (b"dotenv-secret", b"environ-secret", b"t0k"))


def test_a_file_evaluated_from_the_environment_is_not_cached(project: Project) -> None:
    """`@format {env[...]}` reads the environment: it is never stored, so a new value is seen at once."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: '@format exp-{env[WHO]}'\n")
    assert project.child_env(env={"WHO": "alice"})["MLFLOW_EXPERIMENT_NAME"] == "exp-alice"
    assert project.child_env(env={"WHO": "bob"})["MLFLOW_EXPERIMENT_NAME"] == "exp-bob"
    assert not cache_folder().exists() or list(cache_folder().iterdir()) == []


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: raw[:-3] + b"xyz", id="payload-changed"),
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: b"\x00" * 200, id="garbage"),
    ],
)
def test_a_malformed_entry_is_not_trusted(project: Project, damage: object) -> None:
    """A torn or altered entry is ignored: the file is parsed again, and the entry rewritten whole."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\ntags:\n  team: vision\n")
    assert project.child_env()["MLFLOW_EXPERIMENT_NAME"] == "churn"
    (entry,) = cache_folder().iterdir()
    whole = entry.read_bytes()
    entry.write_bytes(damage(whole))  # type: ignore[operator]
    child = project.child_env()
    assert (child["MLFLOW_EXPERIMENT_NAME"], json.loads(child["MLFLOW_RUN_CONTEXT"])["team"]) == ("churn", "vision")
    assert entry.read_bytes() == whole


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"LAYERED_MLFLOW_NO_CACHE": "1"}, id="off"),
        pytest.param({"XDG_CACHE_HOME": "relative/cache", "HOME": ""}, id="no-home"),
        pytest.param({"XDG_CACHE_HOME": "/proc/layered-mlflow-cache"}, id="unwritable"),
    ],
)
def test_no_cache_where_it_is_off_or_cannot_be_written(project: Project, env: dict[str, str]) -> None:
    """Off, without a home, or on a read-only file system: the same result, silently, and nothing written."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\n")
    for _ in range(2):
        result = project.cli(
            "run", "--", sys.executable, "-c", "import os; print(os.environ['MLFLOW_EXPERIMENT_NAME'])", env=env
        )
        assert (result.returncode, result.stdout, result.stderr) == (0, "churn\n", ""), result
    assert not cache_folder().exists()
    assert not (project.root / "relative").exists()


# Runs `show` in-process and reports whether it imported Dynaconf.
PROBE = """
import sys
from layered_mlflow.cli import main
sys.argv = ["layered-mlflow", "show"]
try:
    main()
except SystemExit:
    pass
print("dynaconf" in sys.modules, file=sys.stderr)
"""


def test_a_warm_start_does_not_import_dynaconf(project: Project) -> None:
    """The first start parses with Dynaconf and stores the file; the next one reads the entry instead."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: churn\n")
    runs = [
        subprocess.run([sys.executable, "-c", PROBE], cwd=project.root, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [run.stderr.split()[-1] for run in runs] == ["True", "False"]
    assert runs[0].stdout == runs[1].stdout
