"""In-process: what resolution adds or removes beyond the layers' own words (SPEC §6, §9, §10).

The derived variables of a local store (``MLFLOW_ALLOW_FILE_STORE``, ``_MLFLOW_SERVER_ARTIFACT_ROOT``),
paths anchored to the root, the inherited variables the child loses, and the kedro-mlflow keys
outside its schema. tests/test_unit_result.py pins a whole realistic result; these pin the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layered_mlflow import Resolved, resolve
from layered_mlflow.problems import NOTE, WARNING

ARTIFACT_ROOT = "env._MLFLOW_SERVER_ARTIFACT_ROOT"


def at(root: Path, base: str = "", environ: dict[str, str] | None = None, dotenv: str | None = None) -> Resolved:
    """``resolve()`` in ``root``, whose `settings/mlflow.yml` is ``base`` (and `.env` ``dotenv``)."""
    (root / "settings").mkdir(exist_ok=True)
    (root / "settings/mlflow.yml").write_text(base, encoding="utf-8")
    if dotenv is not None:
        (root / ".env").write_text(dotenv, encoding="utf-8")
    return resolve(cwd=root, environ=environ or {})


def origin(result: Resolved, name: str) -> tuple[object, str, str] | None:
    """A setting's value, layer and source; None when no layer and no rule set it."""
    setting = result.settings.get(name)
    return None if setting is None else (setting.value, setting.layer, setting.source)


@pytest.mark.parametrize(
    ("base", "environ", "expected"),
    [
        pytest.param("mlflow_tracking_uri: sqlite:///m.db\n", {}, "derived", id="sqlite-store-gets-the-root-mlruns"),
        pytest.param("mlflow_tracking_uri: SQLite:///m.db\n", {}, "derived", id="sqlite-scheme-ignores-case"),
        pytest.param(
            "mlflow_tracking_uri: sqlite:///m.db\n",
            {"_MLFLOW_SERVER_ARTIFACT_ROOT": "s3://b/a"},
            ("s3://b/a", "process_env", "_MLFLOW_SERVER_ARTIFACT_ROOT"),
            id="explicit-artifact-root-stands",
        ),
        pytest.param("mlflow_tracking_uri: postgresql://db/x\n", {}, None, id="database-server-gets-none"),
        pytest.param("", {}, None, id="file-store-gets-none"),
    ],
)
def test_sqlite_artifact_root(tmp_path: Path, base: str, environ: dict[str, str], expected: object) -> None:
    """A `sqlite:` tracking store puts new experiments' artifacts in `<root>/mlruns` unless the variable is set."""
    result = at(tmp_path, base, environ)
    if expected == "derived":
        expected = ((tmp_path / "mlruns").as_uri(), "derived", "sqlite: tracking store")
    assert origin(result, ARTIFACT_ROOT) == expected


def test_derived_values_are_in_the_history_and_the_variables(tmp_path: Path) -> None:
    """`explain` shows a derived value as the derived layer's word; `run` exports it like any `env` entry."""
    result = at(tmp_path, "mlflow_tracking_uri: sqlite:///m.db\n")
    history = [(c.layer, c.source, c.value) for c in result.history[ARTIFACT_ROOT]]
    assert history == [("derived", "sqlite: tracking store", (tmp_path / "mlruns").as_uri())]
    assert result.variables["_MLFLOW_SERVER_ARTIFACT_ROOT"] == (tmp_path / "mlruns").as_uri()
    assert "MLFLOW_ALLOW_FILE_STORE" not in result.variables


def test_file_store_switch_is_derived_once(tmp_path: Path) -> None:
    """A `file:` store gets MLFLOW_ALLOW_FILE_STORE=true from the derived layer, and no artifact root."""
    result = at(tmp_path)
    assert origin(result, "mlflow_allow_file_store") == ("true", "derived", "file: tracking store")
    history = [(c.layer, c.source, c.value) for c in result.history["mlflow_allow_file_store"]]
    assert history == [("derived", "file: tracking store", "true")]
    assert (result.variables["MLFLOW_ALLOW_FILE_STORE"], origin(result, ARTIFACT_ROOT)) == ("true", None)


