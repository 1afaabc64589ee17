"""SPEC §10: a kedro-mlflow `mlflow.yml` is read in its own shape; the environment still wins."""

from __future__ import annotations

import json
import sys
from importlib import resources

import pytest

from tests.conftest import Project

# kedro-mlflow's project template as the installed kedro-mlflow ships it (2.0.3), with kedro's
# placeholder left in, as `kedro new` would have filled it had it run.
KEDRO_TEMPLATE = (resources.files("kedro_mlflow") / "template" / "project" / "mlflow.yml").read_text(encoding="utf-8")
PLACEHOLDER_LINE = next(n for n, line in enumerate(KEDRO_TEMPLATE.splitlines(), 1) if "{{ python_package }}" in line)
FILLED = KEDRO_TEMPLATE.replace("{{ python_package }}", "churn_model")
# The template's keys that carry a value and have no layered-mlflow counterpart.
UNAPPLIED = [
    "server.request_header_provider.pass_context",
    "tracking.disable_tracking.disable_autologging",
    "tracking.run.nested",
    "tracking.params.dict_params.flatten",
    "tracking.params.dict_params.recursive",
    "tracking.params.dict_params.sep",
    "tracking.params.long_params_strategy",
]


def settings(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    result = project.cli(*args, "show", "--format", "json", env=env)
    assert result.returncode == 0, result
    found: dict[str, dict[str, str]] = json.loads(result.stdout)["settings"]
    return found


def test_the_filled_template_reads_as_its_meaning(project: Project) -> None:
    """Experiment and ui defaults are applied; null URIs fall through to the built-in default."""
    project.write("settings/mlflow.yml", FILLED)
    found = settings(project)
    values = {name: s["value"] for name, s in found.items()}
    assert values == {
        "mlflow_allow_file_store": "true",
        "mlflow_experiment_name": "churn_model",
        "mlflow_tracking_uri": (project.root / "mlruns").as_uri(),
        "experiment.restore_if_deleted": "true",
        "server.host": "127.0.0.1",
        "server.port": "5000",
    }
    assert found["mlflow_experiment_name"]["source"] == str(project.root / "settings" / "mlflow.yml")
    assert found["mlflow_tracking_uri"]["layer"] == "default"


def test_run_accepts_the_template_without_a_warning(project: Project) -> None:
    """kedro-mlflow's other keys are accepted: `run` is silent about them."""
    project.write("settings/mlflow.yml", FILLED)
    result = project.cli("run", "--", "true")
    assert (result.returncode, result.stderr) == (0, ""), result


def test_check_notes_the_keys_it_does_not_apply(project: Project) -> None:
    """`check` is clean and lists each kedro-mlflow key with a value that layered-mlflow ignores."""
    project.write(
        "settings/mlflow.yml", FILLED.replace("mlflow_tracking_uri: null", "mlflow_tracking_uri: sqlite:///m.db")
    )
    result = project.cli("check")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == "development: 0 errors, 0 warnings"
    assert lines[1:] == [
        f"  note: {key} (settings/mlflow.yml) is a kedro-mlflow key; layered-mlflow does not apply it"
        for key in UNAPPLIED
    ]


# (kedro-mlflow settings, the key they set, its value; the root is /p)
MAPPING = [
    pytest.param(
        "server:\n  mlflow_tracking_uri: sqlite:///mlflow.db\n",
        "mlflow_tracking_uri",
        "sqlite:///{root}/mlflow.db",
        id="tracking-uri-anchored",
    ),
    pytest.param(
        "server:\n  mlflow_tracking_uri: http://mlflow:5000\n",
        "mlflow_tracking_uri",
        "http://mlflow:5000",
        id="tracking",
    ),
    pytest.param(
        "server:\n  mlflow_registry_uri: databricks-uc\n", "mlflow_registry_uri", "databricks-uc", id="registry-uri"
    ),
    pytest.param("tracking:\n  experiment:\n    name: churn\n", "mlflow_experiment_name", "churn", id="experiment"),
    pytest.param("tracking:\n  run:\n    name: nightly\n", "tags.mlflow.runName", "nightly", id="run-name-tag"),
    pytest.param("ui:\n  host: mlflow.local\n", "server.host", "mlflow.local", id="ui-host"),
    pytest.param("ui:\n  port: 5001\n", "server.port", "5001", id="ui-port"),
    pytest.param(
        "tracking:\n  experiment:\n    create_experiment_kwargs:\n      artifact_location: art\n",
        "experiment.artifact_location",
        "file://{root}/art",
        id="artifact-location-anchored",
    ),
    pytest.param(
        "tracking:\n  experiment:\n    create_experiment_kwargs:\n      tags:\n        Team: vision\n",
        "experiment.tags.Team",
        "vision",
        id="experiment-tags",
    ),
    pytest.param(
        "tracking:\n  experiment:\n    restore_if_deleted: false\n",
        "experiment.restore_if_deleted",
        "false",
        id="restore-if-deleted",
    ),
]


@pytest.mark.parametrize(("text", "key", "value"), MAPPING)
def test_kedro_key_maps_to_ours(project: Project, text: str, key: str, value: str) -> None:
    """Each kedro-mlflow key sets its layered-mlflow counterpart, from the file that holds it."""
    project.write("settings/mlflow.yml", text)
    found = settings(project)
    assert found[key]["value"] == value.format(root=project.root), found
    assert found[key]["layer"] == "base_file"


def test_run_name_reaches_runs_as_a_tag(project: Project) -> None:
    """tracking.run.name is the tag mlflow.runName of MLFLOW_RUN_CONTEXT, beside the file's own tags."""
    project.write("settings/mlflow.yml", "tracking:\n  run:\n    name: nightly\ntags:\n  team: vision\n")
    context = json.loads(project.child_env()["MLFLOW_RUN_CONTEXT"])
    assert context == {"layered_mlflow.env": "development", "mlflow.runName": "nightly", "team": "vision"}


def test_the_environment_wins_over_the_file(project: Project) -> None:
    """The deliberate difference from kedro-mlflow: MLFLOW_TRACKING_URI beats server.mlflow_tracking_uri."""
    project.write("settings/mlflow.yml", "server:\n  mlflow_tracking_uri: http://from-file:5000\n")
    child = project.child_env(env={"MLFLOW_TRACKING_URI": "http://from-env:5000"})
    assert child["MLFLOW_TRACKING_URI"] == "http://from-env:5000"


def test_null_falls_through_to_lower_layers(project: Project) -> None:
    """A kedro-mlflow local file with null URIs leaves the base file's tracking URI standing."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: http://base:5000\n")
    project.write("settings/mlflow.local.yml", "server:\n  mlflow_tracking_uri: null\n  mlflow_registry_uri: null\n")
    assert project.child_env()["MLFLOW_TRACKING_URI"] == "http://base:5000"


def test_a_kedro_file_layers_like_any_other(project: Project) -> None:
    """A kedro-mlflow environment file overrides the base file key by key, as ours do."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: base\nmlflow_tracking_uri: http://base:5000\n")
    project.write("settings/mlflow.staging.yml", "tracking:\n  experiment:\n    name: staged\n")
    child = project.child_env("--env", "staging")
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["MLFLOW_TRACKING_URI"]) == ("staged", "http://base:5000")


