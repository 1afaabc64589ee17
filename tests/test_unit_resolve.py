"""In-process tables for the merge, environment selection and project discovery (SPEC §2-§5).

``resolve()`` is a pure function of files, `.env`, an environ mapping and ``--set``,
so these call it directly; tests/test_precedence.py proves the same through the command.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from layered_mlflow import Resolved, resolve
from layered_mlflow.errors import ConfigError
from layered_mlflow.mlflow_names import server_options


def project(root: Path, files: Mapping[str, str]) -> Path:
    """``root`` holding ``files`` (relative path → text); a base file unless one is given."""
    for relative, text in {"settings/mlflow.yml": "", **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def resolved(
    root: Path, files: Mapping[str, str], environ: Mapping[str, str] | None = None, **kwargs: object
) -> Resolved:
    return resolve(cwd=project(root, files), environ=dict(environ or {}), **kwargs)  # type: ignore[arg-type]


def values(result: Resolved) -> dict[str, object]:
    """The resolved settings as name → value, without the derived file-store switch."""
    return {name: s.value for name, s in result.settings.items() if name != "mlflow_allow_file_store"}


BASE, PROD = "settings/mlflow.yml", "settings/mlflow.production.yml"
MERGES = [
    pytest.param(
        {BASE: "extra: word\n", PROD: "extra:\n  a: 1\n"}, {"extra.a": "1"}, id="mapping-over-scalar-replaces-it"
    ),
    pytest.param(
        {BASE: "extra:\n  a: 1\n  b: 2\n", PROD: "extra: word\n"},
        {"extra": "word"},
        id="scalar-over-mapping-replaces-it",
    ),
    pytest.param(
        {BASE: "tags:\n  team: a\n  project: p\n", PROD: "tags:\n  team: b\n"},
        {"tags.team": "b", "tags.project": "p"},
        id="mappings-merge-deeply",
    ),
    pytest.param(
        {BASE: "server:\n  allowed_hosts: [a, b]\n", PROD: "server:\n  allowed_hosts: [c]\n"},
        {"server.allowed_hosts": ("c",)},
        id="lists-replace",
    ),
    pytest.param(
        {BASE: "mlflow_experiment_name: kept\n", PROD: "mlflow_experiment_name:\n"},
        {"mlflow_experiment_name": "kept"},
        id="null-says-nothing",
    ),
    pytest.param(
        {BASE: "mlflow_experiment_name: kept\n", PROD: "mlflow_experiment_name: ''\n"},
        {"mlflow_experiment_name": "kept"},
        id="empty-says-nothing",
    ),
    pytest.param({BASE: "server:\n  PORT: 5001\n"}, {"server.port": "5001"}, id="yaml-server-keys-ignore-case"),
]


@pytest.mark.parametrize(("files", "expected"), MERGES)
def test_merge(tmp_path: Path, files: Mapping[str, str], expected: dict[str, object]) -> None:
    """Later layers win; mappings merge key by key; a value replaces what stood at, above or below its key."""
    result = resolved(tmp_path, {PROD: "", **files}, env="production")
    assert {k: v for k, v in values(result).items() if k != "mlflow_tracking_uri"} == expected


ENVIRONMENTS = [
    pytest.param({}, "", {}, "development", id="default"),
    pytest.param({}, "ENV_FOR_DYNACONF=staging\n", {}, "staging", id="dotenv"),
    pytest.param(
        {}, "ENV_FOR_DYNACONF=staging\nENV_FOR_DYNACONF=production\n", {}, "production", id="later-dotenv-wins"
    ),
    pytest.param({"ENV_FOR_DYNACONF": "production"}, "ENV_FOR_DYNACONF=staging\n", {}, "production", id="process-wins"),
    pytest.param({"ENV_FOR_DYNACONF": ""}, "ENV_FOR_DYNACONF=staging\n", {}, "staging", id="empty-process-no-word"),
    pytest.param({"ENV_FOR_DYNACONF": "staging"}, "", {"env": "production"}, "production", id="option-wins"),
    pytest.param({"ENV_FOR_DYNACONF": "PRODUCTION"}, "", {}, "production", id="case-normalised"),
]


@pytest.mark.parametrize(("environ", "dotenv", "kwargs", "expected"), ENVIRONMENTS)
def test_environment_selection(
    tmp_path: Path, environ: dict[str, str], dotenv: str, kwargs: dict[str, str], expected: str
) -> None:
    """SPEC §4: --env, then ENV_FOR_DYNACONF of the process, then of `.env` (its last word), else development."""
    files = {PROD: "", "settings/mlflow.staging.yml": "", ".env": dotenv}
    assert resolved(tmp_path, files, environ, **kwargs).environment == expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("mlflow.production.local.yml", id="env-local-file"),
        pytest.param("mlflow.local.yml", id="local-file"),
        pytest.param("mlflowextra.yml", id="no-dot"),
        pytest.param("mlflow.production.yml.bak", id="backup"),
        pytest.param("mlflowx.production.yml", id="other-prefix"),
        pytest.param("mlflow..yml", id="empty-name"),
    ],
)
def test_files_that_are_not_environments(tmp_path: Path, name: str) -> None:
    """Only `mlflow.<env>.yml` names an environment: not `mlflow.X.local.yml`, `mlflow.local.yml`, `mlflowx.X.yml`."""
    assert resolved(tmp_path, {f"settings/{name}": "a: 1\n"}).environments == ("development",)


def test_nearest_root_wins(tmp_path: Path) -> None:
    """In nested projects, the nearest ancestor holding settings/mlflow.yml is the root."""
    outer = project(tmp_path, {BASE: "mlflow_experiment_name: outer\n"})
    inner = project(outer / "inner", {BASE: "mlflow_experiment_name: inner\n"})
    (inner / "src").mkdir()
    result = resolve(cwd=inner / "src", environ={})
    assert (result.root, values(result)["mlflow_experiment_name"]) == (inner, "inner")


def test_inherited_variables_to_unset(tmp_path: Path) -> None:
    """Only empty inherited MLFLOW_* (and X_FILE) are removed from the child; a non-empty one is not."""
    environ = {"MLFLOW_EXPERIMENT_NAME": "kept", "MLFLOW_RUN_ID": "", "MLFLOW_foo": ""}
    assert resolved(tmp_path, {}, environ).unset == ("MLFLOW_RUN_ID",)


def test_mixed_case_mlflow_variable_spells_no_key(tmp_path: Path) -> None:
    """`MLFLOW_foo` is not `mlflow_foo`: it is neither a setting nor exported by us."""
    result = resolved(tmp_path, {}, {"MLFLOW_foo": "x"})
    assert "mlflow_foo" not in result.settings
    assert "MLFLOW_foo" not in result.variables


def test_empty_file_variable_says_nothing(tmp_path: Path) -> None:
    """An empty `X_FILE` is no reference (not even a conflict with `X`): the value of `X` stands."""
    environ = {"MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_PASSWORD_FILE": ""}
    password = resolved(tmp_path, {}, environ).variables["MLFLOW_TRACKING_PASSWORD"]
    assert password == environ["MLFLOW_TRACKING_PASSWORD"]


def test_file_variable_and_its_target_in_one_layer(tmp_path: Path) -> None:
    """Both `X` and a non-empty `X_FILE` in the process environment is ambiguous: an error."""
    environ = {"MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_PASSWORD_FILE": str(tmp_path / "f")}
    with pytest.raises(ConfigError, match="both MLFLOW_TRACKING_PASSWORD and MLFLOW_TRACKING_PASSWORD_FILE"):
        resolved(tmp_path, {}, environ)


KEDRO_PROJECT = {"pyproject.toml": '[tool.kedro]\npackage_name = "churn"\n', "conf/base/mlflow.yml": "tracking: {}\n"}


@pytest.mark.parametrize(
    "files",
    [pytest.param({BASE: "mlflow_experiment_name: churn\n"}, id="settings"), pytest.param(KEDRO_PROJECT, id="kedro")],
)
def test_a_result_is_an_immutable_value(tmp_path: Path, files: Mapping[str, str]) -> None:
    """Two resolutions of the same inputs are equal, layout included, and a result cannot be changed (SPEC §7)."""
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    first, second = (resolve(cwd=tmp_path, environ={}) for _ in range(2))
    assert (first == second, first.layout == second.layout) == (True, True)
    with pytest.raises(AttributeError):
        first.layout.root = tmp_path  # type: ignore[misc]


def test_settings_and_history_are_in_the_keys_order(tmp_path: Path) -> None:
    """Sorted as their keys, part by part: `env.A` before `env-old`, `server.auth.x` before `server.auth-x`."""
    files = {
        "settings/mlflow.yml": """
            env: {AWS_DEFAULT_REGION: x, A_B: y}
            env-old: x
            tags: {team: v, mlflow.runName: w}
            tags-old: y
            server: {auth: {database_uri: sqlite:///a.db}, auth-x: 1}
        """
    }
    result = resolved(tmp_path, files)
    names = [name for name in result.settings if name != "mlflow_allow_file_store"]
    expected = [
        *("env.AWS_DEFAULT_REGION", "env.A_B", "env-old", "mlflow_tracking_uri"),
        *("server.auth.database_uri", "server.auth-x", "tags.mlflow.runName", "tags.team", "tags-old"),
    ]
    assert names == expected
    assert [name for name in result.history if name != "mlflow_allow_file_store"] == expected


def test_file_problems_notes_first_then_in_file_order(tmp_path: Path) -> None:
    """What the settings files' kedro-mlflow keys make `check` say: every note before any warning, and within
    a level the files' order, lowest layer first (not the messages' alphabetical order)."""
    note = "tracking:\n  disable_tracking:\n    disable_autologging: true\n"
    files = {BASE: "tracking:\n  zzz: 1\n", PROD: note + "  aaa: 1\n"}
    found = resolved(tmp_path, files, env="production").file_problems
    assert [(p.level, p.message.split(" is ")[0]) for p in found] == [
        ("note", "tracking.disable_tracking.disable_autologging (settings/mlflow.production.yml)"),
        ("warning", "tracking.zzz (settings/mlflow.yml)"),
        ("warning", "tracking.aaa (settings/mlflow.production.yml)"),
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(
            "[bin/get-token, --for, a/b]", ("{root}/bin/get-token", "--for", "a/b"), id="a-path-from-the-root"
        ),
        pytest.param("[get-token, a/b]", ("get-token", "a/b"), id="a-name-is-looked-up-on-path"),
        pytest.param("[/abs/get-token]", ("/abs/get-token",), id="an-absolute-path-as-it-is"),
        pytest.param("[~/get-token]", ("/home/me/get-token",), id="the-home-of-the-environ"),
    ],
)
def test_token_command_program_anchored(tmp_path: Path, command: str, expected: tuple[str, ...]) -> None:
    """token.command's program, when named by a path, is read from the project root (like token.file);
    a bare name is left for PATH, and its arguments are never touched."""
    result = resolved(tmp_path, {BASE: f"token:\n  command: {command}\n"}, {"HOME": "/home/me"})
    assert result.settings["token.command"].value == tuple(part.format(root=tmp_path) for part in expected)


@pytest.mark.parametrize("key", [*server_options.path_keys(), ("server", "expose_prometheus")], ids=".".join)
def test_server_paths_anchored(tmp_path: Path, key: tuple[str, ...]) -> None:
    """A `server` path option, ours or one the installed MLflow's `mlflow server` declares a path, is made
    absolute from the root."""
    result = resolved(tmp_path, {BASE: f"server:\n  {key[1]}: metrics\n"})
    assert result.settings[".".join(key)].value == str(tmp_path / "metrics")


@pytest.mark.parametrize(
    ("env_files", "named", "refused"),
    [
        pytest.param(None, False, True, id="the-projects-own-dotenv-found-is-refused"),
        pytest.param([".env"], False, False, id="an-env-file-named-is-trusted"),
        pytest.param(None, True, False, id="a-project-named-is-trusted"),
    ],
)
def test_a_dotenv_writable_by_every_user(
    tmp_path: Path, env_files: list[str] | None, named: bool, refused: bool
) -> None:
    """The `.env` of a project found from the working directory is refused when every user may write it
    (SPEC §2); naming the project or the file trusts it."""
    root = project(tmp_path / "p", {".env": "MLFLOW_EXPERIMENT_NAME=dot\n"})
    (root / ".env").chmod(0o666)
    project_dir = root if named else None
    if not refused:
        result = resolve(cwd=root, environ={}, env_files=env_files, project_dir=project_dir)
        assert result.settings["mlflow_experiment_name"].value == "dot"
        return
    with pytest.raises(ConfigError) as raised:
        resolve(cwd=root, environ={}, env_files=env_files, project_dir=project_dir)
    assert raised.value.message.startswith(f"{root / '.env'} is writable by every user")


def test_an_env_file_outside_the_root_is_named_by_its_path(tmp_path: Path) -> None:
    """An `--env-file` outside the project is read, and a message about what it says names it by its path."""
    root = project(tmp_path / "p", {})
    outside = tmp_path / "elsewhere.env"
    outside.write_text("ENV_FOR_DYNACONF=nosuch\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        resolve(cwd=root, environ={}, env_files=[outside])
    assert raised.value.message == (
        f"unknown environment 'nosuch' (from ENV_FOR_DYNACONF in {outside}); known environments: development"
    )


@pytest.mark.parametrize(
    ("env", "message", "hint"),
    [
        pytest.param(
            "Hunter2-x",
            "unknown environment '***' (from the env argument); known environments: development",
            "create settings/mlflow.***.yml to add it",
            id="masked-in-message-and-hint",
        ),
        pytest.param(
            "a/hunter2-x",
            "unknown environment 'a/***' (from the env argument); known environments: development",
            None,
            id="no-hint",
        ),
    ],
)
def test_unknown_environment_masks_secrets(tmp_path: Path, env: str, message: str, hint: str | None) -> None:
    """An unknown environment's error never echoes a secret value of the environment (SPEC §11)."""
    with pytest.raises(ConfigError) as raised:
        resolved(tmp_path, {}, {"MLFLOW_TRACKING_PASSWORD": "hunter2-x"}, env=env)
    assert (raised.value.message, raised.value.hint) == (message, hint)
