"""SPEC §7 `env`: exactly the variables `run` sets, quoted so that each format's reader gets them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.conftest import COMMAND, Project

# Each breaks some naive quoting: a shell's, python-dotenv's, a heredoc's.
NASTY = {
    "SPACES": "two  words ",
    "DOLLAR": "$HOME and $1",
    "BRACED": "${HOME} ${MISSING:-x} $${HOME}",
    "SUBSHELL": "$(touch pwned)",
    "BACKTICKS": "`touch pwned`",
    "SINGLE_QUOTES": "it's 'quoted' '\\''",
    "DOUBLE_QUOTES": 'say "hi" ""',
    "BACKSLASHES": "C:\\new\\table \\\\ \\' \\\" \\n",
    "TRAILING_BACKSLASH": "ends with \\",
    "HASH": "a #not a comment",
    "LEADING_SPACE": " lead",
    "EQUALS": "a=b==c",
    "HISTORY": "!! !$",
    "GLOB": "* ? [a]",
    "TILDE": "~/x",
    "SEMICOLON": "a; touch pwned",
    "UNICODE": "ünïcødé ✓ 🙂",
    "DOTENV_ESCAPE": "${:-$}",
    "JSON_TEXT": '{"a": [1, "\\u00e9"]}',
    "TAB": "a\tb",
}
MULTI_LINE = {
    "NEWLINES": "line1\nline2",
    "TRAILING_NEWLINE": "x\n",
    "CARRIAGE_RETURN": "a\rb\r",
    "CRLF": "a\r\nb",
    "HEREDOC_LOOKALIKE": "EOF\nX<<EOF\nLAYERED_MLFLOW_EOF_\n",
    "BLANK_LINES": "\n\nmiddle\n\n",
}


def nasty_args(values: dict[str, str]) -> list[str]:
    """`--set env.NAME=VALUE` for each value: the command line passes them byte for byte."""
    return [arg for name, value in values.items() for arg in ("--set", f"env.{name}={value}")]


def env_output(project: Project, fmt: str, *args: str, env: dict[str, str] | None = None) -> str:
    """`env --format FMT --show-secrets` as written: bytes decoded with no newline translation (`\r` stays)."""
    argv = [COMMAND, *args, "env", "--format", fmt, "--show-secrets"]
    completed = subprocess.run(
        argv, cwd=project.root, env={**os.environ, **(env or {})}, capture_output=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.decode()


def variables(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The reference: `env --format json --show-secrets` (itself compared with `run` below)."""
    document: dict[str, str] = json.loads(env_output(project, "json", *args, env=env))
    return document


def test_env_prints_exactly_what_run_sets(project: Project, tmp_path: Path) -> None:
    """The child of `run` has the inherited variables, less those `run` unsets, plus exactly `env`'s."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\nenv:\n  AWS_PROFILE: team\ntags:\n  t: v\n")
    project.write(".env", "FROM_DOTENV=yes\n")
    (tmp_path / "pw").write_text("pw-from-file\n")
    injected = {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5999",  # injected MLFLOW_* count as resolved
        "AWS_PROFILE": "ci",
        "MLFLOW_TRACKING_PASSWORD_FILE": str(tmp_path / "pw"),
        "MLFLOW_RUN_ID": "",
        "UNRELATED": "inherited",
    }
    inherited = {**os.environ, **injected}
    result = project.cli("run", "--", "env", "-0", env=injected)  # not Python: it would add LC_CTYPE
    assert result.returncode == 0, result
    child = dict(entry.split("=", 1) for entry in result.stdout.split("\0") if entry)
    printed = variables(project, env=injected)
    unset = {"MLFLOW_TRACKING_PASSWORD_FILE", "MLFLOW_RUN_ID"}
    assert child == {**{k: v for k, v in inherited.items() if k not in unset}, **printed}
    assert printed["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5999"
    assert printed["MLFLOW_TRACKING_PASSWORD"] == "pw-from-file"  # noqa: S105 (a test value)
    assert (printed["FROM_DOTENV"], printed["AWS_PROFILE"]) == ("yes", "ci")
    assert not {"UNRELATED", "PATH", "MLFLOW_TRACKING_PASSWORD_FILE"} & set(printed)


def test_default_format_is_dotenv(project: Project) -> None:
    """`env` with no --format writes .env lines."""
    result = project.cli("env")
    assert result.returncode == 0, result
    assert 'LAYERED_MLFLOW_ENV="development"' in result.stdout.splitlines()


def test_json_is_one_object(project: Project) -> None:
    """--format json: one JSON object of names to string values, nasty or not."""
    values = {**NASTY, **MULTI_LINE}
    printed = variables(project, *nasty_args(values))
    assert {name: printed[name] for name in values} == values
    assert all(isinstance(value, str) for value in printed.values())


def test_dotenv_round_trips_through_python_dotenv(project: Project, tmp_path: Path) -> None:
    """--format dotenv, read by python-dotenv's `dotenv_values` from a file, gives every value back."""
    args = nasty_args({**NASTY, **MULTI_LINE})
    written = tmp_path / "out.env"
    written.write_bytes(env_output(project, "dotenv", *args).encode())
    assert dotenv_values(written) == variables(project, *args)