def test_our_server_section_stays_ours_beside_tracking(project: Project) -> None:
    """A `server` without kedro-mlflow's keys is our section, even in a file with `tracking`."""
    project.write("settings/mlflow.yml", "tracking:\n  experiment:\n    name: e\nserver:\n  port: 5001\n")
    assert settings(project)["server.port"]["value"] == "5001"


# (settings/mlflow.yml, text the one-line error must contain)
ERRORS = [
    pytest.param(
        KEDRO_TEMPLATE, f"mlflow.yml:{PLACEHOLDER_LINE}: {{{{ python_package }}}} is a template", id="template"
    ),
    pytest.param("mlflow_experiment_name: '{{ python_package }}'\n", "mlflow.yml:1: {{ python_package }}", id="quoted"),
    pytest.param("tags:\n  a: b\n  c: x-{{ name }}\n", "mlflow.yml:3: {{ name }}", id="inside-a-value"),
    pytest.param(
        "server:\n  mlflow_tracking_uri: a\nmlflow_tracking_uri: b\n",
        "`server.mlflow_tracking_uri` (kedro-mlflow's) and `mlflow_tracking_uri` say the same thing",
        id="both-spellings",
    ),
    pytest.param(
        "tracking:\n  experiment:\n    name: [a, b]\n", "`tracking.experiment.name` is a list", id="name-is-a-list"
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_kedro_errors(project: Project, text: str, message: str) -> None:
    """An unfilled placeholder or a contradiction: exit 2, one line naming the file (and line)."""
    project.write("settings/mlflow.yml", text)
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert len(result.stderr.splitlines()) == 1, result
    assert message in result.stderr, result


def test_the_placeholder_error_says_what_to_do(project: Project) -> None:
    """The hint: write the value itself."""
    project.write("settings/mlflow.yml", KEDRO_TEMPLATE)
    result = project.cli("check")
    assert "(hint: kedro fills it in when it creates a project; write the value itself" in result.stderr, result


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("'@jinja {{ \"churn\" | upper }}'", "CHURN", id="jinja"),
        pytest.param("'@jinja {{ this.base }}-exp'", "base-exp", id="jinja-this"),
        pytest.param("'{{.ID}}'", "{{.ID}}", id="go-template"),
    ],
)
def test_dynaconf_jinja_is_not_a_placeholder(project: Project, value: str, expected: str) -> None:
    """A Dynaconf '@jinja {{ ... }}' value is rendered, and a Go template is kept, not refused."""
    project.write("settings/mlflow.yml", f"base: base\nenv:\n  NAME: {value}\n")
    assert project.child_env("-q")["NAME"] == expected


@pytest.mark.mlflow
def test_a_kedro_project_trains_under_layered_mlflow(project: Project) -> None:
    """The filled template, a run name, a real MLflow run: the experiment and the run name are kedro-mlflow's."""
    from tests.conftest import client_query
    from tests.test_mlflow_local import TRAIN

    project.write("settings/mlflow.yml", FILLED.replace("    name: null", "    name: nightly"))
    result = project.cli("run", "--", sys.executable, str(TRAIN), timeout=300)
    assert result.returncode == 0, result
    found = client_query(
        (project.root / "mlruns").as_uri(),
        "import json, mlflow\n"
        "e = mlflow.MlflowClient().get_experiment_by_name('churn_model')\n"
        "r = mlflow.search_runs([e.experiment_id], output_format='list')[0]\n"
        "print(json.dumps(r.info.run_name))\n",
    )
    assert found == "nightly"
