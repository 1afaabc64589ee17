"""SPEC §7: `layered_mlflow.configure()` applies the settings in-process, as a notebook needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project, client_query

pytestmark = pytest.mark.mlflow

# A notebook cell: no wrapper around the kernel, only configure() before logging.
NOTEBOOK = textwrap.dedent(
    """
    import json, os, sys
    import layered_mlflow
    assert "mlflow" not in sys.modules, "importing layered_mlflow imported mlflow"
    resolved = layered_mlflow.configure(**json.loads(sys.argv[1]))
    import mlflow
    with mlflow.start_run() as run:
        mlflow.log_param("where", "notebook")
    print(json.dumps({
        "root": str(resolved.root),
        "tracking_uri": mlflow.get_tracking_uri(),
        "registry_uri": mlflow.get_registry_uri(),
        "experiment": mlflow.get_experiment(run.info.experiment_id).name,
        "environ": {name: os.environ.get(name) for name in sys.argv[2:]},
    }))
    """
)


def notebook(project: Project, arguments: Mapping[str, object], *names: str, env: dict[str, str]) -> dict[str, Any]:
    """Run the notebook cell in ``<root>/notebooks`` and return what it printed."""
    folder = project.root / "notebooks"
    folder.mkdir(exist_ok=True)
    script = folder / "cell.py"
    script.write_text(NOTEBOOK)
    environment = {**os.environ, **env}
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(arguments), *names],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["cell.py"], "nothing may be created beside the notebook"
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_notebook_run_lands_under_the_project_root(project: Project) -> None:
    """From <root>/notebooks: the run goes to <root>/mlruns, in the experiment, with the tags and variables."""
    project.write(
        "settings/mlflow.yml",
        "mlflow_experiment_name: notebooks\ntags:\n  project: demo\nenv:\n  PYTHONHASHSEED: '0'\n",
    )
    # An inherited empty MLFLOW_CONFIGURE_LOGGING breaks `import mlflow`: configure() removes it first.
    env = {"LAYERED_MLFLOW_TAGS__team": "vision", "MLFLOW_CONFIGURE_LOGGING": ""}
    names = ("MLFLOW_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE", "PYTHONHASHSEED", "MLFLOW_CONFIGURE_LOGGING")
    found = notebook(project, {}, *names, env=env)
    store = (project.root / "mlruns").as_uri()
    assert found["root"] == str(project.root)
    assert found["tracking_uri"] == store
    assert found["experiment"] == "notebooks"
    assert found["environ"] == {
        "MLFLOW_TRACKING_URI": store,
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "PYTHONHASHSEED": "0",
        "MLFLOW_CONFIGURE_LOGGING": None,
    }
    run = client_query(
        store,
        "import json, mlflow\n"
        "c = mlflow.MlflowClient()\n"
        "r = c.search_runs([c.get_experiment_by_name('notebooks').experiment_id])[0]\n"
        "print(json.dumps({'params': r.data.params, 'tags': r.data.tags}))\n",
    )
    assert isinstance(run, dict)
    assert run["params"] == {"where": "notebook"}
    assert {k: run["tags"].get(k) for k in ("project", "team", "layered_mlflow.env")} == {
        "project": "demo",
        "team": "vision",
        "layered_mlflow.env": "development",
    }


def test_configure_takes_env_and_overrides(project: Project) -> None:
    """configure(env=..., overrides=...) as resolve() takes them; the registry URI is set when one is given."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\n")
    project.write(
        "settings/mlflow.staging.yml",
        "mlflow_tracking_uri: sqlite:///tracking.db\nmlflow_registry_uri: sqlite:///registry.db\n",
    )
    arguments = {"env": "staging", "overrides": {"mlflow_experiment_name": "tuned"}}
    found = notebook(project, arguments, "LAYERED_MLFLOW_ENV", env={})
    assert found["tracking_uri"] == f"sqlite:///{project.root}/tracking.db"
    assert found["registry_uri"] == f"sqlite:///{project.root}/registry.db"
    assert found["experiment"] == "tuned"
    assert found["environ"] == {"LAYERED_MLFLOW_ENV": "staging"}
    assert Path(project.root / "tracking.db").is_file()


