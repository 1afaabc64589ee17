"""SPEC §9: `X_FILE=/run/secrets/x` supplies `X` from a file, for MLflow and `env`-section variables only."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from layered_mlflow.sources.file_variables import MLFLOW_OWN
from tests.conftest import COMMAND, Project

# The variable these tests supply from a file.
TARGET = "MLFLOW_TRACKING_PASSWORD"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A mounted secret outside the project, as /run/secrets/x would be."""
    path = tmp_path / "run" / "secrets" / "mlflow-password"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"s3cr3t-canary\n")
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"pw\n", "pw", id="one-trailing-newline-stripped"),
        pytest.param(b"pw", "pw", id="no-trailing-newline"),
        pytest.param(b"pw\n\n", "pw\n", id="only-one-newline-stripped"),
        pytest.param(b"pw\r\n", "pw\r", id="carriage-return-kept"),
        pytest.param(b" spaced \t\n", " spaced \t", id="spaces-kept"),
        pytest.param(b"line1\nline2\n", "line1\nline2", id="multi-line"),
        pytest.param(b"'$HOME' \"q\" `x` \\\n", "'$HOME' \"q\" `x` \\", id="shell-characters"),
        pytest.param("ünï ✓\n".encode(), "ünï ✓", id="unicode"),
    ],
)
def test_file_supplies_the_variable(project: Project, tmp_path: Path, content: bytes, expected: str) -> None:
    """The file's content, less one trailing newline, is the variable's value, byte for byte."""
    path = tmp_path / "pw"
    path.write_bytes(content)
    child = project.child_env(env={f"{TARGET}_FILE": str(path)})
    assert child[TARGET] == expected


def test_file_variable_is_not_passed_on(project: Project, secret: Path) -> None:
    """The child gets X, never X_FILE; `--dry-run` says it unsets it."""
    env = {f"{TARGET}_FILE": str(secret)}
    child = project.child_env(env=env)
    assert child[TARGET] == "s3cr3t-canary"
    assert f"{TARGET}_FILE" not in child
    dry = project.cli("run", "--dry-run", "--", "true", env=env)
    assert f"unset {TARGET}_FILE" in dry.stdout.splitlines(), dry


def test_non_utf8_file_reaches_the_child_as_the_same_bytes(project: Project, tmp_path: Path) -> None:
    """A secret that is not UTF-8 text arrives exactly as stored."""
    (tmp_path / "pw").write_bytes(b"caf\xe9\xff\n")
    script = f"import os, sys; sys.stdout.buffer.write(os.environb[b'{TARGET}'])"
    out = subprocess.run(
        [COMMAND, "run", "--", sys.executable, "-c", script],
        env={**os.environ, f"{TARGET}_FILE": str(tmp_path / "pw")},
        cwd=project.root,
        capture_output=True,
        check=True,
    ).stdout
    assert out == b"caf\xe9\xff"


def test_env_section_variable_from_a_file(project: Project, tmp_path: Path) -> None:
    """A variable named in the `env` section (even as null) can come from X_FILE."""
    project.write("settings/mlflow.yml", "env:\n  AWS_SECRET_ACCESS_KEY: null\n")
    (tmp_path / "aws").write_text("aws-canary\n")
    child = project.child_env(env={"AWS_SECRET_ACCESS_KEY_FILE": str(tmp_path / "aws")})
    assert (child["AWS_SECRET_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY_FILE" in child) == ("aws-canary", False)


def test_dotenv_file_variable(project: Project, secret: Path) -> None:
    """X_FILE in .env supplies X too, and is not passed on."""
    project.write(".env", f"{TARGET}_FILE={secret}\n")
    child = project.child_env()
    assert child[TARGET] == "s3cr3t-canary"
    assert f"{TARGET}_FILE" not in child


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("SSL_CERT_FILE", id="ssl-cert-file"),
        pytest.param("CURL_CA_BUNDLE_FILE", id="not-named-in-env-section"),
        pytest.param("GOOGLE_APPLICATION_CREDENTIALS_FILE", id="credentials-not-named"),
        pytest.param("MLFLOW_GATEWAY_RESOLVE_API_KEY_FROM_FILE", id="mlflow-own-variable"),
        pytest.param("LAYERED_MLFLOW_TAGS__team_FILE", id="tag-variable"),
    ],
)
def test_other_file_variables_stay_what_they_are(project: Project, secret: Path, name: str) -> None:
    """Only MLflow and `env`-section variables: SSL_CERT_FILE and its kind reach the child untouched."""
    value = str(secret) if name != "MLFLOW_GATEWAY_RESOLVE_API_KEY_FROM_FILE" else "true"
    result = project.cli("run", "--", "env", env={name: value})
    assert result.returncode == 0, result
    assert f"{name}={value}" in result.stdout.splitlines()
    assert "s3cr3t-canary" not in result.stdout


def test_show_names_the_file_variable_as_the_origin(project: Project, secret: Path) -> None:
    """`show` gives X_FILE as the source, so the mounted file can be found; the value stays masked."""
    shown = project.cli("show", "--format", "json", env={f"{TARGET}_FILE": str(secret)})
    assert shown.returncode == 0, shown
    setting = shown.json()["settings"]["mlflow_tracking_password"]
    assert setting == {"value": "***", "layer": "process_env", "source": f"{TARGET}_FILE", "secret": True}
    assert "canary" not in shown.stdout