def test_dotenv_round_trips_through_env_file(project: Project, tmp_path: Path) -> None:
    """--format dotenv, given back as --env-file in another project, sets the same variables."""
    args = nasty_args({**NASTY, **MULTI_LINE})
    written = tmp_path / "out.env"
    written.write_bytes(env_output(project, "dotenv", *args).encode())
    elsewhere = Project(tmp_path / "elsewhere")
    (elsewhere.root / "settings").mkdir(parents=True)
    assert variables(elsewhere, "--env-file", str(written)) == variables(project, *args)


@pytest.mark.parametrize(
    ("shell", "how"),
    [
        pytest.param("bash", 'eval "$(cat "$1")"', id="bash-eval"),
        pytest.param("bash", '. "$1"', id="bash-dot"),
        pytest.param("sh", 'eval "$(cat "$1")"', id="sh-eval"),
        pytest.param("sh", '. "$1"', id="sh-dot"),
    ],
)
def test_shell_survives_eval_and_dot(project: Project, tmp_path: Path, shell: str, how: str) -> None:
    """--format shell, run by a real shell with `eval` or `.`, exports every value exactly and runs nothing."""
    args = nasty_args({**NASTY, **MULTI_LINE})
    written = tmp_path / "out.sh"
    written.write_bytes(env_output(project, "shell", *args).encode())
    script = f'{how} && exec env -0 > "$2"'
    exported = tmp_path / "exported"
    subprocess.run([shell, "-c", script, shell, str(written), str(exported)], cwd=tmp_path, check=True, timeout=30)
    child = dict(entry.split("=", 1) for entry in exported.read_bytes().decode().split("\0") if entry)
    expected = variables(project, *args)
    assert {name: child.get(name) for name in expected} == expected
    assert not (tmp_path / "pwned").exists()


def test_shell_keeps_bytes_that_are_not_utf8(project: Project, tmp_path: Path) -> None:
    """An injected value that is not UTF-8 comes out of `eval` as the same bytes."""
    env = os.environb.copy()
    env[b"MLFLOW_EXPERIMENT_NAME"] = b"caf\xe9 'x'"
    out = subprocess.run(
        [COMMAND, "env", "--format", "shell"], env=env, cwd=project.root, capture_output=True, check=True
    ).stdout
    script = b'eval "$1" && printf %s "$MLFLOW_EXPERIMENT_NAME"'
    echoed = subprocess.run([b"bash", b"-c", script, b"bash", out], capture_output=True, check=True).stdout
    assert echoed == b"caf\xe9 'x'"


@pytest.mark.parametrize(
    ("path", "line", "name", "written_in"),
    [
        pytest.param(".env", "my.var=x", "my.var", ".env", id="dotenv"),
        pytest.param("settings/mlflow.yml", "mlflow_a.b: x", "MLFLOW_A.B", "settings/mlflow.yml", id="settings"),
        pytest.param(
            "settings/mlflow.local.yml", "mlflow_a-b: x", "MLFLOW_A-B", "settings/mlflow.local.yml", id="local"
        ),
    ],
)
def test_shell_refuses_a_name_no_shell_can_set(
    project: Project, path: str, line: str, name: str, written_in: str
) -> None:
    """A name like `my.var` cannot be exported by a shell: exit 2 naming it, and the hint names the file that wrote it.

    (An inherited `MLFLOW_A.B` is no MLflow variable at all: `env` leaves it out, as
    test_a_hostile_inherited_name_runs_nothing shows.)
    """
    project.write(path, line + "\n")
    result = project.cli("env", "--format", "shell")
    assert result.returncode == 2, result
    said = f"layered-mlflow: error: {name!r} is not a shell variable name, so --format shell cannot set it"
    assert result.stderr == f"{said} (hint: rename it in {written_in}, or use --format dotenv or json)\n", result


