"""SPEC §10: a Kedro project's conf/ read as Kedro and kedro-mlflow read it, layered like any other project."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Project

PYPROJECT = '[tool.kedro]\npackage_name = "demo"\nproject_name = "demo"\nkedro_init_version = "1.0.0"\n'
SETTINGS_PY = "src/demo/settings.py"
SOFT = 'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local", "merge_strategy": {"mlflow": "soft"}}\n'


@pytest.fixture
def kedro(project: Project) -> Project:
    """A Kedro project as `kedro new` leaves it, without mlflow files: pyproject.toml, conf/base, conf/local."""
    (project.root / "settings").rmdir()
    project.write("pyproject.toml", PYPROJECT)
    project.write(SETTINGS_PY, 'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}\n')
    project.write("conf/base/parameters.yml", "{}\n")
    project.write("conf/local/credentials.yml", "# here go your credentials\n")
    (project.root / "notebooks").mkdir()
    return project


def shown(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    result = project.cli(*args, "show", "--format", "json", env=env, cwd=project.root / "notebooks")
    assert result.returncode == 0, result
    found: dict[str, dict[str, str]] = json.loads(result.stdout)["settings"]
    return found


def values(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    return {name: s["value"] for name, s in shown(project, *args, env=env).items()}


def refused(project: Project, *args: str, env: dict[str, str] | None = None) -> str:
    result = project.cli(*args, "run", "--", "true", env=env, cwd=project.root / "notebooks")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert len(result.stderr.splitlines()) == 1, result
    return result.stderr


def test_a_generated_project_logs_to_its_root_from_a_subdirectory(kedro: Project) -> None:
    """No mlflow file: environment local, runs in <root>/mlruns, experiment the package (kedro-mlflow's default)."""
    result = kedro.cli("show", "--format", "json", cwd=kedro.root / "notebooks")
    assert result.returncode == 0, result
    document = result.json()
    assert (document["environment"], document["root"]) == ("local", str(kedro.root))
    assert values(kedro) == {
        "mlflow_allow_file_store": "true",
        "mlflow_experiment_name": "demo",
        "mlflow_tracking_uri": (kedro.root / "mlruns").as_uri(),
    }


def test_each_value_names_its_exact_file(kedro: Project) -> None:
    """Base and environment files, in subfolders too, are the sources `show` names."""
    kedro.write("conf/base/mlflow/tracking.yml", "tracking:\n  experiment:\n    name: churn\n")
    kedro.write("conf/local/mlflow.yml", "server:\n  mlflow_tracking_uri: sqlite:///m.db\n")
    found = shown(kedro)
    assert found["mlflow_experiment_name"]["source"] == str(kedro.root / "conf/base/mlflow/tracking.yml")
    assert found["mlflow_tracking_uri"]["source"] == str(kedro.root / "conf/local/mlflow.yml")
    assert found["mlflow_tracking_uri"]["value"] == f"sqlite:///{kedro.root}/m.db"


# (variables, --env or not, the environment chosen)
CHOICES = [
    pytest.param({}, (), "local", id="default-run-env"),
    pytest.param({"KEDRO_ENV": "production"}, (), "production", id="KEDRO_ENV"),
    pytest.param({"ENV_FOR_DYNACONF": "staging"}, (), "staging", id="ENV_FOR_DYNACONF"),
    pytest.param({"KEDRO_ENV": "production", "ENV_FOR_DYNACONF": "staging"}, (), "production", id="kedro-wins"),
    pytest.param({"KEDRO_ENV": "production"}, ("--env", "staging"), "staging", id="--env-wins"),
]


@pytest.mark.parametrize(("env", "args", "chosen"), CHOICES)
def test_the_environment_is_chosen_as_kedro_chooses_it(
    kedro: Project, env: dict[str, str], args: tuple[str, ...], chosen: str
) -> None:
    """--env, then KEDRO_ENV, then ENV_FOR_DYNACONF, then default_run_env; one environment folder is read."""
    for name in ("local", "production", "staging"):
        kedro.write(f"conf/{name}/mlflow.yml", f"tracking:\n  experiment:\n    name: from-{name}\n")
    assert values(kedro, *args, env=env)["mlflow_experiment_name"] == f"from-{chosen}"


# (variables, .env, --env or not, the KEDRO_ENV the command gets)
KEDRO_ENVS = [
    pytest.param({}, "", (), "local", id="default-run-env"),
    pytest.param({"KEDRO_ENV": "production"}, "", (), "production", id="KEDRO_ENV-inherited"),
    pytest.param({"KEDRO_ENV": "production"}, "", ("--env", "staging"), "staging", id="--env-replaces-KEDRO_ENV"),
    pytest.param({"ENV_FOR_DYNACONF": "staging"}, "", (), "staging", id="ENV_FOR_DYNACONF"),
    pytest.param({}, "KEDRO_ENV=staging\n", (), "staging", id="KEDRO_ENV-in-.env"),
]


@pytest.mark.parametrize(("env", "dotenv", "args", "expected"), KEDRO_ENVS)
def test_the_command_gets_kedro_env_of_the_environment(
    kedro: Project, env: dict[str, str], dotenv: str, args: tuple[str, ...], expected: str
) -> None:
    """`kedro run` reads the folder whose settings were exported: the command gets KEDRO_ENV of the environment."""
    for name in ("production", "staging"):
        (kedro.root / "conf" / name).mkdir()
    kedro.write(".env", dotenv)
    child = kedro.child_env(*args, env=env, cwd=kedro.root / "notebooks")
    assert (child["KEDRO_ENV"], child["LAYERED_MLFLOW_ENV"]) == (expected, expected)


def test_a_settings_folder_project_gets_no_kedro_env(project: Project) -> None:
    """KEDRO_ENV is Kedro's: a settings/ project's command gets LAYERED_MLFLOW_ENV only."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: e\n")
    project.write("settings/mlflow.production.yml", "")
    child = project.child_env("--env", "production")
    assert (child["LAYERED_MLFLOW_ENV"], "KEDRO_ENV" in child) == ("production", False)


def test_default_run_env_comes_from_settings_py(kedro: Project) -> None:
    """A literal default_run_env in CONFIG_LOADER_ARGS is the default environment."""
    kedro.write(SETTINGS_PY, 'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "dev"}\n')
    kedro.write("conf/dev/mlflow.yml", "tracking:\n  experiment:\n    name: dev-exp\n")
    assert values(kedro)["mlflow_experiment_name"] == "dev-exp"


def test_an_unknown_environment_lists_the_folders(kedro: Project) -> None:
    """KEDRO_ENV naming no folder of conf/: exit 2, the known ones and a suggestion."""
    (kedro.root / "conf/production").mkdir()
    message = refused(kedro, env={"KEDRO_ENV": "prodution"})
    assert "unknown environment 'prodution' (from KEDRO_ENV); known environments: local, production" in message
    assert "did you mean production?" in message


MERGES = [
    pytest.param("", {"mlflow_experiment_name": "demo"}, id="destructive-replaces-top-level-keys"),
    pytest.param(
        SOFT,
        {"mlflow_experiment_name": "base-exp", "tags.mlflow.runName": "nightly"},
        id="soft-merges-deeply",
    ),
]


@pytest.mark.parametrize(("settings_py", "expected"), MERGES)
def test_the_environment_folder_merges_as_kedro_merges(
    kedro: Project, settings_py: str, expected: dict[str, str]
) -> None:
    """Destructive (Kedro's default): the env's `tracking` replaces base's whole; soft: key by key."""
    kedro.write(SETTINGS_PY, settings_py)
    kedro.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: base-exp\n")
    kedro.write("conf/local/mlflow.yml", "tracking:\n  run:\n    name: nightly\n")
    found = values(kedro)
    assert {key: found.get(key) for key in expected} == expected
    assert found.get("tags.mlflow.runName") == "nightly"


def test_soft_merge_null_replaces_base(kedro: Project) -> None:
    """Soft merge: the environment's null is its word, as in OmegaConf's merge, so base's URI does not stand."""
    kedro.write(SETTINGS_PY, SOFT)
    kedro.write("conf/base/mlflow.yml", "server:\n  mlflow_tracking_uri: http://127.0.0.1:5999\n")
    kedro.write("conf/local/mlflow.yml", "server:\n  mlflow_tracking_uri: null\n")
    assert values(kedro)["mlflow_tracking_uri"] == (kedro.root / "mlruns").as_uri()


def test_a_top_level_key_in_two_files_of_a_folder_is_refused(kedro: Project) -> None:
    """Exit 2 naming both files, as Kedro refuses it."""
    kedro.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: a\n")
    kedro.write("conf/base/mlflow/more.yml", "tracking:\n  run:\n    name: b\n")
    message = refused(kedro)
    assert f"{kedro.root}/conf/base/mlflow/more.yml and {kedro.root}/conf/base/mlflow.yml" in message
    assert "both set the top-level key `tracking`" in message


def test_json_files_count_and_hidden_ones_do_not(kedro: Project) -> None:
    """conf/base/mlflow.json is read; a hidden folder's or other file's mlflow settings are not."""
    kedro.write("conf/base/mlflow.json", json.dumps({"tracking": {"experiment": {"name": "from-json"}}}))
    kedro.write("conf/base/.hidden/mlflow.yml", "server:\n  mlflow_tracking_uri: http://127.0.0.1:5998\n")
    kedro.write("conf/base/catalog.yml", "server:\n  mlflow_tracking_uri: http://127.0.0.1:5997\n")
    found = values(kedro)
    assert found["mlflow_experiment_name"] == "from-json"
    assert found["mlflow_tracking_uri"] == (kedro.root / "mlruns").as_uri()


INTERPOLATIONS = [
    pytest.param("${oc.env:TRACKING}", {"TRACKING": "http://127.0.0.1:5001"}, "http://127.0.0.1:5001", id="oc.env"),
    pytest.param("${oc.env:TRACKING,http://127.0.0.1:5002}", {}, "http://127.0.0.1:5002", id="oc.env-default"),
    pytest.param("${globals:tracking}", {}, "http://127.0.0.1:5003", id="globals"),
    pytest.param("${globals:missing,http://127.0.0.1:5004}", {}, "http://127.0.0.1:5004", id="globals-default"),
    pytest.param("${runtime_params:uri,http://127.0.0.1:5005}", {}, "http://127.0.0.1:5005", id="runtime-default"),
    pytest.param("${ui.host}", {}, "http://127.0.0.1:5006", id="self-reference"),
]


@pytest.mark.parametrize(("expression", "env", "expected"), INTERPOLATIONS)
def test_interpolations_are_evaluated(kedro: Project, expression: str, env: dict[str, str], expected: str) -> None:
    """OmegaConf evaluates ${…} with oc.env, globals, runtime_params' default and references to the same files."""
    kedro.write("conf/base/globals.yml", "tracking: http://127.0.0.1:5003\n")
    kedro.write(
        "conf/base/mlflow.yml", f'server:\n  mlflow_tracking_uri: "{expression}"\nui:\n  host: http://127.0.0.1:5006\n'
    )
    assert values(kedro, env=env)["mlflow_tracking_uri"] == expected


def test_oc_env_reads_dotenv_below_the_environment(kedro: Project) -> None:
    """${oc.env:X} takes X from the process environment, else from .env."""
    kedro.write("conf/base/mlflow.yml", 'tracking:\n  experiment:\n    name: "${oc.env:EXPERIMENT}"\n')
    kedro.write(".env", "EXPERIMENT=from-dotenv\n")
    assert values(kedro)["mlflow_experiment_name"] == "from-dotenv"
    assert values(kedro, env={"EXPERIMENT": "from-shell"})["mlflow_experiment_name"] == "from-shell"


def test_km_random_name_leaves_the_name_to_mlflow(kedro: Project) -> None:
    """${km.random_name:} says nothing: no run name tag, MLflow draws one."""
    kedro.write("conf/base/mlflow.yml", 'tracking:\n  run:\n    name: "${km.random_name:}"\n')
    assert "tags.mlflow.runName" not in values(kedro)


BAD_EXPRESSIONS = [
    pytest.param("${oc.env:NOT_SET_ANYWHERE}", "environment variable NOT_SET_ANYWHERE is not set", id="oc.env"),
    pytest.param("${runtime_params:uri}", "runtime_params:uri has no default", id="runtime-params"),
    pytest.param("${oc.decode:'1'}", "evaluates only oc.env, globals", id="other-resolver"),
    pytest.param("${shout:x}", "evaluates only oc.env, globals", id="unknown-resolver"),
    pytest.param("${globals:nope}", "globals key 'nope' not found", id="globals-missing"),
    pytest.param("${no.such.key}", "cannot evaluate ${no.such.key}", id="missing-reference"),
    pytest.param("x-${km.random_name:}", "${km.random_name:} inside other text", id="random-name-in-text"),
]


@pytest.mark.parametrize(("expression", "message"), BAD_EXPRESSIONS)
def test_an_expression_that_fails_names_file_and_line(kedro: Project, expression: str, message: str) -> None:
    """Exit 2, one line: the file, the line (where it can be found) and what failed; no ${ reaches the command."""
    kedro.write("conf/base/mlflow.yml", f'ui:\n  port: "5000"\ntracking:\n  run:\n    name: "{expression}"\n')
    error = refused(kedro)
    assert f"{kedro.root}/conf/base/mlflow.yml" in error
    assert message in error, error


def test_the_line_of_a_failed_expression(kedro: Project) -> None:
    """The message names the line that holds the expression."""
    kedro.write("conf/base/mlflow.yml", 'ui:\n  port: "5000"\ntracking:\n  run:\n    name: "${shout:x}"\n')
    assert "conf/base/mlflow.yml:5: `tracking.run.name`: cannot evaluate ${shout:x}" in refused(kedro)


CREDENTIALS = (
    "mlflow_creds:\n  MLFLOW_TRACKING_USERNAME: alice\n  MLFLOW_TRACKING_PASSWORD: s3cr3t-pw\n  EXTRA: v4lue-x\n"
)


@pytest.mark.parametrize("folder", ["local", "production"])
def test_the_credentials_entry_is_exported_as_secrets(kedro: Project, folder: str) -> None:
    """server.credentials names an entry of the environment's (or base's) credentials: each variable exported."""
    kedro.write("conf/base/mlflow.yml", "server:\n  credentials: mlflow_creds\n")
    kedro.write(f"conf/{folder}/credentials.yml", CREDENTIALS)
    env = {"KEDRO_ENV": folder}
    child = kedro.child_env(env=env)
    assert (child["MLFLOW_TRACKING_USERNAME"], child["MLFLOW_TRACKING_PASSWORD"], child["EXTRA"]) == (
        "alice",
        "s3cr3t-pw",
        "v4lue-x",
    )
    found = shown(kedro, env=env)
    assert found["env.EXTRA"]["source"] == str(kedro.root / f"conf/{folder}/credentials.yml")
    for command in (("show",), ("env",), ("check",), ("explain", "env.EXTRA")):
        result = kedro.cli(*command, env=env)
        assert "v4lue-x" not in result.stdout + result.stderr, result  # secret whatever its name
        assert "s3cr3t-pw" not in result.stdout + result.stderr, result


def test_the_environment_wins_over_the_credentials(kedro: Project) -> None:
    """The deliberate difference: kedro-mlflow overwrites the variable; here the environment's value stands."""
    kedro.write("conf/base/mlflow.yml", "server:\n  credentials: mlflow_creds\n")
    kedro.write("conf/local/credentials.yml", CREDENTIALS)
    assert kedro.child_env(env={"MLFLOW_TRACKING_USERNAME": "bob"})["MLFLOW_TRACKING_USERNAME"] == "bob"


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        pytest.param("other: {A: b}\n", "'mlflow_creds': no such entry", id="missing-entry"),
        pytest.param("mlflow_creds: just-a-string\n", "is not a mapping of variable names", id="not-a-mapping"),
        pytest.param("mlflow_creds:\n  A: [1, 2]\n", "is not a mapping of variable names", id="nested-value"),
    ],
)
def test_a_bad_credentials_entry_is_refused(kedro: Project, credentials: str, message: str) -> None:
    """Exit 2 naming the entry and the credentials files; no value printed."""
    kedro.write("conf/base/mlflow.yml", "server:\n  credentials: mlflow_creds\n")
    kedro.write("conf/local/credentials.yml", credentials)
    error = refused(kedro)
    assert message in error
    assert str(kedro.root / "conf/local/credentials.yml") in error


