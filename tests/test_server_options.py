"""Issue 14: the `server` section is `mlflow server`, option for option (SPEC §12)."""

from __future__ import annotations

import shlex
import warnings
from pathlib import Path

import click
import pytest

from layered_mlflow import keys
from layered_mlflow.mlflow_names import server_options
from layered_mlflow.server import settings as server_settings
from tests.conftest import Project

# Compares what layered-mlflow reads with what the installed MLflow defines: CI runs it on the lowest too.
pytestmark = pytest.mark.installed_mlflow


def _mlflow_server_options() -> dict[str, click.Option]:
    with warnings.catch_warnings():  # importing MLflow's CLI warns about its dependencies' deprecations
        warnings.simplefilter("ignore")
        from mlflow.cli import server

    return {param.name: param for param in server.params if isinstance(param, click.Option) and param.name}


def test_every_mlflow_server_option_is_a_key() -> None:
    """server_options reads every option of the installed `mlflow server` from its source, as click has it.

    The name, the long flag, flag or switch (and a switch's `--no-…`), and an integer's range.
    """
    read = server_options.installed()
    options = _mlflow_server_options()
    assert sorted(read) == sorted(options)
    for name, option in options.items():
        assert read[name].flag in option.opts, name  # `--host` also has `-h`
        assert (read[name].kind in ("flag", "switch")) == option.is_flag, name
        assert read[name].off == (option.secondary_opts[0] if option.secondary_opts else None), name
        assert (read[name].kind == "integer") == isinstance(option.type, click.types.IntParamType), name
        assert (read[name].kind == "path") == isinstance(option.type, click.Path), name
        assert (read[name].kind == "choice") == isinstance(option.type, click.Choice), name
        bounds = (getattr(option.type, "min", None), getattr(option.type, "max", None))
        assert (read[name].low, read[name].high) == bounds, name


def test_the_click_command_says_what_the_source_says() -> None:
    """The fallback for a MLflow laid out otherwise (its click command, imported) agrees with the reading."""
    assert server_options.from_click() == server_options.installed()


def test_the_special_keys_are_mlflow_server_options() -> None:
    """What this package adds to MLflow's options (stores, folders, lists) names only options that exist."""
    assert set(keys.SERVER_SPECIAL) <= set(server_options.installed())


def test_an_option_no_code_here_names_reaches_mlflow_server(project: Project) -> None:
    """MLflow 3.18's `--artifacts-presigned-only` works as a key with its kind from MLflow: a flag, on or off."""
    if "artifacts_presigned_only" not in server_options.installed():
        pytest.skip("the installed MLflow predates --artifacts-presigned-only (3.18)")
    package = Path(server_options.__file__).parent
    assert not [path for path in package.rglob("*.py") if "presigned" in path.read_text(encoding="utf-8")]
    assert _argv(project, "artifacts_presigned_only: true").count("--artifacts-presigned-only") == 1
    assert "--artifacts-presigned-only" not in _argv(project, "artifacts_presigned_only: false")
    checked = project.cli("check", "--strict")
    assert "artifacts_presigned_only" not in checked.stdout, checked
    refused = project.cli("--set", "server.artifacts_presigned_only=maybe", "server", "--dry-run")
    assert refused.returncode == 2, refused
    assert "`server.artifacts_presigned_only` must be true or false, not 'maybe'" in refused.stderr, refused


@pytest.mark.parametrize(
    ("read_nothing", "server"),
    [
        pytest.param(False, "static_prefix: /ml", id="one-missed"),
        pytest.param(True, "static_prefix: /ml", id="none-read"),
        pytest.param(True, "", id="none-read-none-set"),
    ],
)
def test_an_option_the_reading_misses_is_asked_of_mlflow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, read_nothing: bool, server: str
) -> None:
    """A key MLflow knows and the source reading does not (a future layout) is passed on, never refused."""
    from layered_mlflow.resolution.resolve import resolve
    from layered_mlflow.server.command import server_command

    read = {} if read_nothing else dict(server_options.installed())
    read.pop("static_prefix", None)
    monkeypatch.setattr(server_options, "installed", lambda: read)
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "mlflow.yml").write_text(f"server:\n  {server}\n", encoding="utf-8")
    argv = list(server_command(resolve(project_dir=tmp_path)).argv)
    assert argv[argv.index("--port") + 1] == "5000"
    if server:
        assert argv[argv.index("--static-prefix") + 1] == "/ml"


