"""SPEC §10: settings.py in every literal form Kedro sees, a missing run environment folder, keys kedro-mlflow refuses.

settings.py is parsed, never run: what is not a literal form is a `check`
warning naming the line and what was assumed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layered_mlflow.layouts.kedro import settings as kedro_settings
from tests.conftest import PRINT_ENV, Project
from tests.test_kedro_layout import PYPROJECT, SETTINGS_PY, kedro, values

__all__ = ["kedro"]  # the fixture: a Kedro project as `kedro new` leaves it, without mlflow files

BASE_LOCAL = 'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}\n'
# (settings.py, base_env, default_run_env, merge_strategy, the warnings' beginnings)
READINGS = [
    pytest.param("", "base", "local", {}, [], id="no-settings-kedros-defaults"),
    pytest.param(BASE_LOCAL, "base", "local", {}, [], id="literal"),
    pytest.param(
        'CONFIG_LOADER_ARGS: dict = {"base_env": "base", "default_run_env": "prod"}\n',
        "base",
        "prod",
        {},
        [],
        id="annotated",
    ),
    pytest.param(
        "from typing import Any\n"
        'CONFIG_LOADER_ARGS: dict[str, Any] = {"base_env": "base"}\n'
        'CONFIG_LOADER_ARGS["default_run_env"] = "prod"\n'
        'CONFIG_LOADER_ARGS["merge_strategy"] = {}\n'
        'CONFIG_LOADER_ARGS["merge_strategy"]["mlflow"] = "soft"\n',
        "base",
        "prod",
        {"mlflow": "soft"},
        [],
        id="item-assignments-after-a-literal",
    ),
    pytest.param(
        "CONFIG_LOADER_ARGS: dict\n" + BASE_LOCAL,
        "base",
        "local",
        {},
        [],
        id="a-bare-annotation-assigns-nothing",
    ),
    pytest.param(
        f'import os\n{BASE_LOCAL}CONFIG_LOADER_ARGS.update(default_run_env=os.environ["E"])\n',
        "base",
        "local",
        {},
        ["s.py:3: `CONFIG_LOADER_ARGS.update(default_run_env=os.environ['E'])` is not a literal form; assumed it"],
        id="a-method-call",
    ),
    pytest.param(
        f'import os\n{BASE_LOCAL}if os.environ.get("CI"):\n    CONFIG_LOADER_ARGS["default_run_env"] = "ci"\n',
        "base",
        "local",
        {},
        ["s.py:4: CONFIG_LOADER_ARGS is changed inside a block; assumed that block does not run"],
        id="inside-an-if",
    ),
    pytest.param(
        f'{BASE_LOCAL}def f():\n    CONFIG_LOADER_ARGS = {{"default_run_env": "x"}}\n',
        "base",
        "local",
        {},
        [],
        id="a-functions-local-is-not-the-module-name",
    ),
    pytest.param(
        'import os\nCONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": os.environ["E"]}\n',
        "base",
        "local",
        {},
        ["s.py:2: CONFIG_LOADER_ARGS['default_run_env'] is not a literal; assumed 'local'"],
        id="a-computed-value",
    ),
    pytest.param(
        'DEFAULTS = {"base_env": "base"}\nCONFIG_LOADER_ARGS = {**DEFAULTS, "default_run_env": "prod"}\n',
        "",
        "prod",
        {},
        ["s.py:2: CONFIG_LOADER_ARGS has an entry whose key is not a literal; assumed it adds nothing"],
        id="unpacked-entries",
    ),
    pytest.param(
        'CONFIG_LOADER_ARGS = dict(base_env="base", default_run_env="prod")\n',
        "base",
        "local",
        {},
        ["s.py:1: CONFIG_LOADER_ARGS is not a literal; assumed Kedro's defaults"],
        id="a-call",
    ),
    pytest.param(
        'from .base import CONFIG_LOADER_ARGS\nCONFIG_LOADER_ARGS["default_run_env"] = "prod"\n',
        "base",
        "local",
        {},
        [
            "s.py:1: `from .base import CONFIG_LOADER_ARGS` is not a literal form; assumed it changes nothing",
            "s.py:2: CONFIG_LOADER_ARGS['default_run_env'] changes a value that was not read; assumed it",
        ],
        id="imported-then-changed",
    ),
    pytest.param('CONFIG_LOADER_ARGS = {"base_env": "base"}\n', "base", "", {}, [], id="no-default-run-env-base-alone"),
]


@pytest.mark.parametrize(("text", "base_env", "run_env", "merge", "warnings"), READINGS)
def test_settings_py_is_read_in_its_literal_forms(
    tmp_path: Path, text: str, base_env: str, run_env: str, merge: dict[str, str], warnings: list[str]
) -> None:
    """Annotated and item assignments count; each other change of the names is a warning saying what was assumed."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "src/demo").mkdir(parents=True)
    (tmp_path / "src/demo/s.py").write_text(text, encoding="utf-8")
    (tmp_path / SETTINGS_PY).write_text(text, encoding="utf-8")
    read = kedro_settings.read(tmp_path)
    assert (read.base_env, read.default_run_env, dict(read.merge_strategy)) == (base_env, run_env, merge)
    said = [message.replace("src/demo/settings.py", "s.py") for message, _ in read.assumed]
    assert len(said) == len(warnings), said
    for message, expected in zip(said, warnings, strict=True):
        assert message.startswith(expected), said


