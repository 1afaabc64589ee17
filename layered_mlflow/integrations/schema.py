"""A JSON Schema of the settings files, generated from the installed MLflow's variables.

Editors (VS Code's YAML extension and others) read it to validate and complete
``settings/mlflow*.yml`` as they are typed. It is built when asked for, so it is
always in step with the MLflow that `run` exports for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from layered_mlflow import keys
from layered_mlflow.mlflow_names import server_options
from layered_mlflow.mlflow_names.variables import BOOLEANS, mlflow_variable_docs, mlflow_variables

FILE_NAME = "mlflow.schema.json"  # beside the settings files, which name it on their first line
# Draft 7: the newest draft every YAML editor plugin understands.
_DRAFT = "http://json-schema.org/draft-07/schema#"
# Any key may hold a Dynaconf value ('@int 3', '@format {env[HOME]}', '@jinja ...'), evaluated when read.
_DYNACONF = {"type": "string", "pattern": "^@"}
_NULL = {"type": "null"}  # "this layer says nothing" (SPEC §3)
_DIGITS = r"^\s*[-+]?[0-9]+\s*$"
_DECIMAL = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _any_case(words: Iterable[str]) -> str:
    """A pattern matching each of ``words`` in any case (JSON Schema patterns have no flags)."""
    spelled = ("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word) for word in words)
    return f"^({'|'.join(spelled)})$"


# A secret as a file (SPEC §11): an `env` entry or a text MLflow key as `{from: REFERENCE_OR_VALUE, as: file}`.
_AS_FILE = {
    "type": "object",
    "properties": {"from": {"type": ["string", "number", "boolean"]}, "as": {"const": "file"}},
    "required": ["from", "as"],
    "additionalProperties": False,
}
_KINDS: Mapping[str, list[dict[str, Any]]] = {
    **{
        kind: [{"type": "boolean"}, {"enum": [0, 1]}, {"type": "string", "pattern": _any_case(words)}]
        for kind, words in BOOLEANS.items()
    },
    "int": [{"type": "integer"}, {"type": "string", "pattern": _DIGITS}],
    "float": [{"type": "number"}, {"type": "string", "pattern": _DECIMAL}],
    "str": [{"type": ["string", "number", "boolean"]}, _AS_FILE],
}
# Descriptions of the `server` keys people set most; every other option is described by its flag.
_SERVER_TEXTS = {
    "backend_store_uri": "Where `mlflow server` keeps runs: sqlite:///mlflow.db, postgresql+psycopg2://...",
    "registry_store_uri": "Where `mlflow server` keeps registered models (default: the backend store).",
    "default_artifact_root": "Where new experiments keep artifacts when the server does not serve them.",
    "artifacts_destination": "Where a server that serves artifacts stores them: s3://bucket/path, ...",
    "serve_artifacts": "Whether the server proxies artifact uploads and downloads.",
    "host": "The address `mlflow server` listens on (default 127.0.0.1).",
    "port": "The port `mlflow server` listens on (default 5000).",
    "workers": "How many worker processes `mlflow server` starts.",
    "app_name": "basic-auth: users and permissions, configured by server.auth.",
}
_SCHEMA_KINDS = {"integer": "int", "flag": "bool", "switch": "bool"}  # MLflow's kinds; other values are text
# kedro-mlflow's (SPEC §10), which share no name with ours.
_KEDRO_SERVER = {
    "mlflow_tracking_uri": ("str", "kedro-mlflow: the tracking URI (null: the environment's, else mlruns)."),
    "mlflow_registry_uri": ("str", "kedro-mlflow: the registry URI (null: MLflow's default)."),
    "credentials": ("str", "kedro-mlflow: a key of credentials.yml (not applied by layered-mlflow)."),
}


def _server_properties() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, option in server_options.installed().items():
        text = _SERVER_TEXTS.get(name, f"`mlflow server {option.flag}`.")
        if name in keys.SERVER_LISTS:
            properties[name] = {"description": text, "anyOf": [{"type": "array", "items": {"type": "string"}}, _NULL]}
        else:
            properties[name] = _typed(_SCHEMA_KINDS.get(option.kind, "str"), text)
    auth = {name: _typed("str", f"MLflow's auth config: {name}.") for name in keys.AUTH_KEYS}
    properties["auth"] = _section("basic-auth's configuration (with app_name: basic-auth).", auth, closed=True)
    properties.update({name: _typed(kind, text) for name, (kind, text) in _KEDRO_SERVER.items()})
    return properties


def settings_schema() -> dict[str, Any]:
    """The schema of one settings file: every MLflow variable, our sections, kedro-mlflow's."""
    docs = mlflow_variable_docs()
    properties = {
        name.lower(): _typed(kind, f"{docs.get(name, name)} Exported as {name} ({kind}).")
        for name, kind in sorted(mlflow_variables().items())
    }
    properties["env"] = {
        "description": "Other variables the command needs, exported verbatim; the process environment wins. "
        "Quote numbers: the command gets the text as written.",
        "type": ["object", "null"],
        "propertyNames": {"pattern": f"^{keys.VARIABLE_NAME}$"},
        "additionalProperties": {"anyOf": [{"type": "string"}, _NULL, _AS_FILE]},
    }
    properties["tags"] = {
        "description": "Tags added to every run the command starts (in MLFLOW_RUN_CONTEXT).",
        "type": ["object", "null"],
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    }
    properties["secrets"] = {
        "description": "More keys or variable names to print as *** (WANDB_ENTITY, env.NAME, tags.NAME).",
        "anyOf": [{"type": "array", "items": {"type": "string", "minLength": 1}}, _NULL],
    }
    properties["required"] = {
        "description": "Keys or variable names that must have a value before anything starts (env.NAME, MLFLOW_X).",
        "anyOf": [{"type": "array", "items": {"type": "string", "minLength": 1}}, _NULL],
    }
    token = {
        "file": _typed("str", "A token file, read again when it changes (a projected service-account token)."),
        "command": {
            "description": "An argv (no shell) that prints the token; run again after ttl seconds or a 401.",
            "anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1}, _NULL],
        },
        "ttl": _typed("int", "Seconds a token.command's token is used before the command runs again (300)."),
    }
    properties["token"] = _section("A rotating tracking token, sent by layered-mlflow's auth provider.", token, True)
    server = _server_properties()
    server["request_header_provider"] = {"description": "kedro-mlflow (not applied).", "type": ["object", "null"]}
    properties["server"] = _section("How `layered-mlflow server` starts `mlflow server`.", server, closed=True)
    experiment = {
        "artifact_location": _typed("str", "Where the experiment keeps artifacts (a local path is anchored)."),
        "tags": {"description": "The experiment's tags.", "type": ["object", "null"]},
    }
    properties["experiment"] = _section("What `layered-mlflow experiment` creates.", experiment, closed=True)
    properties.update(_kedro_sections())
    return {
        "$schema": _DRAFT,
        "title": "layered-mlflow settings",
        "description": "settings/mlflow.yml, settings/mlflow.<env>.yml or settings/mlflow.local.yml",
        "type": ["object", "null"],
        "properties": properties,
        "additionalProperties": False,
        "definitions": {kind: {"anyOf": [*alternatives, _DYNACONF, _NULL]} for kind, alternatives in _KINDS.items()},
    }


