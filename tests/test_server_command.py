"""SPEC §5, §7: the `mlflow server` command that `server` and `ui` build from the `server` section.

These read `--dry-run`; tests/test_tracking_server.py starts the real thing.
"""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from layered_mlflow.secrets.masking import MASK
from tests.conftest import Project
from tests.servers import free_port


def dry_run(project: Project, command: str, *args: str, **kwargs: object) -> tuple[dict[str, str], str, list[str]]:
    """The variables, working directory and argv that `layered-mlflow COMMAND --dry-run ARGS` prints."""
    result = project.cli(command, "--dry-run", *args, **kwargs)  # type: ignore[arg-type]
    assert result.returncode == 0, result
    variables: dict[str, str] = {}
    cwd = ""
    argv: list[str] = []
    for line in result.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word == "cd":
            cwd = shlex.split(rest)[0]
        elif word == "exec":
            argv = shlex.split(rest)
        else:
            name, _, value = line.partition("=")
            variables[name] = shlex.split(value)[0] if value else ""
    assert Path(argv[0]).resolve() == Path(sys.executable).resolve(), result
    assert argv[1:4] == ["-m", "mlflow", "server"], result
    return variables, cwd, argv[4:]


ARGV_CASES = [
    pytest.param(
        "",
        {},
        "--backend-store-uri file://{root}/mlruns --host 127.0.0.1 --port 5000",
        id="defaults-serve-the-local-mlruns",
    ),
    pytest.param(
        "mlflow_tracking_uri: https://mlflow.example.com\n",
        {},
        "--backend-store-uri sqlite:///{root}/mlflow.db --host 127.0.0.1 --port 5000",
        id="remote-tracking-store-defaults-to-sqlite-in-the-root",
    ),
    pytest.param(
        "mlflow_tracking_uri: sqlite:///runs.db\n",
        {},
        "--backend-store-uri sqlite:///{root}/runs.db --host 127.0.0.1 --port 5000",
        id="sqlite-tracking-store-is-the-backend",
    ),
    pytest.param(
        """\
        server:
          backend_store_uri: sqlite:///db/mlflow.db
          registry_store_uri: sqlite:///db/registry.db
          default_artifact_root: ./artifacts
          artifacts_destination: s3://bucket/prefix
          serve_artifacts: true
          host: 0.0.0.0
          port: 5001
          workers: 2
          allowed_hosts: [mlflow:5000, "127.0.0.1:*"]
        """,
        {},
        """
        --backend-store-uri sqlite:///{root}/db/mlflow.db --registry-store-uri sqlite:///{root}/db/registry.db
        --default-artifact-root file://{root}/artifacts --serve-artifacts --artifacts-destination s3://bucket/prefix
        --host 0.0.0.0 --port 5001 --workers 2 --allowed-hosts mlflow:5000,127.0.0.1:*
        """,
        id="every-key-from-a-file-uris-anchored",
    ),
    pytest.param(
        "server:\n  serve_artifacts: true\n  allowed_hosts: [a]\n",
        {
            "LAYERED_MLFLOW_SERVER__SERVE_ARTIFACTS": "false",
            "LAYERED_MLFLOW_SERVER__PORT": "5002",
            "LAYERED_MLFLOW_SERVER__ALLOWED_HOSTS": "mlflow:5000, localhost:*",
            "LAYERED_MLFLOW_SERVER__ARTIFACTS_DESTINATION": "../shared/artifacts",
        },
        """
        --backend-store-uri file://{root}/mlruns --no-serve-artifacts --artifacts-destination file://{parent}/shared/artifacts
        --host 127.0.0.1 --port 5002 --allowed-hosts mlflow:5000,localhost:*
        """,
        id="variables-override-files-lists-comma-separated",
    ),
]


@pytest.mark.parametrize(("settings", "env", "expected"), ARGV_CASES)
def test_server_argv(project: Project, settings: str, env: dict[str, str], expected: str) -> None:
    """Each `server` key becomes its `mlflow server` option, in MLflow's order; store URIs are anchored to the root."""
    project.write("settings/mlflow.yml", settings)
    _, _, argv = dry_run(project, "server", env=env)
    assert argv == expected.format(root=project.root, parent=project.root.parent).split()


