"""`layered-mlflow schema`: a JSON Schema of the settings files, in step with the installed MLflow."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from dynaconf.vendor.ruamel import yaml

from tests.conftest import COMMAND, Project
from tests.test_kedro import FILLED

# Compares what layered-mlflow reads with what the installed MLflow defines: CI runs it on the lowest too.
pytestmark = pytest.mark.installed_mlflow

REPO = Path(__file__).parent.parent


@functools.cache
def schema() -> dict[str, Any]:
    """The schema the installed command prints (once per test session: it does not change)."""
    printed = subprocess.run([COMMAND, "schema"], capture_output=True, text=True, check=True).stdout
    document: dict[str, Any] = json.loads(printed)
    return document


def problems(text: str) -> list[str]:
    """What the schema finds wrong with a settings file, parsed as the tool parses it (YAML 1.2)."""
    data = yaml.YAML(typ="safe", pure=True).load(text)
    return [error.message for error in jsonschema.Draft7Validator(schema()).iter_errors(data)]


def test_the_schema_is_a_valid_draft_7_schema() -> None:
    """Editors read draft 7; the document must be a schema of that draft."""
    jsonschema.Draft7Validator.check_schema(schema())


@pytest.mark.parametrize("path", sorted((REPO / "settings").glob("*.yml")), ids=lambda path: path.name)
def test_this_repositorys_settings_are_valid(path: Path) -> None:
    """The repository's own settings files pass the schema."""
    assert problems(path.read_text(encoding="utf-8")) == []


def test_the_init_templates_are_valid_and_name_the_schema(project: Project) -> None:
    """What `init` writes passes the schema it writes beside it, which its first line names."""
    result = project.cli("init")
    assert result.returncode == 0, result
    settings = project.root / "settings"
    assert json.loads((settings / "mlflow.schema.json").read_text()) == schema()
    for name in ("mlflow.yml", "mlflow.production.yml"):
        text = (settings / name).read_text(encoding="utf-8")
        assert text.splitlines()[0] == "# yaml-language-server: $schema=mlflow.schema.json", name
        assert problems(text) == [], name


# Settings the tool accepts, which an editor must not underline.
VALID = [
    pytest.param("mlflow_tracking_insecure_tls: true\n", id="bool"),
    pytest.param("mlflow_tracking_insecure_tls: 'False'\n", id="bool-string-any-case"),
    pytest.param("mlflow_tracking_insecure_tls: 1\n", id="bool-one"),
    pytest.param("mlflow_http_request_timeout: 30\n", id="int"),
    pytest.param("mlflow_http_request_timeout: '30'\n", id="int-digits"),
    pytest.param("mlflow_http_request_timeout: '@int 30'\n", id="dynaconf-cast"),
    pytest.param("mlflow_http_request_backoff_jitter: 1.5\n", id="float"),
    pytest.param("mlflow_experiment_id: 123\n", id="str-written-as-a-number"),
    pytest.param("mlflow_experiment_name: '@format {env[USER]}'\n", id="dynaconf-format"),
    pytest.param("mlflow_tracking_uri: null\n", id="null-says-nothing"),
    pytest.param("env:\n  AWS_DEFAULT_REGION: eu-west-1\n", id="env"),
    pytest.param("tags:\n  epoch: 3\n  mlflow.note: x\n", id="tags"),
    pytest.param("server:\n  port: 5001\n  allowed_hosts: [a, b]\n  serve_artifacts: false\n", id="server"),
    pytest.param(FILLED, id="kedro-mlflow-template"),
    pytest.param("", id="empty-file"),
    pytest.param(
        "mlflow_tracking_client_cert_path: {from: vault:secret/c#pem, as: file}\n"
        "env:\n  GOOGLE_APPLICATION_CREDENTIALS: {from: gcp-sm:projects/p/secrets/s, as: file}\n",
        id="secret-as-a-file",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_the_schema_accepts(text: str) -> None:
    """Each value the tool takes passes the schema."""
    assert problems(text) == []


# (settings, what is wrong)
INVALID = [
    pytest.param("mlflow_tracking_insecure_tls: [1]\n", "[1] is not valid", id="bool-list"),
    pytest.param("mlflow_tracking_insecure_tls: 'yes'\n", "'yes' is not valid", id="bool-yes"),
    pytest.param("mlflow_http_request_timeout: 2.5\n", "2.5 is not valid", id="int-fraction"),
    pytest.param("mlflow_http_request_timeout: soon\n", "'soon' is not valid", id="int-word"),
    pytest.param("mlflow_tracking_uri: {a: 1}\n", "is not valid", id="uri-mapping"),
    pytest.param("mlflow_traking_uri: x\n", "'mlflow_traking_uri' was unexpected", id="unknown-mlflow-name"),
    pytest.param("tgas:\n  a: 1\n", "'tgas' was unexpected", id="unknown-section"),
    pytest.param("env:\n  1BAD: x\n", "'1BAD' does not match", id="env-name"),
    pytest.param("env:\n  PORT: 8080\n", "8080 is not valid", id="env-unquoted-number"),
    pytest.param("env: [A]\n", "is not of type", id="env-list"),
    pytest.param("env:\n  KEY: {from: x, as: disk}\n", "is not valid", id="secret-as-a-disk"),
    pytest.param("server:\n  prot: 5001\n", "'prot' was unexpected", id="server-typo"),
    pytest.param("server:\n  allowed_hosts: a\n", "'a' is not valid", id="allowed-hosts-string"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_the_schema_rejects(text: str, message: str) -> None:
    """A wrong type or an unknown name is a schema error, as an editor would underline it."""
    found = problems(text)
    assert any(message in line for line in found), found


def mlflow_declared() -> dict[str, str]:
    """Every public variable the installed MLflow declares, with its type, read from MLflow itself."""
    from mlflow import environment_variables as declared

    kinds = {}
    for variable in vars(declared).values():
        if isinstance(variable, declared._EnvironmentVariable) and variable.name.startswith("MLFLOW_"):
            boolean = isinstance(variable, declared._BooleanEnvironmentVariable)
            kinds[variable.name] = "bool" if boolean else {int: "int", float: "float"}.get(variable.type, "str")
    return kinds


def test_every_mlflow_variable_is_a_property_of_its_type() -> None:
    """The schema is in step with the installed MLflow: each of its variables, each with its type."""
    declared = mlflow_declared()
    assert len(declared) > 200  # MLflow declares hundreds; a handful means the scan broke
    properties = schema()["properties"]
    found = {
        name.upper(): properties[name.lower()]["allOf"][0]["$ref"].rsplit("/", 1)[1]
        for name in declared
        if name.lower() in properties
    }
    assert found == declared


@pytest.mark.parametrize(
    ("key", "start"),
    [
        pytest.param("mlflow_trace_buffer_ttl_seconds", "How long a trace can be buffered", id="plain-comment"),
        pytest.param("mlflow_sagemaker_deploy_img_url", "Specifies the URL of the ECR-hosted", id="mixed-comment"),
        pytest.param(
            "mlflow_disable_huggingface_accelerate_features",
            "Specifies to Huggingface whether",
            id="attribute-named-otherwise",
        ),
        pytest.param("mlflow_port", "MLFLOW_PORT Exported as", id="cli-option-has-no-comment"),
    ],
)
def test_descriptions_come_from_mlflows_comments(key: str, start: str) -> None:
    """A variable documented with `#` (not only `#:`) gets MLflow's words, keyed by the variable's name."""
    assert schema()["properties"][key]["description"].startswith(start)