def read_docker_env_file(text: str) -> dict[str, str]:
    """Docker's `--env-file` reader (docker/cli opts/envfile.go): lines, left-trimmed, `#` comments, no quoting."""
    found = {}
    for raw in text.split("\n"):
        line = raw.removesuffix("\r").lstrip()  # bufio.ScanLines drops a final \r
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name] = value
    return found


def test_docker_round_trips_single_line_values(project: Project) -> None:
    """--format docker: KEY=VALUE unquoted, as Docker's --env-file reads it (quotes stay literal)."""
    args = nasty_args(NASTY)
    assert read_docker_env_file(env_output(project, "docker", *args)) == variables(project, *args)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("env.NOTE", "line1\nline2-canary", id="newline"),
        pytest.param("env.NOTE", "carriage\rreturn-canary", id="carriage-return"),
        pytest.param("mlflow_tracking_password", "pw\nline2-canary", id="masked-secret"),
    ],
)
def test_docker_refuses_a_line_break(project: Project, name: str, value: str) -> None:
    """Docker cannot carry a line break: exit 2, one line naming the variable, never the value."""
    result = project.cli("--set", f"{name}={value}", "env", "--format", "docker")
    assert result.returncode == 2, result
    variable = name.removeprefix("env.").upper()
    assert result.stderr.startswith(f"layered-mlflow: error: {variable} holds a line break"), result
    assert len(result.stderr.splitlines()) == 1, result
    assert "canary" not in result.stdout + result.stderr


def read_github_env(text: str) -> dict[str, str]:
    """The runner's `$GITHUB_ENV` reader (actions/runner SetEnvFileCommand), on Linux: `NAME=VALUE` or a heredoc."""
    lines = text.split("\n")
    found: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, _, value = line.partition("=")
            found[name] = value
            continue
        name, _, delimiter = line.partition("<<")
        end = lines.index(delimiter, index)  # ValueError: the heredoc never ends
        found[name] = "\n".join(lines[index:end])
        index = end + 1
    return found


def test_github_round_trips_every_value(project: Project) -> None:
    """--format github, read as the Actions runner reads $GITHUB_ENV, gives every value back."""
    args = nasty_args({**NASTY, **MULTI_LINE})
    output = env_output(project, "github", *args)
    assert read_github_env(output) == variables(project, *args)


def test_github_heredoc_delimiter_is_not_in_the_value(project: Project) -> None:
    """Multi-line values use NAME<<DELIMITER with a random delimiter the value does not contain."""
    args = nasty_args(MULTI_LINE)
    first, second = env_output(project, "github", *args), env_output(project, "github", *args)
    headers = [line for line in first.split("\n") if line.partition("<<")[2].startswith("LAYERED_MLFLOW_EOF_")]
    assert len(headers) == len(MULTI_LINE)
    for header in headers:
        name, _, delimiter = header.partition("<<")
        assert delimiter not in MULTI_LINE[name]
        assert delimiter not in second  # random, so a value cannot be made to end it