def test_server_runs_in_the_root_from_any_subdirectory(project: Project) -> None:
    """From a subdirectory: the same command, run in the root (where MLflow's ./mlartifacts default lands)."""
    project.write("settings/mlflow.yml", "server:\n  backend_store_uri: sqlite:///mlflow.db\n")
    sub = project.root / "ops" / "deploy"
    sub.mkdir(parents=True)
    assert dry_run(project, "server", cwd=sub) == dry_run(project, "server")
    assert dry_run(project, "server", cwd=sub)[1] == str(project.root)


def test_arguments_after_double_dash_come_last(project: Project) -> None:
    """`server -- ARGS` passes ARGS through after the settings' options, so that they win."""
    project.write("settings/mlflow.yml", "server:\n  port: 5001\n")
    _, _, argv = dry_run(project, "server", "--", "--port", "6000", "--cors-allowed-origins", "*")
    assert argv[-6:] == ["--port", "5001", "--port", "6000", "--cors-allowed-origins", "*"]


def test_server_environment_has_the_env_section_and_file_store_flag(project: Project) -> None:
    """The server gets what `run` would set (its S3 keys, say), plus MLFLOW_ALLOW_FILE_STORE for a file backend."""
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: https://mlflow.example.com\nenv:\n  AWS_DEFAULT_REGION: eu-west-1\n"
        "server:\n  backend_store_uri: mlruns\n",
    )
    project.write(".env", "AWS_SECRET_ACCESS_KEY=canary-secret\n")
    variables, _, argv = dry_run(project, "server")
    assert argv[:2] == ["--backend-store-uri", f"file://{project.root}/mlruns"]
    assert variables["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert variables["AWS_SECRET_ACCESS_KEY"] == MASK
    assert variables["MLFLOW_ALLOW_FILE_STORE"] == "true"


def test_explicit_allow_file_store_is_kept(project: Project) -> None:
    """An explicitly set MLFLOW_ALLOW_FILE_STORE is not overridden for a file backend."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: https://x\nserver:\n  backend_store_uri: mlruns\n")
    variables, _, _ = dry_run(project, "server", env={"MLFLOW_ALLOW_FILE_STORE": "false"})
    assert variables["MLFLOW_ALLOW_FILE_STORE"] == "false"


@pytest.mark.mlflow
def test_store_passwords_go_in_variables_not_the_argv(project: Project) -> None:
    """A store URI holding a password reaches `mlflow server` in the variable its option reads, shown masked.

    On the command line every user of the machine could read it (/proc/<pid>/cmdline, `ps`); a store without
    a password stays an option, as does the rest.
    """
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: https://x\nserver:\n"
        "  registry_store_uri: mysql+pymysql://reg:reg-canary@db.internal/registry\n"
        "  artifacts_destination: s3://bucket/prefix\n",
    )
    uri = "postgresql+psycopg2://mlflow:hunter2@db.internal:5432/mlflow"
    result = project.cli("server", "--dry-run", env={"LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI": uri})
    assert result.returncode == 0, result
    assert "hunter2" not in result.stdout, result
    assert "reg-canary" not in result.stdout, result
    variables, _, argv = dry_run(project, "server", env={"LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI": uri})
    assert variables["MLFLOW_BACKEND_STORE_URI"] == "postgresql+psycopg2://mlflow:***@db.internal:5432/mlflow"
    assert variables["MLFLOW_REGISTRY_STORE_URI"] == "mysql+pymysql://reg:***@db.internal/registry"
    assert argv == ["--artifacts-destination", "s3://bucket/prefix", "--host", "127.0.0.1", "--port", "5000"]


def test_ui_serves_the_tracking_store_with_one_worker(project: Project) -> None:
    """`ui` serves the local tracking store (not server.backend_store_uri) with one worker, on host/port."""
    project.write(
        "settings/mlflow.yml",
        "server:\n  backend_store_uri: sqlite:///other.db\n  workers: 4\n  port: 5005\n  host: localhost\n",
    )
    _, _, argv = dry_run(project, "ui")
    expected = ["--backend-store-uri", f"file://{project.root}/mlruns"]
    assert argv == [*expected, "--host", "localhost", "--port", "5005", "--workers", "1"]


def test_kedro_tracking_uris_under_server_are_not_options(project: Project) -> None:
    """kedro-mlflow's `server.mlflow_tracking_uri` (SPEC §10) is no `mlflow server` option, and no error."""
    project.write("settings/mlflow.yml", "server:\n  mlflow_tracking_uri: mlruns\n  port: 5003\n")
    _, _, argv = dry_run(project, "server")
    assert argv[-4:] == ["--host", "127.0.0.1", "--port", "5003"]


@pytest.mark.parametrize(
    ("key", "value", "must_be"),
    [
        pytest.param("port", "http", "an integer from 1 to 65535, not 'http'", id="port-not-a-number"),
        pytest.param("port", "0", "an integer from 1 to 65535, not '0'", id="port-zero"),
        pytest.param("port", "70000", "an integer from 1 to 65535, not '70000'", id="port-too-large"),
        pytest.param("workers", "0", "an integer of at least 1, not '0'", id="no-workers"),
        pytest.param("workers", "2.5", "an integer of at least 1, not '2.5'", id="workers-fraction"),
        pytest.param("serve_artifacts", "yes", "true or false, not 'yes'", id="boolean-yaml-1.2-yes"),
    ],
)
def test_bad_server_values(project: Project, key: str, value: str, must_be: str) -> None:
    """A bad `server` value is a one-line error naming key, value and origin, exit 2, nothing started."""
    project.write("settings/mlflow.yml", f"server:\n  {key}: {value}\n")
    result = project.cli("server")
    assert result.returncode == 2, result
    expected = f"layered-mlflow: error: `server.{key}` must be {must_be} (from settings/mlflow.yml)"
    assert result.stderr.startswith(expected), result
    assert len(result.stderr.splitlines()) == 1, result


def test_ui_refuses_a_remote_tracking_store(project: Project) -> None:
    """`ui` serves a local store only; a remote tracking URI is an error (its password masked)."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: https://u:pw-canary@mlflow.example.com\n")
    result = project.cli("ui")
    assert result.returncode == 2, result
    assert "the tracking URI is 'https://u:***@mlflow.example.com'" in result.stderr
    assert "pw-canary" not in result.stderr


def test_unknown_key_suggests_the_closest(project: Project) -> None:
    """An unknown key is an error (exit 2): a misspelt one gets a suggestion, another points to `server -- …`."""
    project.write("settings/mlflow.yml", "server:\n  prot: 5001\n")
    result = project.cli("server")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: unknown key `server.prot` (from settings/mlflow.yml)")
    assert "did you mean server.port?" in result.stderr
    project.write("settings/mlflow.yml", "server:\n  backlog: 64\n")
    hint = project.cli("server").stderr
    assert "pass other `mlflow server` options after --: layered-mlflow server -- --backlog" in hint


@pytest.mark.mlflow
def test_verbose_server_says_what_it_runs(project: Project) -> None:
    """-v prints the variables and command on stderr (masked) before starting; here MLflow refuses an option."""
    project.write("settings/mlflow.yml", "mlflow_tracking_password: canary-pw\n")
    port = {"LAYERED_MLFLOW_SERVER__PORT": str(free_port())}  # 5000 may be taken: the port is checked first
    result = project.cli("-v", "server", "--", "--no-such-mlflow-option", env=port, timeout=300)
    assert result.returncode == 2, result  # mlflow server's own usage error: it did run
    assert "layered-mlflow: MLFLOW_TRACKING_PASSWORD='***'" in result.stderr
    assert f"layered-mlflow: cd {project.root}" in result.stderr
    assert "layered-mlflow: serving file://" in result.stderr
    assert "No such option '--no-such-mlflow-option'" in result.stderr
    assert "canary-pw" not in result.stderr


def test_mlflow_options_need_the_double_dash(project: Project) -> None:
    """`server --workers 2` is a usage error (exit 2): options for mlflow go after `--`."""
    result = project.cli("server", "--workers", "2")
    assert result.returncode == 2, result
    assert "No such option '--workers'" in result.stderr


@pytest.mark.parametrize(
    ("variable", "option"),
    [
        pytest.param("MLFLOW_BACKEND_STORE_URI", "--backend-store-uri", id="backend"),
        pytest.param("MLFLOW_REGISTRY_STORE_URI", "--registry-store-uri", id="registry"),
        pytest.param("MLFLOW_DEFAULT_ARTIFACT_ROOT", "--default-artifact-root", id="artifact-root"),
        pytest.param("MLFLOW_ARTIFACTS_DESTINATION", "--artifacts-destination", id="artifacts-destination"),
    ],
)
def test_injected_mlflow_server_variable_is_used(project: Project, variable: str, option: str) -> None:
    """A variable `mlflow server` reads itself, injected by the orchestrator, is not overridden by a default."""
    uri = "postgresql+psycopg2://mlflow@127.0.0.1/mlflow" if "STORE" in variable else "s3://bucket/prefix"
    _, _, argv = dry_run(project, "server", env={variable: uri})
    assert argv[argv.index(option) + 1] == uri


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A free 127.0.0.1 port, held by a listening socket for the test's duration."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("command", "how"),
    [
        pytest.param("ui", "--set", id="ui-port-from-set"),
        pytest.param("server", "variable", id="server-port-from-a-variable"),
        pytest.param("server", "after-double-dash", id="server-port-after-double-dash"),
    ],
)
def test_a_busy_port_is_refused_before_mlflow_starts(project: Project, busy_port: int, command: str, how: str) -> None:
    """A port something listens on: exit 2 at once, naming host:port and how to pick another, nothing served.

    A port given after `server --` overrides server.port, so its hint is to change that argument.
    """
    args: list[str] = ["--set", f"server.port={busy_port}", command] if how == "--set" else [command]
    env = {"LAYERED_MLFLOW_SERVER__PORT": str(busy_port)} if how == "variable" else {}
    if how == "after-double-dash":
        args += ["--", f"--port={busy_port}"]
    result = project.cli(*args, env=env)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"layered-mlflow: error: 127.0.0.1:{busy_port} is already in use"), result
    if how == "after-double-dash":
        assert "--set server.port" not in result.stderr, result
        assert "change the --port given after -- (layered-mlflow server -- --port " in result.stderr, result
    else:
        assert "--set server.port=" in result.stderr, result
    assert len(result.stderr.splitlines()) == 1, result
    assert "serving" not in result.stderr, result


@pytest.mark.parametrize(
    ("args", "names"),
    [
        pytest.param(["--set", "server.host=192.0.2.1", "server"], "server.host", id="host-from-settings"),
        pytest.param(["server", "--", "--host", "192.0.2.1"], "the --host given after --", id="host-after-double-dash"),
    ],
)
def test_an_address_not_of_this_machine_is_refused(project: Project, args: list[str], names: str) -> None:
    """A host that is no address here (TEST-NET-1, bound but never reached): exit 2, naming where it was given."""
    result = project.cli(*args, env={"LAYERED_MLFLOW_SERVER__PORT": str(free_port())})
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: cannot listen on 192.0.2.1:"), result
    assert f"(hint: {names} must be an address of this machine" in result.stderr, result


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["--host", "127.0.0.1", "--port", "5000"], ("127.0.0.1", "5000"), id="settings-only"),
        pytest.param(["--port", "5000", "--port", "6000"], (None, "6000"), id="the-last-wins"),
        pytest.param(["--port", "5000", "-p", "6001", "-h", "::1"], ("::1", "6001"), id="short-options"),
        pytest.param(["--port", "5000", "--port=6002", "--host=localhost"], ("localhost", "6002"), id="with-equals"),
        pytest.param(["--port"], (None, None), id="option-without-value"),
    ],
)
def test_the_address_mlflow_server_will_use(argv: list[str], expected: tuple[str | None, str | None]) -> None:
    """The host and port checked are those `mlflow server` takes from its argv: the last of each spelling."""
    from layered_mlflow.server.ports import _HOST_OPTIONS, _PORT_OPTIONS, option_value

    assert (option_value(argv, _HOST_OPTIONS), option_value(argv, _PORT_OPTIONS)) == expected