def test_auth_keys_are_read_by_mlflows_auth_config() -> None:
    """Each `server.auth` key is a key of the [mlflow] section MLflow's auth loader reads; permissions agree too."""
    import inspect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow.server.auth import config
        from mlflow.server.auth.permissions import ALL_PERMISSIONS

    source = inspect.getsource(config.read_auth_config)
    assert all(f'"{key}"' in source for key in keys.AUTH_KEYS)
    assert sorted(server_settings.permissions()) == sorted(ALL_PERMISSIONS)


def _argv(project: Project, server: str) -> list[str]:
    project.write("settings/mlflow.yml", "server:\n" + "".join(f"  {line}\n" for line in server.splitlines()))
    result = project.cli("server", "--dry-run")
    assert result.returncode == 0, result
    line = next(line for line in result.stdout.splitlines() if line.startswith("exec "))
    return shlex.split(line)[5:]  # after `exec python -m mlflow server`


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        pytest.param("dev: true", ["--dev"], id="flag-on"),
        pytest.param("artifacts_only: false", [], id="flag-off-says-nothing"),
        pytest.param("enable_workspaces: false", ["--disable-workspaces"], id="switch-off"),
        pytest.param("cors_allowed_origins: [https://a.example, https://b.example]", None, id="list"),
        pytest.param("static_prefix: /mlflow", ["--static-prefix", "/mlflow"], id="text"),
        pytest.param("secrets_cache_ttl: 30", ["--secrets-cache-ttl", "30"], id="integer"),
        pytest.param("expose_prometheus: metrics", ["--expose-prometheus", "{root}/metrics"], id="folder-anchored"),
        pytest.param("app_name: basic-auth", ["--app-name", "basic-auth"], id="app"),
    ],
)
def test_each_kind_of_option_becomes_its_argument(project: Project, server: str, expected: list[str] | None) -> None:
    """Flags, switches, lists, texts, integers and folders reach `mlflow server` as its click options take them."""
    argv = _argv(project, server)
    if expected is None:
        assert argv[argv.index("--cors-allowed-origins") + 1] == "https://a.example,https://b.example"
        return
    wanted = [word.format(root=project.root) for word in expected]
    tail = argv[argv.index("--port") + 2 :]
    assert tail == wanted, argv


def test_artifacts_only_gets_no_default_backend(project: Project) -> None:
    """An artifacts-only server is not handed our default backend store (MLflow refuses one)."""
    argv = _argv(project, "artifacts_only: true\nartifacts_destination: artifacts")
    assert "--backend-store-uri" not in argv
    assert "--artifacts-only" in argv