# A notebook that calls configure() (and sets variables by hand) in the order given, then reports its state.
SEQUENCE = textwrap.dedent(
    """
    import json, os, sys
    import layered_mlflow
    for step in json.loads(sys.argv[1]):
        if "setenv" in step:
            os.environ.update(step["setenv"])
        else:
            layered_mlflow.configure(**step["configure"])
    import mlflow
    environ = {k: v for k, v in os.environ.items() if "MLFLOW" in k or k.endswith("_ONLY")}
    with mlflow.start_run() as run:
        pass
    experiment = mlflow.get_experiment(run.info.experiment_id)
    print(json.dumps({
        "environ": environ,
        "tracking_uri": mlflow.get_tracking_uri(),
        "registry_uri": mlflow.get_registry_uri(),
        "experiment": [experiment.name, experiment.artifact_location],
        "tags": {k: v for k, v in mlflow.get_run(run.info.run_id).data.tags.items() if not k.startswith("mlflow.")},
    }))
    """
)
DEVELOPMENT: dict[str, object] = {"configure": {}}
PRODUCTION: dict[str, object] = {"configure": {"env": "production"}}


def state_after(project: Project, steps: list[dict[str, object]]) -> dict[str, Any]:
    """What a fresh notebook process in <root>/notebooks reports after ``steps``."""
    folder = project.root / "notebooks"
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", SEQUENCE, json.dumps(steps)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    ("earlier", "then"),
    [
        pytest.param([DEVELOPMENT], [PRODUCTION], id="file-store-then-sqlite"),
        pytest.param([PRODUCTION], [DEVELOPMENT], id="sqlite-registry-experiment-then-file-store"),
        pytest.param(
            [DEVELOPMENT], [{"setenv": {"MLFLOW_EXPERIMENT_NAME": "mine"}}, PRODUCTION], id="set-by-hand-in-between"
        ),
        pytest.param(
            [PRODUCTION],
            [{"setenv": {"MLFLOW_TRACKING_URI": "sqlite:///hand.db"}}, DEVELOPMENT],
            id="changed-by-hand-in-between",
        ),
    ],
)
def test_configure_again_answers_as_a_fresh_process(
    project: Project, earlier: list[dict[str, object]], then: list[dict[str, object]]
) -> None:
    """configure() after configure(): the same variables, stores, experiment and tags as only the later steps give.

    What an earlier call set is not taken for the process environment's; what the user set by hand is.
    """
    project.write("settings/mlflow.yml", "tags:\n  project: demo\n")
    project.write(
        "settings/mlflow.production.yml",
        "mlflow_tracking_uri: sqlite:///prod.db\nmlflow_registry_uri: sqlite:///registry.db\n"
        "mlflow_experiment_name: prod\nenv:\n  PROD_ONLY: '1'\n",
    )
    fresh = state_after(project, then)
    assert state_after(project, [*earlier, *then]) == fresh


# Calls resolve() then configure() as the notebook would, and reports what each raised: [kind, message].
CALLS = textwrap.dedent(
    """
    import json, sys
    import layered_mlflow
    found = {}
    for call in ("resolve", "configure"):
        try:
            getattr(layered_mlflow, call)(**json.loads(sys.argv[1]))
            found[call] = ["ok", ""]
        except layered_mlflow.LayeredMlflowError as exc:
            found[call] = ["ours", str(exc)]
        except Exception as exc:
            found[call] = [type(exc).__module__ + "." + type(exc).__name__, str(exc)]
    print(json.dumps(found))
    """
)
CANARY = "canary-pw-8d2f"