@pytest.mark.parametrize(
    ("base", "name", "expected"),
    [
        pytest.param(
            "server:\n  expose_prometheus: metrics\n", "server.expose_prometheus", "metrics", id="server-path"
        ),
        pytest.param("server:\n  expose_prometheus: ./a/../m\n", "server.expose_prometheus", "m", id="normalised"),
        pytest.param("token:\n  file: run/token\n", "token.file", "run/token", id="token-file"),
        pytest.param("server:\n  host: here\n", "server.host", None, id="text-option-as-written"),
    ],
)
def test_paths_are_anchored_to_the_root(tmp_path: Path, base: str, name: str, expected: str | None) -> None:
    """Path keys (`server.expose_prometheus`, `token.file`) resolve against the root, not the working directory."""
    value = at(tmp_path, base).settings[name].value
    assert value == (str(tmp_path / expected) if expected is not None else "here")


def test_home_in_a_path_key_is_the_given_home(tmp_path: Path) -> None:
    """`~` in a path key is the HOME of the environ that resolve() was given."""
    result = at(tmp_path, "server:\n  expose_prometheus: ~/metrics\n", {"HOME": "/given"})
    assert result.settings["server.expose_prometheus"].value == "/given/metrics"


@pytest.mark.parametrize(
    ("environ", "dotenv", "expected"),
    [
        pytest.param({"MLFLOW_TRACKING_PASSWORD_FILE": "pw"}, None, ("MLFLOW_TRACKING_PASSWORD_FILE",), id="inherited"),
        pytest.param({}, "MLFLOW_TRACKING_PASSWORD_FILE=pw\n", (), id="dotenv-file-variable-is-not-inherited"),
        pytest.param(
            {"MLFLOW_RUN_ID": "", "MLFLOW_EXPERIMENT_ID": ""},
            None,
            ("MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"),
            id="empty-mlflow-variables-sorted",
        ),
        pytest.param({"OTHER": ""}, None, (), id="empty-other-variable-kept"),
    ],
)
def test_inherited_variables_the_child_loses(
    tmp_path: Path, environ: dict[str, str], dotenv: str | None, expected: tuple[str, ...]
) -> None:
    """`unset` lists inherited variables only: empty MLFLOW_* and the process environment's X_FILE (SPEC §9)."""
    (tmp_path / "pw").write_text("secret\n", encoding="utf-8")
    assert at(tmp_path, "", environ, dotenv).unset == expected


def test_kedro_keys_outside_its_schema(tmp_path: Path) -> None:
    """A key kedro-mlflow's schema lacks warns with its file; an unapplied one is a note, listed first."""
    result = at(tmp_path, "tracking:\n  nonsense: 1\n  run:\n    nested: true\n")
    assert [(problem.level, problem.message) for problem in result.file_problems] == [
        (NOTE, "tracking.run.nested (settings/mlflow.yml) is a kedro-mlflow key; layered-mlflow does not apply it"),
        (WARNING, "tracking.nonsense (settings/mlflow.yml) is not a kedro-mlflow key; kedro-mlflow refuses it"),
    ]


@pytest.mark.parametrize(
    ("environ", "auth"),
    [
        pytest.param({}, "layered-mlflow", id="token-section-names-the-provider"),
        pytest.param({"MLFLOW_TRACKING_AUTH": "other"}, "other", id="explicit-auth-stands"),
    ],
)
def test_token_section_variables(tmp_path: Path, environ: dict[str, str], auth: str) -> None:
    """A `token.file` gives the command MLFLOW_TRACKING_AUTH=layered-mlflow and the file the provider reads (§11)."""
    result = at(tmp_path, "mlflow_tracking_uri: http://h:5000\ntoken:\n  file: run/token\n", environ)
    variables = {name: value for name, value in result.variables.items() if name != "MLFLOW_RUN_CONTEXT"}
    assert variables == {
        "MLFLOW_TRACKING_URI": "http://h:5000",
        "MLFLOW_TRACKING_AUTH": auth,
        "LAYERED_MLFLOW_AUTH_FILE": str(tmp_path / "run/token"),
        "LAYERED_MLFLOW_ENV": "development",
    }