@pytest.mark.parametrize(
    ("server", "message"),
    [
        pytest.param("artifacts_only: true\nbackend_store_uri: sqlite:///x.db", "cannot have a", id="ao-db"),
        pytest.param("artifacts_only: true\nserve_artifacts: false", "no artifact destination", id="ao-no-serve"),
        pytest.param("artifacts_only: true\nenable_workspaces: true", "needs a `server.workspace_store", id="ao-ws"),
        pytest.param("dev: true\nuvicorn_opts: --reload", "`server.dev` cannot be used with", id="dev-uvicorn"),
        pytest.param("dev: true\napp_name: basic-auth", "cannot be used with `server.app_name`", id="dev-app"),
        pytest.param("gunicorn_opts: -t 60\nuvicorn_opts: --x", "takes one server's options", id="two-servers"),
        pytest.param("gunicorn_opts: -t 60\nallowed_hosts: [a]", "works only with uvicorn", id="flask-security"),
        pytest.param("app_name: oauth", "installed: basic-auth", id="unknown-app"),
        pytest.param("static_prefix: mlflow/", "must begin with '/'", id="prefix"),
        pytest.param("secrets_cache_ttl: 5", "an integer from 10 to 300", id="ttl-range"),
        pytest.param("auth:\n  default_permission: WRITE", "must be one of READ", id="permission"),
    ],
)
def test_combinations_mlflow_server_refuses(project: Project, server: str, message: str) -> None:
    """`check` reports them (exit 1) and `server` refuses to start (exit 2), both naming the keys."""
    project.write("settings/mlflow.yml", "server:\n" + "".join(f"  {line}\n" for line in server.splitlines()))
    checked = project.cli("check")
    assert checked.returncode == 1, checked
    assert message in checked.stdout, checked
    started = project.cli("server", "--dry-run")
    assert started.returncode == 2, started
    assert started.stderr.startswith("layered-mlflow: error: "), started
    assert message in started.stderr, started


@pytest.mark.parametrize(
    ("setting", "package", "hint", "level"),
    [
        pytest.param(
            "mlflow_tracking_uri: mysql+pymysql://u@127.0.0.1/db", "PyMySQL", "[mysql]", "error", id="pymysql"
        ),
        pytest.param(
            "mlflow_tracking_uri: mysql://u@127.0.0.1/db", "mysqlclient", "mysql+pymysql://", "error", id="mysqldb"
        ),
        pytest.param(
            "server:\n  artifacts_destination: gs://bucket/a", "google-cloud-storage", "[gcs]", "warning", id="gcs"
        ),
        pytest.param(
            "server:\n  default_artifact_root: wasbs://c@a.blob/x", "azure-storage-blob", "[azure]", "error", id="az"
        ),
    ],
)
def test_check_names_the_extra_a_store_needs(
    project: Project, setting: str, package: str, hint: str, level: str
) -> None:
    """A store whose driver is not installed is named by `check` with the package and the extra to install.

    An error where the job opens the store itself (its tracking store, the artifact root it writes to), a
    warning where only the server does (SPEC §12; tests/test_stores.py has the whole table).
    """
    project.write("settings/mlflow.yml", setting + "\n")
    result = project.cli("check")
    assert result.returncode == (1 if level == "error" else 0), result
    line = next(line for line in result.stdout.splitlines() if "is not installed" in line)
    assert line.strip().startswith(f"{level}: "), result
    assert f"needs {package}, which is not installed" in line, result
    assert hint in line, result


def test_check_passes_the_installed_drivers(project: Project) -> None:
    """PostgreSQL (psycopg2) and S3 (boto3), installed here by the test extras, give no such error."""
    project.write(
        "settings/mlflow.yml",
        "server:\n  backend_store_uri: postgresql+psycopg2://u@127.0.0.1/db\n  artifacts_destination: s3://b/a\n",
    )
    result = project.cli("check")
    assert "is not installed" not in result.stdout, result


@pytest.mark.parametrize(
    ("written", "key"),
    [
        pytest.param("server.auth.database_uri", ("server", "auth", "database_uri"), id="set-auth"),
        pytest.param("server.Auth.Default_Permission", ("server", "auth", "default_permission"), id="set-auth-case"),
        pytest.param("experiment.tags.Team", ("experiment", "tags", "Team"), id="set-experiment-tag-keeps-case"),
        pytest.param("experiment.artifact_location", ("experiment", "artifact_location"), id="set-experiment"),
    ],
)
def test_nested_keys_as_people_write_them(written: str, key: tuple[str, ...]) -> None:
    """`--set` and `explain` reach `server.auth.*` and `experiment.tags.*`; server keys ignore case, tag names not."""
    assert keys.parse_key(written) == key