def _in_layers(project: Project, placed: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Write each NAME: (layer, value) to .env or return it for the process environment."""
    project.write(".env", "".join(f"{name}={value}\n" for name, (layer, value) in placed.items() if layer == "dotenv"))
    return {name: value for name, (layer, value) in placed.items() if layer == "process_env"}


@pytest.mark.parametrize("layer", ["process_env", "dotenv"])
def test_both_set_is_an_error_without_values(project: Project, secret: Path, layer: str) -> None:
    """X and X_FILE in one layer: exit 2, one line naming both, neither value printed."""
    env = _in_layers(project, {TARGET: (layer, "value-canary"), f"{TARGET}_FILE": (layer, str(secret))})
    result = project.cli("run", "--", "true", env=env)
    assert result.returncode == 2, result
    assert f"both {TARGET} and {TARGET}_FILE are set" in result.stderr
    assert len(result.stderr.splitlines()) == 1, result
    assert "canary" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("value_in", "file_in", "expected"),
    [
        pytest.param("dotenv", "process_env", "s3cr3t-canary", id="file-in-environment-beats-value-in-dotenv"),
        pytest.param("process_env", "dotenv", "plain-value", id="value-in-environment-beats-file-in-dotenv"),
    ],
)
def test_across_layers_precedence_decides(
    project: Project, secret: Path, value_in: str, file_in: str, expected: str
) -> None:
    """X and X_FILE in different layers are no conflict: the higher layer wins, as for any key."""
    env = _in_layers(project, {TARGET: (value_in, "plain-value"), f"{TARGET}_FILE": (file_in, str(secret))})
    assert project.child_env(env=env)[TARGET] == expected


def test_empty_value_beside_a_file_is_not_set(project: Project, secret: Path) -> None:
    """`X=` says nothing (SPEC §3), so `X=` with X_FILE is no conflict: the file supplies X."""
    child = project.child_env(env={TARGET: "", f"{TARGET}_FILE": str(secret)})
    assert child[TARGET] == "s3cr3t-canary"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        pytest.param("missing", "no such file", id="missing"),
        pytest.param("directory", "is a directory", id="directory"),
        pytest.param("not-a-directory", "cannot read it (Not a directory)", id="path-through-a-file"),
        pytest.param("dangling-symlink", "no such file", id="dangling-symlink"),
        pytest.param("nul-byte", "the file holds a NUL byte", id="nul-byte"),
    ],
)
def test_unreadable_file_names_variable_and_path(project: Project, tmp_path: Path, kind: str, message: str) -> None:
    """A file that cannot supply the value: exit 2, naming the variable and the path, never the content."""
    path = tmp_path / "secret"
    if kind == "directory":
        path.mkdir()
    elif kind == "not-a-directory":
        (tmp_path / "plain").write_text("x")
        path = tmp_path / "plain" / "secret"
    elif kind == "dangling-symlink":
        path.symlink_to(tmp_path / "nowhere")
    elif kind == "nul-byte":
        path.write_bytes(b"nul-canary\0\n")
    result = project.cli("run", "--", "true", env={f"{TARGET}_FILE": str(path)})
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: {TARGET}_FILE={path}: {message}"), result
    assert len(result.stderr.splitlines()) == 1, result
    assert "canary" not in result.stderr


def test_unreadable_permissions(project: Project, tmp_path: Path) -> None:
    """A file the process may not read: exit 2 naming variable and path."""
    path = tmp_path / "secret"
    path.write_text("x\n")
    path.chmod(0)
    result = project.cli("run", "--", "true", env={f"{TARGET}_FILE": str(path)}, unprivileged=True)
    assert result.returncode == 2, result
    assert f"{TARGET}_FILE={path}: cannot read it" in result.stderr


def test_relative_path_is_read_from_the_project_root(project: Project) -> None:
    """A relative X_FILE path means the same file from any subdirectory: the project root's."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: x\n")
    project.write("secrets/pw", "rooted\n")
    (project.root / "src").mkdir()
    child = project.child_env(env={f"{TARGET}_FILE": "secrets/pw"}, cwd=project.root / "src")
    assert child[TARGET] == "rooted"


def test_empty_file_says_nothing(project: Project, tmp_path: Path) -> None:
    """An empty file is an empty value: the layer below stands, as for `X=`."""
    project.write(".env", f"{TARGET}=from-dotenv\n")
    (tmp_path / "empty").write_text("")
    assert project.child_env(env={f"{TARGET}_FILE": str(tmp_path / "empty")})[TARGET] == "from-dotenv"


def test_mlflow_own_file_variables_are_known() -> None:
    """MLflow's own variables ending in _FILE (never references) are exactly those of the installed MLflow."""
    spec = importlib.util.find_spec("mlflow")  # locates the package without importing it
    assert spec is not None
    assert spec.submodule_search_locations
    source = Path(spec.submodule_search_locations[0], "environment_variables.py").read_text(encoding="utf-8")
    names = set(re.findall(r"""["'](MLFLOW_[A-Z0-9_]+_FILE)["']""", source))
    assert names == MLFLOW_OWN