def test_run_id_resumes_a_run(kedro: Project) -> None:
    """tracking.run.id is MLFLOW_RUN_ID: every process of an orchestrated pipeline logs into one run."""
    kedro.write("conf/base/mlflow.yml", "tracking:\n  run:\n    id: 0123abcd\n")
    assert kedro.child_env()["MLFLOW_RUN_ID"] == "0123abcd"


def test_check_lists_unapplied_keys_with_their_file(kedro: Project) -> None:
    """`check` notes each kedro-mlflow key with a value that is not applied, and the file it is in."""
    kedro.write(
        "conf/base/mlflow.yml",
        "tracking:\n  run:\n    nested: false\nserver:\n  credentials: c\n  mlflow_tracking_uri: sqlite:///m.db\n",
    )
    kedro.write("conf/local/credentials.yml", "c:\n  A: b\n")
    result = kedro.cli("check")
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == [
        "local: 0 errors, 0 warnings",
        "  note: tracking.run.nested (conf/base/mlflow.yml) is a kedro-mlflow key; layered-mlflow does not apply it",
    ]


def test_settings_py_values_that_are_not_literals_are_a_warning(kedro: Project) -> None:
    """settings.py is never run: a computed CONF_SOURCE is assumed `conf`, and `check` says so."""
    kedro.write(SETTINGS_PY, 'import os\nCONF_SOURCE = os.environ.get("CONF", "conf")\n')
    result = kedro.cli("check")
    assert result.returncode == 0, result
    assert "warning: src/demo/settings.py:2: CONF_SOURCE is not a literal; assumed conf" in result.stdout, result


