"""In-process table of configuration errors (SPEC §8): each names the file, key or variable, with its hint.

tests/test_bad_input.py proves the installed command prints them as one line with exit 2;
this table pins the words, which is what a user acts on.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from layered_mlflow import resolve
from layered_mlflow.errors import ConfigError, LayeredMlflowError, UsageError

BASE = "settings/mlflow.yml"
ERRORS = [
    pytest.param(
        {BASE: "env: [a]\n"},
        {},
        "{root}/settings/mlflow.yml: `env` must be a mapping of names to values, not a list",
        "write `env:` followed by indented `NAME: value` lines",
        id="section-a-list",
    ),
    pytest.param(
        {BASE: "tags: x\n"},
        {},
        "{root}/settings/mlflow.yml: `tags` must be a mapping of names to values, not a single value (str)",
        "write `tags:` followed by indented `NAME: value` lines",
        id="section-a-scalar",
    ),
    pytest.param(
        {BASE: "server:\n  port: 1\n  PORT: 2\n"},
        {},
        "{root}/settings/mlflow.yml: `server` names a key twice (its keys ignore case)",
        "keep one of them",
        id="server-key-twice",
    ),
    pytest.param(
        {BASE: "env:\n  my-var: x\n"},
        {},
        "{root}/settings/mlflow.yml: `env` entry 'my-var' is not a variable name",
        "use letters, digits and underscores, not starting with a digit",
        id="env-entry-name",
    ),
    pytest.param(
        {BASE: "server:\n  allowed_hosts:\n    a: 1\n"},
        {},
        "{root}/settings/mlflow.yml: `server.allowed_hosts` must be a list, not a mapping",
        None,
        id="list-key-a-mapping",
    ),
    pytest.param(
        {BASE: "mlflow_tracking_uri: [a]\n"},
        {},
        "{root}/settings/mlflow.yml: `mlflow_tracking_uri` is a list, but it needs a single value "
        "(it is an MLflow variable)",
        "write it as a string, number or boolean",
        id="mlflow-variable-a-list",
    ),
    pytest.param(
        {BASE: "tags:\n  team:\n    a: 1\n"},
        {},
        "{root}/settings/mlflow.yml: `tags.team` is a mapping, but it needs a single value",
        "write it as a string, number or boolean",
        id="tag-a-mapping",
    ),
    pytest.param(
        {BASE: "", "settings/mlflow.yaml": ""},
        {},
        "{root}/settings: mlflow.yaml and mlflow.yml are the same layer",
        "keep one of them",
        id="yml-and-yaml",
    ),
    pytest.param(
        {"settings/mlflow.production.yml": ""},
        {"ENV_FOR_DYNACONF": "prodution"},
        "unknown environment 'prodution' (from ENV_FOR_DYNACONF); known environments: development, production",
        "did you mean production?",
        id="unknown-environment-close",
    ),
    pytest.param(
        {},
        {"ENV_FOR_DYNACONF": "qa"},
        "unknown environment 'qa' (from ENV_FOR_DYNACONF); known environments: development",
        "create settings/mlflow.qa.yml to add it",
        id="unknown-environment-new",
    ),
    pytest.param(
        {},
        {"ENV_FOR_DYNACONF": "a/b"},
        "unknown environment 'a/b' (from ENV_FOR_DYNACONF); known environments: development",
        None,
        id="unknown-environment-path",
    ),
    pytest.param(
        {".env": "ENV_FOR_DYNACONF=local\n"},
        {},
        "environment 'local' (from ENV_FOR_DYNACONF in .env) is reserved: settings/mlflow.local.yml "
        "applies in every environment; known environments: development",
        None,
        id="local-is-reserved",
    ),
    pytest.param(
        {".env": "A=1\nnot a line\n"},
        {},
        "{root}/.env:2: not a python-dotenv line",
        "write KEY=VALUE, quoting values that hold spaces or #",
        id="dotenv-parse-error",
    ),
    pytest.param(
        {".env": b"A=1\nB=caf\xe9\n"},
        {},
        "{root}/.env:2: not UTF-8 text (byte 0xe9)",
        "save the file as UTF-8",
        id="dotenv-not-utf8",
    ),
    pytest.param(
        {".env/x": ""},
        {},
        "{root}/.env: is a directory, not a regular file",
        "name a regular file",
        id="dotenv-a-directory",
    ),
    pytest.param(
        {"secret": "pw\n"},
        {"MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_PASSWORD_FILE": "secret"},
        "both MLFLOW_TRACKING_PASSWORD and MLFLOW_TRACKING_PASSWORD_FILE are set in the process environment",
        "set one of them: MLFLOW_TRACKING_PASSWORD_FILE names a file that holds the value of MLFLOW_TRACKING_PASSWORD",
        id="both-set-in-the-environment",
    ),
    pytest.param(
        {".env": "MLFLOW_TRACKING_PASSWORD=pw\nMLFLOW_TRACKING_PASSWORD_FILE=secret\n"},
        {},
        "both MLFLOW_TRACKING_PASSWORD and MLFLOW_TRACKING_PASSWORD_FILE are set in {root}/.env",
        "set one of them: MLFLOW_TRACKING_PASSWORD_FILE names a file that holds the value of MLFLOW_TRACKING_PASSWORD",
        id="both-set-in-dotenv",
    ),
    pytest.param(
        {},
        {"MLFLOW_TRACKING_PASSWORD_FILE": "missing"},
        "MLFLOW_TRACKING_PASSWORD_FILE=missing: no such file",
        "mount the secret at that path, or unset MLFLOW_TRACKING_PASSWORD_FILE",
        id="file-variable-missing",
    ),
    pytest.param(
        {"folder/x": ""},
        {"MLFLOW_TRACKING_PASSWORD_FILE": "folder"},
        "MLFLOW_TRACKING_PASSWORD_FILE=folder: is a directory, not a regular file",
        "name a regular file",
        id="file-variable-a-directory",
    ),
    pytest.param(
        {"secret": b"a\0b"},
        {"MLFLOW_TRACKING_PASSWORD_FILE": "secret"},
        "MLFLOW_TRACKING_PASSWORD_FILE=secret: the file holds a NUL byte, which no environment variable can",
        "store the secret as text",
        id="file-variable-nul",
    ),
]


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for relative, content in {BASE: "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


@pytest.mark.parametrize(("files", "environ", "message", "hint"), ERRORS)
def test_error(
    tmp_path: Path, files: Mapping[str, str | bytes], environ: dict[str, str], message: str, hint: str | None
) -> None:
    """Bad settings are a ConfigError (exit 2) whose message and hint say where and what to do."""
    write(tmp_path, files)
    with pytest.raises(ConfigError) as raised:
        resolve(cwd=tmp_path, environ=environ)
    assert (raised.value.message, raised.value.hint) == (message.format(root=tmp_path), hint)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("kwargs", "message", "hint"),
    [
        pytest.param(
            {"project_dir": "nowhere"},
            "--project-dir nowhere: no such directory",
            "name the folder that holds settings/mlflow.yml or pyproject.toml with [tool.kedro]",
            id="project-dir-missing",
        ),
        pytest.param(
            {"environ": {"LAYERED_MLFLOW_PROJECT_DIR": "nowhere"}},
            "LAYERED_MLFLOW_PROJECT_DIR nowhere: no such directory",
            "name the folder that holds settings/mlflow.yml or pyproject.toml with [tool.kedro]",
            id="project-dir-variable-missing",
        ),
        pytest.param(
            {"project_dir": "~no-such-user-here/p"},
            "--project-dir ~no-such-user-here/p: no such user's home",
            "write the path without ~, or with ~ alone",
            id="project-dir-of-no-users-home",
        ),
        pytest.param(
            {"environ": {"LAYERED_MLFLOW_PROJECT_DIR": "n" * 300}},
            f"LAYERED_MLFLOW_PROJECT_DIR {'n' * 300}: cannot use it (File name too long)",
            None,
            id="project-dir-unusable",
        ),
        pytest.param(
            {"project_dir": "settings/mlflow.yml"},
            "--project-dir settings/mlflow.yml: no such directory",
            "name the folder that holds settings/mlflow.yml or pyproject.toml with [tool.kedro]",
            id="project-dir-a-file",
        ),
        pytest.param(
            {"env_files": ["missing.env"]}, "--env-file {root}/missing.env: no such file", None, id="env-file"
        ),
    ],
)
def test_usage_error(tmp_path: Path, kwargs: dict[str, object], message: str, hint: str | None) -> None:
    """A missing path named on the command line is a usage error (exit 2) naming the option."""
    write(tmp_path, {})
    with pytest.raises(UsageError) as raised:
        resolve(cwd=tmp_path, **{"environ": {}, **kwargs})  # type: ignore[arg-type]
    assert (raised.value.message, raised.value.hint) == (message.format(root=tmp_path), hint)


def test_malformed_set_is_a_usage_error(tmp_path: Path) -> None:
    """`--set` without `=`, or with a key no layer knows, is refused before anything runs."""
    write(tmp_path, {})
    for assignment in ("mlflow_experiment_name", "nosuch.section=x", "=x"):
        with pytest.raises(UsageError, match=r"^--set "):
            resolve(cwd=tmp_path, environ={}, overrides=[assignment])


def test_dangling_dotenv_link(tmp_path: Path) -> None:
    """A `.env` that is a dangling symbolic link is an error, not a silently missing file."""
    write(tmp_path, {})
    (tmp_path / ".env").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ConfigError) as raised:
        resolve(cwd=tmp_path, environ={})
    assert raised.value.message == f"{tmp_path}/.env: no such file (a dangling symbolic link)"


def test_deleted_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a deleted working directory: an error with a hint, unless the project is named absolutely."""
    write(tmp_path / "p", {BASE: "mlflow_experiment_name: x\n"})
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(LayeredMlflowError) as raised:
        resolve(environ={})
    assert (raised.value.message, raised.value.hint) == (
        "the working directory no longer exists",
        "cd to an existing folder, or name the project with an absolute LAYERED_MLFLOW_PROJECT_DIR",
    )
    assert resolve(environ={"LAYERED_MLFLOW_PROJECT_DIR": str(tmp_path / "p")}).root == tmp_path / "p"
    assert resolve(project_dir=tmp_path / "p", environ={}).root == tmp_path / "p"