def schema_text() -> str:
    """The schema as `layered-mlflow schema` prints it and `init` writes it."""
    return json.dumps(settings_schema(), indent=2) + "\n"


def _typed(kind: str, description: str) -> dict[str, Any]:
    # Draft 7 ignores the siblings of a bare `$ref`, the description among them; `allOf` keeps it.
    return {"description": description, "allOf": [{"$ref": f"#/definitions/{kind}"}]}


def _section(description: str, properties: dict[str, Any], closed: bool = False) -> dict[str, Any]:
    return {
        "description": description,
        "type": ["object", "null"],
        "properties": properties,
        "additionalProperties": not closed,
    }


def _kedro_sections() -> dict[str, Any]:
    """kedro-mlflow's `tracking` and `ui`, open: its versions add keys, which `check` lists."""
    experiment = _section("kedro-mlflow's experiment.", {"name": _typed("str", "The experiment to log to.")})
    run = _section("kedro-mlflow's run.", {"name": _typed("str", "The run name (the tag mlflow.runName).")})
    ui = {"host": _typed("str", "The default of server.host."), "port": _typed("int", "The default of server.port.")}
    return {
        "tracking": _section("kedro-mlflow's tracking options.", {"experiment": experiment, "run": run}),
        "ui": _section("kedro-mlflow's ui options.", ui),
    }