def test_conf_source_from_settings_py(kedro: Project) -> None:
    """A literal CONF_SOURCE moves the configuration folder."""
    kedro.write(SETTINGS_PY, 'CONF_SOURCE = "config"\n')
    kedro.write("config/base/mlflow.yml", "tracking:\n  experiment:\n    name: moved\n")
    assert values(kedro)["mlflow_experiment_name"] == "moved"


def test_a_settings_folder_wins_and_check_says_conf_is_ignored(kedro: Project) -> None:
    """A folder with both settings/mlflow.yml and [tool.kedro] uses settings/; `check` warns."""
    kedro.write("settings/mlflow.yml", "mlflow_experiment_name: ours\n")
    kedro.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: theirs\n")
    assert values(kedro)["mlflow_experiment_name"] == "ours"
    result = kedro.cli("check")
    assert "is a Kedro project too ([tool.kedro]); settings/mlflow.yml wins" in result.stdout, result


def test_the_environment_wins_over_the_files(kedro: Project) -> None:
    """The deliberate difference from kedro-mlflow: MLFLOW_TRACKING_URI beats server.mlflow_tracking_uri."""
    kedro.write("conf/base/mlflow.yml", "server:\n  mlflow_tracking_uri: http://127.0.0.1:5999\n")
    child = kedro.child_env(env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:5111"})
    assert child["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5111"


def test_loader_args_without_base_env_read_conf_itself(kedro: Project) -> None:
    """CONFIG_LOADER_ARGS replaces Kedro's default whole: without base_env, every folder of conf/ is one base."""
    kedro.write(SETTINGS_PY, 'CONFIG_LOADER_ARGS = {"merge_strategy": {"mlflow": "soft"}}\n')
    kedro.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: a\n")
    kedro.write("conf/production/mlflow.yml", "tracking:\n  run:\n    name: b\n")
    assert "both set the top-level key `tracking`" in refused(kedro)


def test_ui_starts_in_the_kedro_root_on_ui_host_and_port(kedro: Project) -> None:
    """`ui` from notebooks/: the project's store, in its root, on kedro-mlflow's ui.host and ui.port."""
    from tests.test_server_command import dry_run

    kedro.write("conf/local/mlflow.yml", 'ui:\n  host: 127.0.0.2\n  port: "5055"\n')
    _, cwd, argv = dry_run(kedro, "ui", cwd=kedro.root / "notebooks")
    assert cwd == str(kedro.root)
    store = (kedro.root / "mlruns").as_uri()
    assert argv == ["--backend-store-uri", store, "--host", "127.0.0.2", "--port", "5055", "--workers", "1"]


def test_a_key_outside_kedro_mlflows_schema_is_a_warning(kedro: Project) -> None:
    """`ui.localhost` (a real file's typo): kedro-mlflow refuses it, so `check` warns, and --strict fails."""
    kedro.write("conf/base/mlflow.yml", 'ui:\n  localhost: "127.0.0.1"\n  port: "5000"\n')
    result = kedro.cli("check")
    assert result.returncode == 0, result
    assert "warning: ui.localhost (conf/base/mlflow.yml) is not a kedro-mlflow key; kedro-mlflow refuses it" in (
        result.stdout
    )
    assert kedro.cli("check", "--strict").returncode == 1


def test_check_all_envs_checks_every_folder(kedro: Project) -> None:
    """`check --all-envs` reads base with each environment folder in turn."""
    kedro.write("conf/production/mlflow.yml", "tracking:\n  experiment:\n    name: prod\n")
    kedro.write("conf/base/mlflow.yml", "server:\n  mlflow_tracking_uri: sqlite:///m.db\n")
    result = kedro.cli("check", "--all-envs")
    assert result.returncode == 0, result
    assert [line for line in result.stdout.splitlines() if not line.startswith(" ")] == [
        "local: 0 errors, 0 warnings",
        "production: 0 errors, 0 warnings",
    ]


OC_ENV_WARNING = (
    "  warning: conf/{env}/mlflow.yml uses ${{oc.env:…}}: layered-mlflow evaluates it, but `kedro run` fails on it "
    "(UnsupportedInterpolationType), since Kedro enables oc.env only in credentials files (hint: register it for "
    'every file in settings.py: `from omegaconf.resolvers import oc` and `CONFIG_LOADER_ARGS["custom_resolvers"] = '
    '{{"oc.env": oc.env}}` (layered-mlflow reads that too), or write the value itself)'
)
REGISTERED = (
    "from omegaconf.resolvers import oc\n"
    'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local", "custom_resolvers": {"oc.env": oc.env}}\n'
)


@pytest.mark.parametrize(
    ("settings_py", "warned"),
    [
        pytest.param(None, True, id="kedros-default-refuses-it"),
        pytest.param(REGISTERED, False, id="registered-in-a-literal"),
        pytest.param(
            "from omegaconf.resolvers import oc\n"
            'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}\n'
            'CONFIG_LOADER_ARGS["custom_resolvers"] = {"oc.env": oc.env}\n',
            False,
            id="registered-by-an-item-assignment",
        ),
    ],
)
def test_oc_env_in_an_mlflow_file_foretells_kedros_refusal(
    kedro: Project, settings_py: str | None, warned: bool
) -> None:
    """${oc.env:…} in conf/*/mlflow.yml: evaluated here, but `check` warns `kedro run` fails unless it is registered."""
    if settings_py is not None:
        kedro.write(SETTINGS_PY, settings_py)
    kedro.write("conf/local/mlflow.yml", 'tracking:\n  experiment:\n    name: "${oc.env:EXPERIMENT,churn}"\n')
    kedro.write("conf/local/credentials.yml", 'c:\n  MLFLOW_TRACKING_PASSWORD: "${oc.env:PW,x}"\n')  # Kedro allows it
    assert values(kedro)["mlflow_experiment_name"] == "churn"
    lines = kedro.cli("check").stdout.splitlines()
    assert (OC_ENV_WARNING.format(env="local") in lines) is warned, lines
    assert not [line for line in lines if "credentials.yml uses" in line], lines


@pytest.mark.parametrize(("env", "args"), [({"KEDRO_ENV": "base"}, ()), ({}, ("--env", "base"))], ids=["var", "opt"])
def test_base_is_not_an_environment_and_the_hint_says_so(kedro: Project, env: dict[str, str], args: tuple[str]) -> None:
    """KEDRO_ENV=base: not "create conf/base/" (it exists) but that base is read under every environment."""
    source = "KEDRO_ENV" if env else "--env"
    assert refused(kedro, *args, env=env) == (
        f"layered-mlflow: error: 'base' (from {source}) is not an environment: conf/base/ is read under every "
        "environment; known environments: local (hint: name one of them; named by nothing, it is local)\n"
    )


def test_an_unset_variable_says_set_it(kedro: Project) -> None:
    """${oc.env:PROD_PW} with PROD_PW unset: the hint says to set PROD_PW (or give a default), not to write a value."""
    kedro.write("conf/base/mlflow.yml", "server:\n  credentials: store\n")
    kedro.write("conf/local/credentials.yml", "store:\n  MLFLOW_TRACKING_PASSWORD: ${oc.env:PROD_PW}\n")
    assert refused(kedro).endswith(
        "environment variable PROD_PW is not set and the expression gives no default "
        "(hint: set PROD_PW in the environment or .env, or give it a default: ${oc.env:PROD_PW,default})\n"
    )


def test_check_all_envs_notes_a_run_time_secret_it_is_not_given(kedro: Project) -> None:
    """CI's `check --all-envs` without production's secret: a note, the rest of production still checked; exit 0."""
    kedro.write("conf/base/mlflow.yml", "server:\n  credentials: store\n  mlflow_tracking_uri: sqlite:///m.db\n")
    kedro.write("conf/local/credentials.yml", "store:\n  MLFLOW_TRACKING_PASSWORD: local\n")
    kedro.write("conf/production/credentials.yml", "store:\n  MLFLOW_TRACKING_PASSWORD: ${oc.env:PROD_PW}\n")
    kedro.write("conf/production/mlflow.yml", "tracking:\n  experiment:\n    nmae: typo\n")
    result = kedro.cli("check", "--all-envs")
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == [
        "local: 0 errors, 0 warnings",
        "production: 0 errors, 1 warning",
        "  note: conf/production/credentials.yml:2: PROD_PW is not set here; a run in production needs it "
        "(hint: set PROD_PW in the environment or .env, or give it a default: ${oc.env:PROD_PW,default})",
        "  warning: tracking.experiment.nmae (conf/production/mlflow.yml) is not a kedro-mlflow key; kedro-mlflow "
        "refuses it (hint: did you mean name? kedro-mlflow's keys under tracking.experiment: "
        "create_experiment_kwargs, name, restore_if_deleted)",
    ], result
    assert kedro.cli("--env", "production", "check").returncode == 2  # the active environment's own: as `run` does
