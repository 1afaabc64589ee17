"""`layered-mlflow init`: a new project's files, never overwriting without --force (SPEC §7)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import Project

WRITTEN = ["settings/mlflow.yml", "settings/mlflow.production.yml", "settings/mlflow.schema.json", ".env.example"]
IGNORED = [".env", "mlruns/", "mlartifacts/", "mlflow.db", "settings/mlflow.local.yml"]


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
        "next: layered-mlflow run -- python train.py",
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
    """A non-editable install has the templates: `init` works from the unpacked wheel."""
    repo = Path(__file__).parent.parent
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("layered_mlflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "unpacked")
    script = "import layered_mlflow, layered_mlflow.cli as c; print(layered_mlflow.__file__); c.main(['init'])"
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
