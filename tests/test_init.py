"""`layered-mlflow init`: a new project's files, never overwriting without --force (SPEC §7)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import COMMAND, Project

WRITTEN = ["settings/mlflow.yml", "settings/mlflow.production.yml", "settings/mlflow.schema.json", ".env.example"]
IGNORED = [".env", "mlruns/", "mlartifacts/", "mlflow.db", "settings/mlflow.local.yml", "secrets/"]
NEXT = [
    "next: write train.py, your training code: it logs with mlflow.log_* and sets no tracking URI",
    "next: layered-mlflow run -- python train.py",
]


@pytest.fixture
def empty(tmp_path: Path) -> Project:
    """A folder with nothing in it: no settings/, no .gitignore."""
    root = tmp_path / "new-project"
    root.mkdir()
    return Project(root)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_scaffolds_an_empty_folder(empty: Project) -> None:
    """Every file, the .gitignore lines, and the next command, in that order."""
    result = empty.cli("init")
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == [
        *(f"created {name}" for name in WRITTEN),
        f"added {', '.join(IGNORED)} to .gitignore",
        *NEXT,
    ]
    assert sorted(snapshot(empty.root)) == sorted([*WRITTEN, ".gitignore"])
    assert (empty.root / ".gitignore").read_text().splitlines()[1:] == IGNORED


def test_after_init_check_is_clean_in_every_environment(empty: Project) -> None:
    """`check --all-envs` right after `init`: 0 errors and 0 warnings in development and production."""
    empty.cli("init")
    result = empty.cli("check", "--all-envs")
    assert result.returncode == 0, result
    assert "development: 0 errors, 0 warnings" in result.stdout.splitlines()
    assert "production: 0 errors, 0 warnings" in result.stdout.splitlines()


def test_after_init_run_exports_the_settings(empty: Project) -> None:
    """`run` in the new project: the local store under the root; production reaches its server."""
    empty.cli("init")
    assert empty.child_env()["MLFLOW_TRACKING_URI"] == (empty.root / "mlruns").as_uri()
    production = empty.child_env("--env", "production")
    assert production["MLFLOW_TRACKING_URI"] == "https://mlflow.example.com"
    assert production["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_the_production_example_holds_no_credentials(empty: Project) -> None:
    """Credentials are injected, never written: no secret key has a value in the templates."""
    empty.cli("init")
    shown = empty.cli("--env", "production", "show", "--format", "json", "--show-secrets").json()["settings"]
    secret_words = ("PASSWORD", "TOKEN", "SECRET", "ACCESS_KEY", "CREDENTIAL")
    assert [name for name in shown if any(word in name.upper() for word in secret_words)] == []
    user_info = str(shown["server.backend_store_uri"]["value"]).split("//", 1)[1].split("@", 1)[0]
    assert ":" not in user_info, "the database password comes from the environment"


def test_init_refuses_to_overwrite_and_writes_nothing(empty: Project) -> None:
    """One existing target: exit 1 naming it, and not one byte written anywhere."""
    empty.write(".env.example", "MINE=1\n")
    before = snapshot(empty.root)
    result = empty.cli("init")
    assert result.returncode == 1, result
    assert result.stderr == (
        "layered-mlflow: error: .env.example already exists; nothing was written "
        "(hint: rerun with --force to overwrite it)\n"
    )
    assert snapshot(empty.root) == before


def test_a_second_init_names_everything_that_exists(empty: Project) -> None:
    """Running init twice: the second names each file and changes nothing."""
    empty.cli("init")
    before = snapshot(empty.root)
    result = empty.cli("init")
    assert result.returncode == 1, result
    assert "settings/mlflow.yml, settings/mlflow.production.yml, settings/mlflow.schema.json and .env.example" in (
        result.stderr
    )
    assert snapshot(empty.root) == before


def test_force_overwrites_and_does_not_repeat_gitignore_lines(empty: Project) -> None:
    """--force rewrites the templates; the .gitignore lines are already there, so none is added."""
    empty.cli("init")
    empty.write("settings/mlflow.yml", "mlflow_experiment_name: mine\n")
    gitignore = (empty.root / ".gitignore").read_bytes()
    result = empty.cli("init", "--force")
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0] == "overwrote settings/mlflow.yml"
    assert ".gitignore" not in result.stdout
    assert "mlflow_tracking_uri: mlruns" in (empty.root / "settings" / "mlflow.yml").read_text()
    assert (empty.root / ".gitignore").read_bytes() == gitignore


# (.gitignore before, .gitignore after)
GITIGNORES = [
    pytest.param(
        "node_modules/\n",
        "node_modules/\n\n# layered-mlflow: files that stay on this machine\n" + "".join(f"{n}\n" for n in IGNORED),
        id="appended-after-a-blank-line",
    ),
    pytest.param(
        "*.pyc\n.env",
        "*.pyc\n.env\n\n# layered-mlflow: files that stay on this machine\n" + "".join(f"{n}\n" for n in IGNORED[1:]),
        id="no-final-newline-and-a-line-already-there",
    ),
    pytest.param("".join(f"{n}\r\n" for n in IGNORED), "".join(f"{n}\r\n" for n in IGNORED), id="all-there-crlf"),
]


@pytest.mark.parametrize(("before", "after"), GITIGNORES)
def test_gitignore_gets_only_the_missing_lines(empty: Project, before: str, after: str) -> None:
    """Existing lines are kept as they are; only the lines missing are appended, once."""
    (empty.root / ".gitignore").write_bytes(before.encode())
    assert empty.cli("init").returncode == 0
    assert (empty.root / ".gitignore").read_bytes() == after.encode()


def test_an_existing_yaml_file_is_the_same_layer(empty: Project) -> None:
    """settings/mlflow.yaml exists: init refuses, rather than write mlflow.yml beside it."""
    empty.write("settings/mlflow.yaml", "mlflow_experiment_name: mine\n")
    result = empty.cli("init")
    assert result.returncode == 1, result
    assert "settings/mlflow.yaml already exists" in result.stderr
    forced = empty.cli("init", "--force")
    assert forced.returncode == 0, forced
    assert "overwrote settings/mlflow.yaml" in forced.stdout
    assert not (empty.root / "settings" / "mlflow.yml").exists()


@pytest.mark.parametrize("named_by", ["option", "variable"])
def test_project_dir_names_the_root(empty: Project, tmp_path: Path, named_by: str) -> None:
    """--project-dir or LAYERED_MLFLOW_PROJECT_DIR: the files go there, not into the working directory."""
    if named_by == "option":
        result = empty.cli("--project-dir", str(empty.root), "init", cwd=tmp_path)
    else:
        result = empty.cli("init", cwd=tmp_path, env={"LAYERED_MLFLOW_PROJECT_DIR": str(empty.root)})
    assert result.returncode == 0, result
    assert (empty.root / "settings" / "mlflow.yml").is_file()
    assert not (tmp_path / "settings").exists()


def test_a_missing_project_dir_is_an_error(empty: Project) -> None:
    """init does not create the root it is pointed at: a typo would scaffold the wrong folder."""
    result = empty.cli("--project-dir", "nowhere", "init")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: --project-dir nowhere: no such directory"), result
    assert not (empty.root / "nowhere").exists()


@pytest.mark.parametrize(
    ("obstacle", "message"),
    [
        pytest.param("settings", "settings: is in the way of mlflow.yml", id="settings-is-a-file"),
        pytest.param(".gitignore/", ".gitignore: is in the way of .gitignore", id="gitignore-is-a-folder"),
    ],
)
def test_something_in_the_way_writes_nothing(empty: Project, obstacle: str, message: str) -> None:
    """A file where a folder goes (or the reverse): exit 2, one line, nothing written."""
    path = empty.root / obstacle
    if obstacle.endswith("/"):
        path.mkdir()
    else:
        path.write_text("x\n")
    before = snapshot(empty.root)
    result = empty.cli("init", "--force")
    assert result.returncode == 2, result
    assert message in result.stderr, result
    assert len(result.stderr.splitlines()) == 1, result
    assert snapshot(empty.root) == before


def test_the_wheel_ships_the_templates(tmp_path: Path, empty: Project) -> None:
    """A non-editable install has the templates: `init` works from the unpacked wheel.

    Built with the installed hatchling (a test extra), without build isolation and the package index: offline.
    """
    pytest.importorskip("hatchling", reason="the test extra's hatchling builds the wheel without the package index")
    repo = Path(__file__).parent.parent
    offline = ["--no-build-isolation", "--no-index", "--no-deps"]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", *offline, "--wheel-dir", str(tmp_path), str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("layered_mlflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "unpacked")
    script = "import layered_mlflow, layered_mlflow.cli.main as c; print(layered_mlflow.__file__); c.main(['init'])"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=empty.root,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "unpacked")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(tmp_path / "unpacked")), "the wheel's copy, not the source tree"
    assert (empty.root / "settings" / "mlflow.yml").read_text() == (
        tmp_path / "unpacked" / "layered_mlflow" / "templates" / "mlflow.yml"
    ).read_text()


@pytest.mark.mlflow
def test_a_new_project_trains(empty: Project) -> None:
    """init, then the example training job: it logs to <root>/mlruns."""
    from tests.test_mlflow_local import TRAIN

    empty.cli("init")
    result = empty.cli("run", "--", sys.executable, str(TRAIN), timeout=300)
    assert result.returncode == 0, result
    assert f"logged to {(empty.root / 'mlruns').as_uri()}" in result.stdout


def test_init_inside_a_project_refuses_to_nest_one(empty: Project) -> None:
    """In a subfolder of a project: exit 1 naming the project, nothing written; --project-dir . nests on purpose.

    The hint does not send the user to init in the root, which would refuse too (its files exist).
    """
    empty.cli("init")
    notebooks = empty.root / "notebooks"
    notebooks.mkdir()
    before = snapshot(empty.root)
    result = empty.cli("init", cwd=notebooks)
    assert result.returncode == 1, result
    assert result.stderr == (
        f"layered-mlflow: error: {notebooks} is inside the project {empty.root} (it has settings/mlflow.yml), "
        f"and init would start a second one in it; nothing was written (hint: edit its settings in {empty.root}"
        "/settings/; or nest a project here on purpose: layered-mlflow --project-dir . init)\n"
    )
    assert snapshot(empty.root) == before
    nested = empty.cli("--project-dir", ".", "init", cwd=notebooks)
    assert nested.returncode == 0, nested
    assert (notebooks / "settings" / "mlflow.yml").is_file()


KEDRO_PYPROJECT = '[tool.kedro]\npackage_name = "demo"\nproject_name = "demo"\nkedro_init_version = "1.0.0"\n'


@pytest.fixture
def kedro(empty: Project) -> Project:
    """A Kedro project whose conf/ names its experiment."""
    empty.write("pyproject.toml", KEDRO_PYPROJECT)
    empty.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: from-conf\n")
    (empty.root / "conf/local").mkdir()
    (empty.root / "notebooks").mkdir()
    return empty


def test_init_in_a_kedro_project_refuses_unless_forced(kedro: Project) -> None:
    """settings/ would silently take over from conf/: exit 1 saying why, nothing written; --force means it."""
    before = snapshot(kedro.root)
    result = kedro.cli("init")
    assert result.returncode == 1, result
    assert result.stderr == (
        f"layered-mlflow: error: {kedro.root} is a Kedro project (pyproject.toml with [tool.kedro]), whose conf/ "
        "layered-mlflow reads as it is; init would write settings/mlflow.yml, which takes over from conf/; nothing "
        "was written (hint: keep conf/ (`layered-mlflow check` shows what is read), or rerun with --force to switch "
        "the project to settings/)\n"
    )
    assert snapshot(kedro.root) == before
    assert kedro.child_env()["MLFLOW_EXPERIMENT_NAME"] == "from-conf"
    forced = kedro.cli("init", "--force")
    assert forced.returncode == 0, forced
    assert (kedro.root / "settings/mlflow.yml").is_file()
    assert kedro.child_env().get("MLFLOW_EXPERIMENT_NAME") != "from-conf"  # settings/ now, as --force meant


def test_init_in_a_subfolder_of_a_kedro_project_says_how_to_switch(kedro: Project) -> None:
    """From notebooks/: the hint names the command that switches the root (one that works), or nesting."""
    result = kedro.cli("init", cwd=kedro.root / "notebooks")
    assert result.returncode == 1, result
    hint = f"(hint: to switch it to settings/ on purpose: layered-mlflow --project-dir {kedro.root} init --force; "
    assert hint in result.stderr, result
    switched = kedro.cli("--project-dir", str(kedro.root), "init", "--force", cwd=kedro.root / "notebooks")
    assert switched.returncode == 0, switched


def test_env_names_the_example_environment(empty: Project) -> None:
    """--env staging init writes settings/mlflow.staging.yml (not production), which `--env staging` then uses."""
    result = empty.cli("--env", "Staging", "init")
    assert result.returncode == 0, result
    assert "created settings/mlflow.staging.yml" in result.stdout.splitlines()
    assert not (empty.root / "settings" / "mlflow.production.yml").exists()
    text = (empty.root / "settings" / "mlflow.staging.yml").read_text()
    assert "production" not in text
    assert "layered-mlflow --env staging run -- python train.py" in text
    shown = empty.cli("--env", "staging", "show", "--format", "json").json()["settings"]
    assert shown["tags.stage"]["value"] == "staging"
    check = empty.cli("check", "--all-envs")
    assert check.returncode == 0, check
    assert "staging: 0 errors, 0 warnings" in check.stdout.splitlines()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(
            "local", "--env 'local' cannot name an environment file of init: local is the personal", id="local"
        ),
        pytest.param("../up", "--env '../up' cannot name an environment file of init", id="a-path"),
        pytest.param("a.b", "--env 'a.b' cannot name an environment file of init", id="a-dot"),
    ],
)
def test_env_that_cannot_be_an_environment_file(empty: Project, env: str, message: str) -> None:
    """A name no settings/mlflow.<env>.yml can carry: exit 2, one line, nothing written."""
    result = empty.cli("--env", env, "init")
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {message}"), result
    assert snapshot(empty.root) == {}


def test_next_step_skips_writing_train_py_when_it_exists(empty: Project) -> None:
    """With a train.py already there, the last line is only the command that runs it."""
    empty.write("train.py", "import mlflow\n")
    result = empty.cli("init")
    assert result.stdout.splitlines()[-1:] == NEXT[1:], result
    assert NEXT[0] not in result.stdout


def outside_file(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "shared.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text("not yours\n")
    return target


# (what the project holds, arguments, text of the one-line error)
UNSAFE = [
    pytest.param("settings->outside", (), "settings is a symbolic link to", id="settings-links-outside"),
    pytest.param(".gitignore->outside", (), ".gitignore is a symbolic link", id="gitignore-links-outside"),
    pytest.param(".gitignore->.gitignore", (), ".gitignore is a symbolic link", id="gitignore-symlink-loop"),
    pytest.param(".gitignore=fifo", (), ".gitignore is not a regular file", id="gitignore-is-a-fifo"),
    pytest.param(
        "settings/mlflow.yml->outside", ("--force",), "settings/mlflow.yml is a symbolic link", id="force-link-outside"
    ),
    pytest.param(
        "settings/mlflow.yml=fifo", ("--force",), "settings/mlflow.yml is not a regular file", id="force-fifo"
    ),
]


@pytest.mark.parametrize(("layout", "args", "message"), UNSAFE)
def test_init_never_writes_outside_the_root_or_half_way(
    empty: Project, tmp_path: Path, layout: str, args: tuple[str, ...], message: str
) -> None:
    """Links, loops and FIFOs are found before the first byte: exit 2, one line, nothing written anywhere."""
    outside = outside_file(tmp_path)
    name, _, kind = layout.replace("->", "=").partition("=")
    path = empty.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        link = {"outside": outside.parent if name == "settings" else outside}.get(kind, Path(kind))
        path.symlink_to(link)
    before = sorted(p.name for p in empty.root.rglob("*"))
    result = empty.cli("init", *args, timeout=30)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {message}"), result
    assert len(result.stderr.splitlines()) == 1, result
    assert "nothing was written" in result.stderr
    assert sorted(p.name for p in empty.root.rglob("*")) == before
    assert sorted(p.name for p in outside.parent.iterdir()) == ["shared.txt"]
    assert outside.read_text() == "not yours\n"


def test_a_symlinked_settings_folder_inside_the_project_is_written(empty: Project) -> None:
    """settings/ linking to a folder of the project itself: the files land there, inside the root."""
    (empty.root / "config").mkdir()
    (empty.root / "settings").symlink_to("config")
    result = empty.cli("init")
    assert result.returncode == 0, result
    assert (empty.root / "config" / "mlflow.yml").is_file()


def test_init_in_a_deleted_working_directory(tmp_path: Path) -> None:
    """From a folder that no longer exists: exit 2 with one line saying so, not an internal error."""
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f"cd {gone} && rmdir {gone} && exec {COMMAND} init"
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("layered-mlflow: error: the working directory no longer exists"), done.stderr


def test_files_are_written_whole_with_the_modes_they_had(empty: Project) -> None:
    """--force replaces each file by a rename (no temporary left behind); an existing file keeps its mode."""
    empty.cli("init")
    (empty.root / ".gitignore").write_text("*.pyc\n")
    os.chmod(empty.root / ".gitignore", 0o600)
    result = empty.cli("init", "--force")
    assert result.returncode == 0, result
    assert oct((empty.root / ".gitignore").stat().st_mode & 0o777) == oct(0o600)
    assert sorted(snapshot(empty.root)) == sorted([*WRITTEN, ".gitignore"])


@pytest.mark.parametrize("blocked", [".gitignore", "settings"], ids=["gitignore-unreadable", "settings-unwritable"])
def test_a_file_it_cannot_read_or_a_folder_it_cannot_write_leaves_nothing(empty: Project, blocked: str) -> None:
    """An unreadable .gitignore, or a settings/ it cannot write in: exit 2, and no file (or temporary) written."""
    path = empty.root / blocked
    if blocked == "settings":
        path.mkdir()
    else:
        path.write_text("*.pyc\n")
    path.chmod(0o500 if blocked == "settings" else 0o000)
    try:
        result = empty.cli("init", unprivileged=True)  # as root too: file modes count
    finally:
        path.chmod(0o700)
    assert result.returncode == 2, result
    assert "nothing was written" in result.stderr, result
    assert sorted(p.name for p in empty.root.rglob("*")) == [blocked]