@pytest.mark.parametrize("fmt", ["dotenv", "shell", "json", "docker", "github"])
def test_secrets_masked_unless_asked(project: Project, fmt: str) -> None:
    """Secret names and URI passwords print as *** (with a warning naming them) unless --show-secrets."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: https://u:uri-canary@mlflow.example\n")
    env = {"MLFLOW_TRACKING_TOKEN": "tok-canary"}
    masked = project.cli("env", "--format", fmt, env=env)
    assert masked.returncode == 0, masked
    assert "canary" not in masked.stdout + masked.stderr
    assert "***" in masked.stdout
    assert "warning: MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_URI printed as ***" in masked.stderr
    assert project.cli("-q", "env", "--format", fmt, env=env).stderr == ""
    revealed = project.cli("env", "--format", fmt, "--show-secrets", env=env)
    assert "tok-canary" in revealed.stdout
    assert "uri-canary" in revealed.stdout
    assert revealed.stderr == ""


@pytest.mark.parametrize("fmt", ["dotenv", "shell", "json", "docker", "github"])
def test_env_does_not_import_mlflow(project: Project, fmt: str) -> None:
    """SPEC §1: `env` stays fast; importing mlflow would cost most of a second."""
    argv = [sys.executable, "-X", "importtime", "-m", "layered_mlflow", "env", "--format", fmt]
    result = subprocess.run(argv, cwd=project.root, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    imported = [line.rpartition("|")[2].strip() for line in lines]
    assert "layered_mlflow.cli.formats" in imported
    assert not [name for name in imported if name == "mlflow" or name.startswith("mlflow.")]


def test_shell_unsets_what_run_removes(project: Project, tmp_path: Path) -> None:
    """After `eval` of the shell format, `run` works and sees the same: X_FILE and empty MLFLOW_* are unset."""
    secret = tmp_path / "password"
    secret.write_text("pw\n")
    env = {"MLFLOW_TRACKING_PASSWORD_FILE": str(secret), "MLFLOW_CONFIGURE_LOGGING": ""}
    script = (
        f'eval "$({COMMAND} env --format shell --show-secrets)" && '
        f"{COMMAND} run -- sh -c 'echo \"$MLFLOW_TRACKING_PASSWORD ${{MLFLOW_TRACKING_PASSWORD_FILE-unset}} "
        f"${{MLFLOW_CONFIGURE_LOGGING-unset}}\"'"
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=project.root, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pw", "unset", "unset"]


def test_json_is_valid_utf8_whatever_the_bytes(project: Project) -> None:
    """A value that is not UTF-8 comes out as a \\u escape: the JSON still parses."""
    env = os.environb.copy()
    env[b"MLFLOW_EXPERIMENT_NAME"] = b"exp\xe9"
    for args in (["env", "--format", "json"], ["show", "--format", "json"]):
        done = subprocess.run([COMMAND, *args], cwd=project.root, env=env, capture_output=True, check=True)
        document = json.loads(done.stdout.decode("utf-8"))  # strict UTF-8: raises on a raw byte
        assert b"exp\\udce9" in done.stdout
        assert "exp\udce9" in json.dumps(document, ensure_ascii=False)


HOSTILE_NAME = "MLFLOW_X;PWNED;#"  # all capitals, as an MLflow name is: it ran `PWNED` under `eval`


@pytest.mark.parametrize("value", [pytest.param("", id="empty"), pytest.param("x", id="set")])
@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_a_hostile_inherited_name_runs_nothing(project: Project, tmp_path: Path, shell: str, value: str) -> None:
    """An inherited `MLFLOW_X;PWNED;#` is no MLflow name: `eval` of `env` runs nothing, `run` passes it on."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "PWNED").write_text(f"#!/bin/sh\ntouch {tmp_path / 'pwned'}\n")
    (bin_dir / "PWNED").chmod(0o755)
    env = {**os.environ, HOSTILE_NAME: value, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    script = f'eval "$({COMMAND} env --format shell)" && echo "$MLFLOW_TRACKING_URI"'
    done = subprocess.run([shell, "-c", script], cwd=project.root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("file://"), done.stdout
    assert not (tmp_path / "pwned").exists()
    for fmt in ("dotenv", "docker", "github", "json"):
        assert "PWNED" not in env_output(project, fmt, env={HOSTILE_NAME: value})
    child = project.cli("run", "--", "env", "-0", env={HOSTILE_NAME: value})
    assert f"{HOSTILE_NAME}={value}" in child.stdout.split("\0"), child


@pytest.mark.parametrize("fmt", ["dotenv", "docker", "github", "github-env"])
def test_a_name_that_would_make_another_line_is_refused(project: Project, tmp_path: Path, fmt: str) -> None:
    """A `.env` name holding a line break (python-dotenv reads `'A<newline>B'=x`) cannot add a line: exit 2."""
    project.write(".env", "'X\nMLFLOW_TRACKING_URI'=http://127.0.0.1:1\n")
    github_env = tmp_path / "github_env"
    args = ("env", "--github-env") if fmt == "github-env" else ("env", "--format", fmt)
    result = project.cli(*args, env={"GITHUB_ENV": str(github_env)})
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: 'X\\nMLFLOW_TRACKING_URI' is not a name"), result
    assert len(result.stderr.splitlines()) == 1
    assert "127.0.0.1:1" not in result.stdout
    assert not github_env.exists()