def test_an_annotated_loader_args_chooses_the_environment(kedro: Project) -> None:
    """`CONFIG_LOADER_ARGS: dict = {…}` (a real project's form) and an item assignment after it are read."""
    kedro.write(
        SETTINGS_PY,
        'CONFIG_LOADER_ARGS: dict = {"base_env": "base", "default_run_env": "local"}\n'
        'CONFIG_LOADER_ARGS["default_run_env"] = "prod"\n',
    )
    kedro.write("conf/prod/mlflow.yml", "tracking:\n  experiment:\n    name: prod-exp\n")
    assert values(kedro)["mlflow_experiment_name"] == "prod-exp"
    result = kedro.cli("check")
    assert result.stdout.startswith("prod: 0 errors, 0 warnings\n"), result


def test_a_change_that_is_not_a_literal_is_a_check_warning(kedro: Project) -> None:
    """`check` names the line and what was assumed; `run` goes on with the assumption."""
    kedro.write(SETTINGS_PY, f"import os\n{BASE_LOCAL}CONFIG_LOADER_ARGS.update(os.environ)\n")
    result = kedro.cli("check")
    assert result.returncode == 0, result
    assert (
        "  warning: src/demo/settings.py:3: `CONFIG_LOADER_ARGS.update(os.environ)` is not a literal form; "
        "assumed it changes nothing (hint: layered-mlflow reads settings.py without running it; "
        "write the value itself)"
    ) in result.stdout.splitlines(), result


def test_a_checkout_without_conf_local_reads_base_and_check_warns(kedro: Project) -> None:
    """conf/local is git-ignored by Kedro's template: base is still read, and `check` says Kedro will refuse."""
    kedro.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: base-exp\n")
    for path in sorted((kedro.root / "conf/local").iterdir()):
        path.unlink()
    (kedro.root / "conf/local").rmdir()
    assert values(kedro)["mlflow_experiment_name"] == "base-exp"
    result = kedro.cli("check")
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[:2] == [
        "local: 0 errors, 1 warning",
        "  warning: conf/local/ does not exist, so only conf/base/ is read; `kedro run` refuses to start without it"
        " (hint: create it (Kedro's template git-ignores conf/local, so a fresh clone has none), or choose another"
        " environment with --env or KEDRO_ENV)",
    ], result
    (kedro.root / "conf/local").mkdir()
    assert "conf/local/ does not exist" not in kedro.cli("check").stdout


# kedro-mlflow 0.7's template, as a real project has it: a key kedro-mlflow 2 no longer knows.
OLD_TEMPLATE = "server:\n  mlflow_tracking_uri: mlruns\n  stores_environment_variables: {}\n  credentials: null\n"


@pytest.mark.parametrize(
    "value", ["{}", "{AWS_REGION: eu-west-1}", "null", "x"], ids=["empty-mapping", "mapping", "null", "text"]
)
def test_a_key_outside_kedro_mlflows_server_schema_is_a_warning_whatever_its_value(kedro: Project, value: str) -> None:
    """`server.stores_environment_variables`: `env` works, `check` warns listing kedro-mlflow's server keys."""
    kedro.write("conf/base/mlflow.yml", OLD_TEMPLATE.replace("{}", value))
    assert kedro.cli("env").returncode == 0
    result = kedro.cli("check")
    assert result.returncode == 0, result
    assert (
        "  warning: server.stores_environment_variables (conf/base/mlflow.yml) is not a kedro-mlflow key; "
        "kedro-mlflow refuses it (hint: kedro-mlflow's keys under server: credentials, mlflow_registry_uri, "
        "mlflow_tracking_uri, request_header_provider)"
    ) in result.stdout.splitlines(), result
    assert kedro.cli("check", "--strict").returncode == 1


def test_no_default_run_env_exports_nothing_empty(kedro: Project) -> None:
    """Without default_run_env Kedro reads base alone: no LAYERED_MLFLOW_ENV, no empty tag, "base only" shown."""
    kedro.write(SETTINGS_PY, 'CONFIG_LOADER_ARGS = {"base_env": "base"}\n')
    kedro.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: churn\n")
    child = kedro.child_env()
    assert child["MLFLOW_EXPERIMENT_NAME"] == "churn"
    assert not {"LAYERED_MLFLOW_ENV", "MLFLOW_RUN_CONTEXT", "KEDRO_ENV"} & set(child), child
    assert kedro.cli("check").stdout.startswith("base only: 0 errors"), kedro.cli("check")
    assert kedro.cli("show").stdout.startswith("environment  base only  (from default)\n")
    assert kedro.cli("show", "--format", "json").json()["environment"] is None
    dry = kedro.cli("-v", "run", "--", *PRINT_ENV)
    assert "layered-mlflow: environment base only (from default)" in dry.stderr, dry
