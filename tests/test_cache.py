"""The cache of parsed settings files (and Kedro conf/ files): never stale, private, skipped where it cannot be,
off on request."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layered_mlflow.layouts.kedro import conf as kedro_conf
from layered_mlflow.sources import cache, settings_file
from tests.conftest import COMMAND, PRINT_ENV, Project

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


def read_kedro(path: Path, environ: dict[str, str]) -> object:
    """A Kedro conf/ folder of the one file ``path``, as the Kedro layout reads it (PyYAML, then the cache)."""
    return kedro_conf.read_folder([path], environ).data


# Each reader the cache serves: through the cache, and without it.
READERS: dict[str, tuple[Callable[[Path, dict[str, str]], object], Callable[[Path], object]]] = {
    "settings": (cache.read_settings_file, lambda path: settings_file.read_settings_file(path, {})),
    "kedro": (read_kedro, lambda path: read_kedro(path, {cache.OFF_VARIABLE: "1"})),
}


def outcome(path: Path, environ: dict[str, str], reader: str = "settings") -> object:
    """What reading ``path`` through the cache gives: the mapping, or the error's message."""
    try:
        return READERS[reader][0](path, environ)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def uncached(path: Path, reader: str = "settings") -> object:
    try:
        return READERS[reader][1](path)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("reader", READERS)
@QUICK
@given(first=LINES, edits=st.lists(LINES, min_size=1, max_size=3))
def test_cached_and_uncached_results_are_identical_over_edits(
    tmp_path_factory: pytest.TempPathFactory,
    reader: str,
    first: list[tuple[str, str]],
    edits: list[list[tuple[str, str]]],
) -> None:
    """Over generated files and edits (each read twice, so the second is a hit), the cache changes nothing,
    for a settings/ file and a Kedro conf/ file alike."""
    folder = tmp_path_factory.mktemp("edits")
    path, environ = folder / "mlflow.yml", {"XDG_CACHE_HOME": str(folder / "cache")}
    for lines in [first, *edits]:
        path.write_text(render(lines))
        assert outcome(path, environ, reader) == uncached(path, reader)
        assert outcome(path, environ, reader) == uncached(path, reader)


@pytest.mark.parametrize("reader", READERS)
@QUICK
@given(lines=LINES, flip=st.integers(min_value=0))
def test_an_edit_within_the_same_second_and_the_same_size_is_seen(
    tmp_path_factory: pytest.TempPathFactory, reader: str, lines: list[tuple[str, str]], flip: int
) -> None:
    """One character changed, the size and modification time kept: the next read sees the edit."""
    folder = tmp_path_factory.mktemp("same")
    path, environ = folder / "mlflow.yml", {"XDG_CACHE_HOME": str(folder / "cache")}
    text = render(lines)
    path.write_text(text)
    outcome(path, environ, reader)
    before = os.stat(path)
    at = flip % len(text)
    path.write_text(text[:at] + ("b" if text[at] != "b" else "c") + text[at + 1 :])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    assert outcome(path, environ, reader) == uncached(path, reader)


