"""SPEC §7, §8: `run` execs the command: its PID, signals, argv and exit status are its own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import COMMAND, Project


@pytest.mark.parametrize("status", [0, 1, 3, 255])
def test_exit_status_is_the_commands(project: Project, status: int) -> None:
    """The command's exit status is ours."""
    assert project.cli("run", "--", "sh", "-c", f"exit {status}").returncode == status


@pytest.mark.parametrize(
    ("command", "status"),
    [
        pytest.param(["no-such-command-xyz"], 127, id="not-found"),
        pytest.param(["./not-executable.sh"], 126, id="not-executable"),
        pytest.param(["./a-directory"], 126, id="directory"),
        pytest.param([""], 127, id="empty-name"),
    ],
)
def test_command_that_cannot_run(project: Project, command: list[str], status: int) -> None:
    """127 when the command is not found, 126 when it is not executable; one line on stderr."""
    project.write("not-executable.sh", "#!/bin/sh\necho hi\n")
    (project.root / "a-directory").mkdir()
    result = project.cli("run", "--", *command)
    assert result.returncode == status, result
    assert result.stderr.startswith(f"layered-mlflow: error: {command[0]}"), result
    assert len(result.stderr.splitlines()) == 1, result


@pytest.mark.parametrize(
    ("closed", "output"),
    [pytest.param(">&-", "echo ran >&2", id="stdout-closed"), pytest.param("2>&-", "echo ran", id="stderr-closed")],
)
def test_command_runs_with_a_standard_stream_closed(project: Project, closed: str, output: str) -> None:
    """Started with stdout or stderr closed (`>&-`), the command still runs and writes to the other one."""
    script = f"exec {COMMAND} run -- sh -c '{output}' {closed}"
    done = subprocess.run(["sh", "-c", script], cwd=project.root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done
    assert "ran" in done.stdout + done.stderr, done


def test_signal_status_as_the_shell_sees_it(project: Project) -> None:
    """A command killed by SIGTERM shows as 143 to sh, exactly as without the wrapper."""
    script = f"{COMMAND} run -- sh -c 'kill -TERM $$'; echo $?"
    result = subprocess.run(["sh", "-c", script], cwd=project.root, capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "143", result.stderr


def test_run_execs_in_place(project: Project) -> None:
    """The command's PID is the PID of the layered-mlflow process that was started."""
    process = subprocess.Popen(
        [COMMAND, "run", "--", sys.executable, "-c", "import os; print(os.getpid())"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=60)
    assert int(out) == process.pid


def test_sigterm_reaches_the_command(project: Project, tmp_path: Path) -> None:
    """SIGTERM sent to the started process is delivered to the command's own handler."""
    ready = tmp_path / "ready"
    handler = (
        "import signal, sys, time, pathlib\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([COMMAND, "run", "--", sys.executable, "-c", handler], cwd=project.root)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 42


def test_sigpipe_behaves_as_without_the_wrapper(project: Project) -> None:
    """`run -- yes | head -1` ends: SIGPIPE is restored to its default before exec."""
    script = f"{COMMAND} run -- yes | head -n 1; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", script], cwd=project.root, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["y", "141"], result


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--help"], id="option-like"),
        pytest.param(["--", "x"], id="second-double-dash"),
        pytest.param(["-v", "--set", "a=b", "--env", "nope"], id="our-own-options"),
        pytest.param(["a b", "", "$HOME", "*"], id="spaces-empty-and-shell-characters"),
    ],
)
def test_everything_after_double_dash_belongs_to_the_command(project: Project, argv: list[str]) -> None:
    """No option parsing, no shell: the command sees exactly its argv."""
    script = "import json, sys; print(json.dumps(sys.argv[1:]))"
    result = project.cli("run", "--", sys.executable, "-c", script, *argv)
    assert result.returncode == 0, result
    assert result.stdout.strip() == __import__("json").dumps(argv)


def test_child_gets_no_variable_nobody_set(project: Project) -> None:
    """In a bare environment (no LANG) Python's locale coercion must not leak LC_CTYPE to the child."""
    bare = {"PATH": os.environ["PATH"]}
    result = project.cli("run", "--", "env", "-0", base_env=bare)  # not Python: it would coerce for itself
    assert result.returncode == 0, result
    assert sorted(entry.split("=")[0] for entry in result.stdout.split("\0") if entry) == sorted(
        ["PATH", "MLFLOW_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE", "MLFLOW_RUN_CONTEXT", "LAYERED_MLFLOW_ENV"]
    )


def _without_proc(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a mount namespace whose /proc is an empty tmpfs (root only)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to hide /proc")
    script = 'mount -t tmpfs none /proc && exec "$@"'
    command = ["unshare", "--mount", "sh", "-c", script, "sh", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
    done = subprocess.run([*command, *argv], cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    if "mount:" in done.stderr or "unshare:" in done.stderr:
        pytest.skip(f"cannot hide /proc here: {done.stderr.strip()}")
    return done


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({}, None, id="nobody-set-it"),
        pytest.param({"LC_CTYPE": "C.UTF-8"}, "C.UTF-8", id="the-user-set-it"),
        pytest.param({"LC_ALL": "C.UTF-8"}, None, id="lc-all-set"),
    ],
)
def test_without_proc_the_child_gets_no_coerced_locale(
    project: Project, given: dict[str, str], expected: str | None
) -> None:
    """With /proc unmounted, LC_CTYPE reaches the command only if the user set it, not from Python's coercion."""
    env = {"PATH": os.environ["PATH"], **given}
    done = _without_proc([COMMAND, "run", "--", "env", "-0"], env, project.root)
    assert done.returncode == 0, done
    child = dict(entry.split("=", 1) for entry in done.stdout.split("\0") if entry)
    assert child.get("LC_CTYPE") == expected, child


def test_dry_run_prints_masked_variables_and_argv(project: Project) -> None:
    """--dry-run prints what it would set (secrets masked) and the argv, and runs nothing."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: https://u:hunter2@mlflow.example\n")
    env = {"MLFLOW_TRACKING_PASSWORD": "s3cr3t-canary"}
    result = project.cli("run", "--dry-run", "--", "touch", "ran", env=env)
    assert result.returncode == 0, result
    assert "s3cr3t-canary" not in result.stdout
    assert "hunter2" not in result.stdout
    assert "MLFLOW_TRACKING_PASSWORD='***'" in result.stdout
    assert "MLFLOW_TRACKING_URI='https://u:***@mlflow.example'" in result.stdout
    assert result.stdout.rstrip().endswith("exec touch ran")
    assert not (project.root / "ran").exists()


def test_verbose_says_what_it_sets_on_stderr(project: Project) -> None:
    """-v reports the environment and variables on stderr, masked, then runs the command."""
    result = project.cli("-v", "run", "--", "true", env={"MLFLOW_TRACKING_TOKEN": "tok-canary"})
    assert result.returncode == 0, result
    assert "layered-mlflow: environment development" in result.stderr
    assert "MLFLOW_TRACKING_TOKEN='***'" in result.stderr
    assert "tok-canary" not in result.stderr


@pytest.mark.parametrize(
    "invocation",
    [
        pytest.param([COMMAND], id="console-script"),
        pytest.param([sys.executable, "-m", "layered_mlflow"], id="python-m"),
    ],
)
def test_python_m_is_the_same_command(project: Project, invocation: list[str]) -> None:
    """`python -m layered_mlflow` reads the same in --version and --help."""
    version = subprocess.run([*invocation, "--version"], capture_output=True, text=True, check=True).stdout
    usage = subprocess.run([*invocation, "--help"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("layered-mlflow ")
    assert usage.startswith("Usage: layered-mlflow [OPTIONS] COMMAND")


def test_dry_run_masks_a_uri_password_in_the_argv(project: Project) -> None:
    """The command's own arguments may carry a URI with a password: --dry-run masks it too."""
    result = project.cli("run", "--dry-run", "--", "python", "train.py", "--uri", "https://u:argv-canary@h/x")
    assert "argv-canary" not in result.stdout
    assert "https://u:***@h/x" in result.stdout


def test_dry_run_masks_an_inherited_secret_in_the_argv(project: Project) -> None:
    """A secret-named variable only the environment has (`--key "$OPENAI_API_KEY"`) is masked in the argv too."""
    env = {"OPENAI_API_KEY": "sk-inherited-canary", "SOME_PASSWORD": "pw-inherited-canary"}
    argv = ("python", "train.py", "--key", "sk-inherited-canary", "--pw=pw-inherited-canary")
    result = project.cli("run", "--dry-run", "--", *argv, env=env)
    assert result.returncode == 0, result
    assert "inherited-canary" not in result.stdout + result.stderr, result
    assert "exec python train.py --key '***' '--pw=***'" in result.stdout, result


# The command's PATH search, done as os.execvpe does it; the layouts are folder names relative to a temporary one.
_EXEC = """
import json, os, sys
from layered_mlflow.cli import runner
argv, environment = json.loads(sys.argv[1]), json.loads(sys.argv[2])
try:
    os.execvpe(argv[0], argv, environment) if sys.argv[3] == "os" else runner._execvpe(argv, environment)
except OSError as exc:
    print(type(exc).__name__, exc.errno, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("missing:plain", id="after-a-missing-folder"),
        pytest.param("a-file:plain", id="after-a-file-as-folder"),
        pytest.param("locked:plain", id="after-a-non-executable-one"),
        pytest.param("locked", id="only-a-non-executable-one"),
        pytest.param("locked:missing", id="a-non-executable-one-then-nothing"),
        pytest.param("folder:plain", id="after-a-folder-of-its-name"),
        pytest.param("no-interpreter:plain", id="after-one-whose-interpreter-is-missing"),
        pytest.param("no-interpreter", id="only-one-whose-interpreter-is-missing"),
        pytest.param("missing:a-file", id="nowhere"),
        pytest.param(":plain", id="an-empty-entry-is-the-working-folder"),
        pytest.param("", id="an-empty-path"),
    ],
)
def test_the_path_search_is_os_execvpes(tmp_path: Path, path: str) -> None:
    """The command found (or the error raised) for each PATH is what os.execvpe finds, folders skipped or not."""
    for folder, text, mode in [
        ("plain", "#!/bin/sh\necho plain\n", 0o755),
        ("locked", "#!/bin/sh\necho locked\n", 0o644),
        ("no-interpreter", "#!/no/such/interpreter\n", 0o755),
        (".", "#!/bin/sh\necho working folder\n", 0o755),
    ]:
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "cmd").write_text(text)
        (tmp_path / folder / "cmd").chmod(mode)
    (tmp_path / "folder" / "cmd").mkdir(parents=True)
    (tmp_path / "a-file").write_text("")
    folders = ":".join(str(tmp_path / name) if name else "" for name in path.split(":")) if path else ""
    arguments = [json.dumps(["cmd"]), json.dumps({"PATH": folders})]
    ours, theirs = (
        subprocess.run(
            [sys.executable, "-c", _EXEC, *arguments, which], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        for which in ("ours", "os")
    )
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout or ours.stderr, ours  # something ran, or something was raised


def test_a_value_over_the_kernels_per_variable_limit_names_the_variable(project: Project) -> None:
    """Linux refuses one variable over 128 KiB (E2BIG): exit 2 naming it, not 126 blaming the command."""
    project.write("settings/mlflow.yml", f"env:\n  HUGE: {'x' * 140_000}\n")
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: HUGE is 140,006 bytes, over the "), result
    assert result.stderr.count("\n") == 1, result