def test_auth_keys_from_the_environment(project: Project) -> None:
    """LAYERED_MLFLOW_SERVER__AUTH__DATABASE_URI sets server.auth.database_uri, anchored to the root."""
    shown = project.cli("show", "--format", "json", env={"LAYERED_MLFLOW_SERVER__AUTH__DATABASE_URI": "sqlite:///a.db"})
    assert shown.returncode == 0, shown
    assert shown.json()["settings"]["server.auth.database_uri"]["value"] == f"sqlite:///{project.root}/a.db"


def test_check_says_what_basic_auth_needs(project: Project) -> None:
    """basic-auth without MLFLOW_FLASK_SERVER_SECRET_KEY is an error, without an admin password a warning."""
    project.write("settings/mlflow.yml", "server:\n  app_name: basic-auth\n")
    lacking = project.cli("check")
    assert lacking.returncode == 1, lacking
    assert "error: `server.app_name: basic-auth` needs MLFLOW_FLASK_SERVER_SECRET_KEY" in lacking.stdout
    assert "warning: `server.app_name: basic-auth` creates its admin from" in lacking.stdout
    project.write(".env", "MLFLOW_FLASK_SERVER_SECRET_KEY=k-canary\nMLFLOW_AUTH_ADMIN_PASSWORD=p-canary\n")
    ready = project.cli("check")
    assert "basic-auth" not in ready.stdout, ready
    assert "canary" not in ready.stdout + ready.stderr


def test_auth_without_basic_auth_does_nothing(project: Project) -> None:
    """`server.auth` without `app_name: basic-auth` is a warning: MLflow would not read it."""
    project.write("settings/mlflow.yml", "server:\n  auth:\n    default_permission: READ\n")
    result = project.cli("check")
    assert "warning: server.auth.default_permission (settings/mlflow.yml) does nothing without" in result.stdout


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("sqlite:///auth/users.db", id="sqlite-relative"),
        pytest.param("sqlite:////srv/auth/users.db", id="sqlite-absolute"),
        pytest.param("postgresql+psycopg2://u@127.0.0.1/auth", id="postgresql-driver"),
    ],
)
def test_auth_database_uris_are_databases(project: Project, uri: str) -> None:
    """`server.auth.database_uri` is a SQLAlchemy database: `check --strict` passes, `run` warns nothing."""
    project.write(
        "settings/mlflow.yml",
        f"server:\n  app_name: basic-auth\n  auth:\n    database_uri: {uri}\n    read_database_uri: {uri}\n",
    )
    project.write(".env", "MLFLOW_FLASK_SERVER_SECRET_KEY=k\nMLFLOW_AUTH_ADMIN_PASSWORD=p\n")
    checked = project.cli("check", "--strict")
    assert checked.returncode == 0, checked
    ran = project.cli("run", "--", "true")
    assert (ran.returncode, ran.stderr) == (0, ""), ran


def test_an_auth_database_uri_of_no_database_is_refused(project: Project) -> None:
    """A scheme no SQLAlchemy dialect MLflow stores in has is an error naming the dialects."""
    project.write("settings/mlflow.yml", "server:\n  app_name: basic-auth\n  auth:\n    database_uri: redis://x/0\n")
    checked = project.cli("check")
    assert checked.returncode == 1, checked
    assert (
        "error: server.auth.database_uri (settings/mlflow.yml) has an unknown scheme 'redis' "
        "(hint: the SQLAlchemy databases know mssql, mysql, postgresql, sqlite)"
    ) in checked.stdout, checked


def test_an_mlflow_laid_out_otherwise_makes_nothing_unknown(project: Project, tmp_path: Path) -> None:
    """Where the installed MLflow's source cannot be read, no server key, auth provider or scheme is refused."""
    fake = tmp_path / "fake" / "mlflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: newstore://cluster/mlflow\nmlflow_tracking_auth: newauth\n"
        "server:\n  artifacts_presigned_only: true\n  workers: 2\n",
    )
    checked = project.cli("check", "--strict", env={"PYTHONPATH": str(fake.parent)})
    assert checked.returncode == 0, checked
    assert project.cli("check").returncode == 1, "the installed MLflow refuses them"