def test_one_files_bytes_read_by_both_readers_are_two_entries(tmp_path: Path) -> None:
    """The same path read as a settings/ file and as a Kedro file: each reader gets its own parse, never the
    other's (a kedro-mlflow `server:` is translated by one, kept as written by the other)."""
    path, environ = tmp_path / "mlflow.yml", {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    path.write_text("server:\n  mlflow_tracking_uri: x\n_hidden: 1\n")
    for _ in range(2):
        for reader in READERS:
            assert outcome(path, environ, reader) == uncached(path, reader)


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


EVIL = "/srv/shared/evil.py"  # code the attacker wants run at every Python start
OTHER_USER = 4242  # the attacker's uid: no account needs to exist for a file to be theirs
PLANTED = {"mlflow_tracking_uri": "http://127.0.0.1:9/attacker", "env": {"PYTHONSTARTUP": EVIL}}


def forged(entry: Path) -> bytes:
    """``entry`` (a real one) with its payload replaced by PLANTED: what someone who can write the folder plants."""
    raw = entry.read_bytes()
    header = len(cache._MAGIC)
    size = int.from_bytes(raw[header : header + 8], "big")
    payload = marshal.dumps(PLANTED)
    return (
        raw[: header + 8] + zlib.crc32(payload).to_bytes(4, "big") + raw[cache._HEADER : cache._HEADER + size] + payload
    )


def _plant_in_folder(folder: Path, entry: Path, elsewhere: Path, how: str) -> None:
    """Make the cache folder (``folder``, holding a forged ``entry``) one another user controls, as ``how`` says."""
    if how == "own-entry":
        return
    if how == "entry-of-another-user":
        os.chown(entry, OTHER_USER, OTHER_USER)
    elif how == "entry-world-writable":
        entry.chmod(0o666)
    elif how == "entry-group-writable":
        entry.chmod(0o620)
    elif how == "folder-of-another-user":
        os.chown(folder, OTHER_USER, OTHER_USER)
    elif how == "folder-world-writable":
        folder.chmod(0o1777)  # a shared folder, as /tmp
    elif how == "entry-is-a-link":
        elsewhere.mkdir(mode=0o700)
        entry.rename(elsewhere / "entry")
        entry.symlink_to(elsewhere / "entry")
    elif how == "folder-is-a-link":
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere)