def _refuses_a_blank_name() -> bool:
    """Whether the installed MLflow refuses the experiment name ' ' (3.13 accepts it; newer ones refuse it)."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_experiment_name

    try:
        _validate_experiment_name(" ")  # type: ignore[no-untyped-call]  # MLflow leaves it untyped
    except MlflowException:
        return True
    return False


# Each refused only once MLflow is told (configure), unless the table says resolve refuses too.
BAD_SETTINGS = [
    pytest.param("mlflow_experiment_name: \"b'hello, '\"\n", {}, {}, "holds a quote (')", id="quote-in-a-file-store"),
    pytest.param(
        "mlflow_experiment_name: ' '\n",
        {},
        {},
        "Invalid experiment name",
        id="blank-name",
        marks=pytest.mark.skipif(not _refuses_a_blank_name(), reason="the installed MLflow accepts a blank name"),
    ),
    pytest.param(
        f"mlflow_experiment_name: {'x' * 600}\n", {}, {}, "600 characters long, and MLflow refuses", id="name-too-long"
    ),
    pytest.param('mlflow_experiment_name: "a\\0b"\n', {}, {}, "holds a NUL character", id="nul-in-a-name"),
    pytest.param(
        "", {"MLFLOW_EXPERIMENT_NAME": "caf\udce9"}, {}, "holds bytes that are not UTF-8", id="name-not-utf-8"
    ),
    pytest.param('mlflow_tracking_uri: "sqlite:///a\\0b.db"\n', {}, {}, "NUL character", id="nul-in-a-uri"),
    pytest.param("mlflow_configure_logging: maybe\n", {}, {}, "MLFLOW_CONFIGURE_LOGGING", id="value-mlflow-refuses"),
    pytest.param(
        "mlflow_tracking_uri: /proc/self/x\nmlflow_experiment_name: x\n", {}, {}, "FileNotFound", id="no-store"
    ),
    pytest.param(
        "mlflow_experiment_name: x\n",
        {"MLFLOW_TRACKING_URI": "nosuch://x"},
        {},
        "tracking store nosuch://x",
        id="unknown-scheme",
    ),
    pytest.param("mlflow_experiment_name: x\n", {"MLFLOW_TRACKING_URI": "http://[::1"}, {}, "IPv6", id="bad-host"),
    pytest.param("mlflow_experiment_name: x\n", {"MLFLOW_TRACKING_URI": "http://h:port"}, {}, "url", id="bad-port"),
    pytest.param(
        f"mlflow_experiment_name: x\nmlflow_tracking_uri: http://u:{CANARY}@127.0.0.1:9\n"
        "mlflow_http_request_max_retries: '0'\n",
        {},
        {},
        "tracking store http://u:***@127.0.0.1:9",
        id="server-unreachable",
    ),
    pytest.param(
        "mlflow_experiment_name: x\nmlflow_tracking_uri: http://127.0.0.1:9\nmlflow_http_request_max_retries: '-1'\n",
        {},
        {},
        "max_retries",
        id="negative-retries",
    ),
    pytest.param("", {}, {"overrides": {"mlflow_experiment_name": "a\0b"}}, "NUL character", id="nul-in-overrides"),
    pytest.param("", {}, {"project_dir": "/nowhere/a\0b"}, "no such directory", id="nul-in-project-dir"),
    pytest.param("", {}, {"env": "prod\0"}, "unknown environment", id="nul-in-env"),
]


@pytest.mark.parametrize(("settings", "env", "arguments", "says"), BAD_SETTINGS)
def test_bad_settings_raise_layered_mlflows_error(
    project: Project, settings: str, env: dict[str, str], arguments: dict[str, object], says: str
) -> None:
    """configure() and resolve() raise LayeredMlflowError on bad settings: one line, no secret, never MLflow's own.

    resolve() has no side effects: what only MLflow refuses (configure) it returns as resolved.
    """
    project.write("settings/mlflow.yml", settings)
    environment = {**os.environ, "DO_NOT_TRACK": "true", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5", **env}
    done = subprocess.run(
        [sys.executable, "-c", CALLS, json.dumps(arguments)],
        cwd=project.root,
        env={name: os.fsencode(value) for name, value in environment.items()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["resolve"][0] in ("ok", "ours"), found
    kind, message = found["configure"]
    assert kind == "ours", found
    assert says in message, message
    assert "\n" not in message
    assert CANARY not in message


def test_a_quote_in_a_name_works_in_a_database_store(project: Project) -> None:
    """A database store looks the name up as a value: configure() sets the experiment `b'hello, '` (no filter)."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    found = notebook(project, {"overrides": {"mlflow_experiment_name": "b'hello, '"}}, env={})
    assert found["experiment"] == "b'hello, '"