@pytest.mark.parametrize(
    ("how", "used"),
    [
        pytest.param("own-entry", True, id="own-entry-is-used"),
        pytest.param("entry-of-another-user", False, id="entry-of-another-user"),
        pytest.param("entry-world-writable", False, id="entry-world-writable"),
        pytest.param("entry-group-writable", False, id="entry-group-writable"),
        pytest.param("folder-of-another-user", False, id="folder-of-another-user"),
        pytest.param("folder-world-writable", False, id="folder-world-writable"),
        pytest.param("entry-is-a-link", False, id="entry-is-a-link"),
        pytest.param("folder-is-a-link", False, id="folder-is-a-link"),
    ],
)
def test_a_planted_entry_is_used_only_if_the_user_alone_owns_and_can_write_it(
    project: Project, tmp_path: Path, how: str, used: bool
) -> None:
    """SPEC §2: an entry someone else owns or can write, or reached through a link, is ignored silently.

    The entry is a valid one for the file's very bytes, its values replaced (a tracking URI,
    PYTHONSTARTUP). Only the user's own entry in the user's own folder is trusted; the
    first row shows the forgery itself would be used, so each other row fails for its cause.
    """
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: http://127.0.0.1:5000\n")
    assert project.child_env()["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"
    folder = cache_folder()
    (entry,) = folder.iterdir()
    entry.write_bytes(forged(entry))
    _plant_in_folder(folder, entry, tmp_path / "elsewhere", how)
    result = project.cli("run", "--", *PRINT_ENV)
    assert (result.returncode, result.stderr) == (0, ""), result
    child = json.loads(result.stdout)
    assert (child["MLFLOW_TRACKING_URI"], child.get("PYTHONSTARTUP")) == (
        (PLANTED["mlflow_tracking_uri"], EVIL) if used else ("http://127.0.0.1:5000", None)
    )


def test_an_entry_another_user_plants_in_a_shared_cache_folder_is_not_used(project: Project, tmp_path: Path) -> None:
    """A shared `XDG_CACHE_HOME` (sticky, world-writable, as /tmp): another user, acting as themself
    (setpriv), makes the `layered-mlflow` folder there first and plants a valid entry for the victim's file.
    The victim's `run` gets the file's values, silently, and stores nothing in the attacker's folder."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: http://127.0.0.1:5000\n")
    project.child_env()  # in the test's own cache: a real entry, to forge
    (entry,) = cache_folder().iterdir()
    shared = Path(tempfile.mkdtemp(dir="/tmp"))  # reachable by another user, unlike tmp_path
    try:
        shared.chmod(0o1777)
        attacker = ["setpriv", f"--reuid={OTHER_USER}", f"--regid={OTHER_USER}", "--clear-groups"]
        script = f"umask 0 && mkdir {shared}/layered-mlflow && cat > {shared}/layered-mlflow/{entry.name}"
        subprocess.run([*attacker, "sh", "-c", script], input=forged(entry), check=True, timeout=30)
        assert (shared / "layered-mlflow" / entry.name).stat().st_uid == OTHER_USER
        result = project.cli("run", "--", *PRINT_ENV, env={"XDG_CACHE_HOME": str(shared)})
        assert (result.returncode, result.stderr) == (0, ""), result
        child = json.loads(result.stdout)
        assert (child["MLFLOW_TRACKING_URI"], child.get("PYTHONSTARTUP")) == ("http://127.0.0.1:5000", None)
        assert [path.name for path in (shared / "layered-mlflow").iterdir()] == [entry.name]
    finally:
        shutil.rmtree(shared)


def _special_entry(entry: Path, kind: str) -> None:
    entry.unlink()
    if kind == "fifo":
        os.mkfifo(entry, 0o600)
    elif kind == "dev-zero":
        os.mknod(entry, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # the device itself, not a link to it
    else:
        with entry.open("wb") as stream:
            stream.truncate(2 * 1024**3)  # holes: 2 GiB, no disk used
        entry.chmod(0o600)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "sparse-2-GiB"])
def test_an_entry_that_is_no_regular_file_of_a_sane_size_is_ignored(project: Project, kind: str) -> None:
    """A FIFO (a hang), the /dev/zero device or a 2 GiB sparse file (MemoryError) in the user's own folder: ignored."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: http://127.0.0.1:5000\n")
    project.child_env()
    (entry,) = cache_folder().iterdir()
    try:
        _special_entry(entry, kind)
    except PermissionError:  # pragma: no cover (a container without CAP_MKNOD)
        pytest.skip("cannot make a device node here")
    # With 1 GiB of address space, reading the 2 GiB file whole would be a MemoryError on any machine.
    limited = [shutil.which("prlimit") or "prlimit", f"--as={1024**3}", COMMAND, "run", "--", *PRINT_ENV]
    result = subprocess.run(limited, cwd=project.root, capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (0, ""), result
    assert json.loads(result.stdout)["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"


# Runs `show` in-process and reports whether it imported Dynaconf.
PROBE = """
import sys
from layered_mlflow.cli.main import main
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


def test_a_kedro_projects_warm_start_imports_neither_pyyaml_nor_tomllib(project: Project) -> None:
    """A Kedro project: the first start parses conf/ with PyYAML and pyproject.toml with tomllib, and stores each
    file; the next reads the entries; an edit of either file is seen at once."""
    (project.root / "settings").rmdir()
    project.write("pyproject.toml", '[tool.kedro]\npackage_name = "churn"\n')
    project.write("conf/base/mlflow.yml", "server:\n  mlflow_tracking_uri: base_runs\n")
    project.write("conf/local/mlflow.yml", "tracking:\n  run:\n    name: nightly\n")
    probe = PROBE.replace('print("dynaconf" in sys.modules', 'print("yaml" in sys.modules, "tomllib" in sys.modules')
    runs = [
        subprocess.run([sys.executable, "-c", probe], cwd=project.root, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [run.stderr.split()[-2:] for run in runs] == [["True", "True"], ["False", "False"]]
    assert runs[0].stdout == runs[1].stdout
    assert "churn" in runs[1].stdout  # the experiment: the package's name, as in kedro-mlflow
    project.write("conf/base/mlflow.yml", "server:\n  mlflow_tracking_uri: other_runs\n")
    project.write("pyproject.toml", '[tool.kedro]\npackage_name = "chrun"\n')
    shown = project.cli("show").stdout
    assert "other_runs" in shown, shown
    assert "chrun" in shown, shown


# Reads every file named on its command line through the cache, a fixed number of rounds. Each entry
# stored is checked as it is stored: its parse must be the parse of the bytes it is keyed by (the key
# is the reader and the versions, a NUL, then the bytes; see cache.read_through). A stale one is reported on stderr.
READER = """
import os, sys, tempfile
from pathlib import Path
from layered_mlflow.sources import cache
from layered_mlflow.sources import settings_file

store, scratch = cache._store, Path(tempfile.mkdtemp(), "mlflow.yml")

def checked(folder, name, key, parsed):
    scratch.write_bytes(key.split(bytes(1), 1)[1])
    try:
        fresh = settings_file.read_settings_file(scratch, {})
    except Exception as exc:  # what the key holds does not parse: a stale entry too (the loop swallows errors)
        fresh = exc
    if fresh != parsed:
        print("stale:", key.split(bytes(1), 1)[1], parsed, file=sys.stderr)
    store(folder, name, key, parsed)

cache._store = checked
for _ in range(int(sys.argv[1])):
    for name in sys.argv[2:]:
        try:
            cache.read_settings_file(Path(name), os.environ)
        except Exception:  # a file caught half-written may be invalid YAML: only what is stored matters
            pass
"""
TOGGLED = (
    "mlflow_tracking_uri: http://127.0.0.1:5000\nmlflow_experiment_name: alpha\n",
    "mlflow_tracking_uri: file:///srv/mlruns\nmlflow_experiment_name: beta\ntags:\n  team: vision\n",
)


def test_a_file_rewritten_in_place_while_processes_read_it_never_leaves_a_stale_entry(tmp_path: Path) -> None:
    """Files rewritten in place (`cat new > file`) while six processes read them: no entry is left stale.

    Each reader keeps its own cache, so that many entries are left to check. Whichever
    text each file has afterwards (either one, or empty as it was for a moment), a read
    through any reader's cache gives what a read without the cache gives.
    """
    paths = [tmp_path / f"p{index}" / "mlflow.yml" for index in range(4)]
    for path in paths:
        path.parent.mkdir()
        path.write_text(TOGGLED[0])
    caches = [tmp_path / f"cache{index}" for index in range(6)]
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, "150", *map(str, paths)],
            env={**os.environ, "XDG_CACHE_HOME": str(folder)},
            stderr=subprocess.PIPE,
        )
        for folder in caches
    ]
    texts = [text.encode() for text in TOGGLED]
    descriptors = [os.open(path, os.O_WRONLY) for path in paths]
    for rewrite in range(10_000_000):  # bounded: stops when the readers are done
        if rewrite % 20 == 0 and all(reader.poll() is not None for reader in readers):
            break
        for descriptor in descriptors:  # as `cat new > file` does: emptied, and written a moment later
            os.ftruncate(descriptor, 0)
        time.sleep(0.001)
        for descriptor in descriptors:  # the same text four times, then the other
            os.pwrite(descriptor, texts[rewrite // 4 % 2], 0)
        time.sleep(0.001)
    for descriptor in descriptors:
        os.close(descriptor)
    assert [(reader.communicate(timeout=300)[1], reader.returncode) for reader in readers] == [(b"", 0)] * 6
    for text in ("", *TOGGLED):
        for path in paths:
            path.write_text(text)
        expected = settings_file.read_settings_file(paths[0], {})
        for index, folder in enumerate(caches):
            copy = tmp_path / f"copy-{len(text)}-{index}"  # each text against the entries as the race left them
            shutil.copytree(folder, copy)
            assert [cache.read_settings_file(path, {"XDG_CACHE_HOME": str(copy)}) for path in paths] == [expected] * 4
