"""In-process tables for the pure rules of SPEC §5 and §6: URI anchoring and key spellings.

The subprocess tests (tests/test_uris.py, tests/test_explain.py) prove the installed
command; these pin every edge of the functions behind it in milliseconds.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError
from layered_mlflow.resolution import uris

ROOT = Path("/p/proj")
HOME = {"HOME": "/home/me"}

ANCHORED = [
    pytest.param("mlruns", "file:///p/proj/mlruns", id="bare-folder"),
    pytest.param("./mlruns/", "file:///p/proj/mlruns", id="dot-slash-trailing"),
    pytest.param("../shared/runs", "file:///p/shared/runs", id="parent-normalised"),
    pytest.param("~", "file:///home/me", id="tilde-alone"),
    pytest.param("~/runs", "file:///home/me/runs", id="tilde-from-environ-HOME"),
    pytest.param("~other/runs", "file:///p/proj/~other/runs", id="tilde-user-is-a-folder-name"),
    pytest.param("/abs/runs", "file:///abs/runs", id="absolute"),
    pytest.param("file:runs", "file:///p/proj/runs", id="file-relative"),
    pytest.param("file:~/runs", "file:///home/me/runs", id="file-tilde"),
    pytest.param("file:///abs/runs", "file:///abs/runs", id="file-absolute-unchanged"),
    pytest.param("sqlite:///mlflow.db", "sqlite:////p/proj/mlflow.db", id="sqlite-relative"),
    pytest.param("sqlite:///~/m.db", "sqlite:////home/me/m.db", id="sqlite-tilde"),
    pytest.param("sqlite:///db/m.db?timeout=20", "sqlite:////p/proj/db/m.db?timeout=20", id="sqlite-query-kept"),
    pytest.param("sqlite:////abs/m.db", "sqlite:////abs/m.db", id="sqlite-absolute-unchanged"),
    pytest.param("sqlite:///:memory:", "sqlite:///:memory:", id="sqlite-memory-unchanged"),
    pytest.param("sqlite:///", "sqlite:///", id="sqlite-empty-path-unchanged"),
    pytest.param("sqlite:///file:m.db?mode=ro&uri=true", "sqlite:///file:m.db?mode=ro&uri=true", id="sqlite-uri-form"),
    pytest.param("databricks", "databricks", id="databricks"),
    pytest.param("databricks-uc", "databricks-uc", id="databricks-uc"),
    pytest.param("uc", "uc", id="unity-catalog"),
    pytest.param("databricks://profile", "databricks://profile", id="databricks-profile"),
    pytest.param("http://127.0.0.1:5000", "http://127.0.0.1:5000", id="http"),
    pytest.param("postgresql+psycopg2://u@db/x", "postgresql+psycopg2://u@db/x", id="scheme-with-plus"),
    pytest.param("s3://bucket/runs", "s3://bucket/runs", id="s3"),
]


@pytest.mark.parametrize(("written", "expected"), ANCHORED)
def test_anchor(written: str, expected: str) -> None:
    """Each URI form of SPEC §6 resolves against the root, `~` against the given environ's HOME."""
    assert uris.anchor(written, ROOT, HOME) == expected


def test_tilde_ignores_the_process_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """`~` is the HOME of the mapping passed in, not of os.environ: resolution is a function of its inputs."""
    monkeypatch.setenv("HOME", "/somewhere/else")
    assert uris.anchor("~/runs", ROOT, {"HOME": "/given"}) == "file:///given/runs"


@pytest.mark.parametrize(
    ("uri", "is_file"),
    [
        pytest.param("file:///p/mlruns", True, id="file-uri"),
        pytest.param("sqlite:///m.db", False, id="sqlite"),
        pytest.param("http://h", False, id="http"),
        pytest.param("mlruns", False, id="unanchored-path"),
    ],
)
def test_is_file_store(uri: str, is_file: bool) -> None:
    """Only a `file:` URI is a file store (the one that needs MLFLOW_ALLOW_FILE_STORE)."""
    assert uris.is_file_store(uri) is is_file


VARIABLES = [
    pytest.param("MLFLOW_TRACKING_URI", ("mlflow_tracking_uri",), id="mlflow-variable"),
    pytest.param("MLFLOW_foo", None, id="mixed-case-spells-nothing"),
    pytest.param("MLFLOW_", None, id="bare-prefix-spells-nothing"),
    pytest.param("mlflow_tracking_uri", None, id="lower-case-spells-nothing"),
    pytest.param("LAYERED_MLFLOW_TAGS__Team", ("tags", "Team"), id="tag-keeps-case"),
    pytest.param("LAYERED_MLFLOW_TAGS__", None, id="tag-without-name"),
    pytest.param("LAYERED_MLFLOW_SERVER__PORT", ("server", "port"), id="server-lower-cased"),
    pytest.param("LAYERED_MLFLOW_SERVER__", None, id="server-without-name"),
    pytest.param(
        "LAYERED_MLFLOW_SERVER__AUTH__DATABASE_URI", ("server", "auth", "database_uri"), id="server-auth-nests-at-__"
    ),
    pytest.param("LAYERED_MLFLOW_SERVER__AUTH__A__B", ("server", "auth", "a__b"), id="server-nests-one-level-only"),
    pytest.param("LAYERED_MLFLOW_TOKEN__TTL", ("token", "ttl"), id="token-lower-cased"),
    pytest.param("LAYERED_MLFLOW_TOKEN__", None, id="token-without-name"),
    pytest.param("AWS_DEFAULT_REGION", ("env", "AWS_DEFAULT_REGION"), id="named-in-env-section"),
    pytest.param("AWS_PROFILE", None, id="not-named-anywhere"),
]


@pytest.mark.parametrize(("variable", "key"), VARIABLES)
def test_key_of_variable(variable: str, key: keys.Key | None) -> None:
    """Layer 6 spells keys as variables (SPEC §5); anything else spells no key."""
    assert keys.key_of_variable(variable, {"AWS_DEFAULT_REGION"}) == key


WRITTEN = [
    pytest.param("MLFLOW_TRACKING_URI", ("mlflow_tracking_uri",), id="variable-spelling"),
    pytest.param("mlflow_tracking_uri", ("mlflow_tracking_uri",), id="key-spelling"),
    pytest.param("server.PORT", ("server", "port"), id="server-key-ignores-case"),
    pytest.param("SERVER.port", ("server", "port"), id="section-ignores-case"),
    pytest.param("tags.Team", ("tags", "Team"), id="tag-keeps-case"),
    pytest.param("tags.mlflow.runName", ("tags", "mlflow.runName"), id="tag-with-dots"),
    pytest.param("server.auth.DATABASE_URI", ("server", "auth", "database_uri"), id="server-auth-ignores-case"),
    pytest.param("experiment.tags.Team", ("experiment", "tags", "Team"), id="experiment-tag-keeps-case"),
    pytest.param("experiment.Artifact_Location", ("experiment", "artifact_location"), id="experiment-key-ignores-case"),
    pytest.param("token.TTL", ("token", "ttl"), id="token-key-ignores-case"),
    pytest.param("env.AWS_DEFAULT_REGION", ("env", "AWS_DEFAULT_REGION"), id="env-entry"),
    pytest.param("env.1BAD", None, id="env-entry-not-a-variable-name"),
    pytest.param("tags.", None, id="section-without-name"),
    pytest.param("nosuch.x", None, id="not-a-section"),
    pytest.param("env", None, id="bare-section"),
    pytest.param("TAGS", None, id="bare-section-upper"),
    pytest.param("1abc", None, id="not-a-name"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("written", "key"), WRITTEN)
def test_parse_key(written: str, key: keys.Key | None) -> None:
    """How `--set` and `explain` read a key: `--set server.PORT=…` is `server.port`."""
    assert keys.parse_key(written) == key


RENDERED = [
    pytest.param(None, None, id="null-says-nothing"),
    pytest.param(True, "true", id="true"),
    pytest.param(False, "false", id="false"),
    pytest.param(5000, "5000", id="int"),
    pytest.param(["a", 1, True], ("a", "1", "true"), id="list-stays-a-list"),
    pytest.param([["é", None]], ('["é", null]',), id="nested-list-is-json-unescaped"),
    pytest.param([{"on": datetime.date(2024, 1, 2)}], ('{"on": "2024-01-02"}',), id="nested-mapping-dates-iso"),
    pytest.param(datetime.date(2024, 1, 2), "2024-01-02", id="date-iso"),
    pytest.param(datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05", id="timestamp-iso-not-str"),
    pytest.param(datetime.time(3, 4), "03:04:00", id="time-iso"),
    pytest.param("2024-01-02", "2024-01-02", id="text-as-written"),
]


@pytest.mark.parametrize(("value", "rendered"), RENDERED)
def test_render(value: object, rendered: keys.Value) -> None:
    """YAML values become the strings a child gets; booleans as true/false (SPEC §5)."""
    assert keys.render(value) == rendered


FROM_TEXT = [
    pytest.param(("server", "allowed_hosts"), "a, b,,c ", ("a", "b", "c"), id="list-key-comma-separated"),
    pytest.param(("server", "allowed_hosts"), "", "", id="list-key-empty-says-nothing"),
    pytest.param(("mlflow_experiment_name",), "a,b", "a,b", id="scalar-byte-for-byte"),
    pytest.param(("mlflow_experiment_name",), None, None, id="none"),
]


@pytest.mark.parametrize(("key", "text", "value"), FROM_TEXT)
def test_from_text(key: keys.Key, text: str | None, value: keys.Value) -> None:
    """Layers 5-7 give lists comma-separated and everything else exactly as written."""
    assert keys.from_text(key, text) == value


@pytest.mark.parametrize(
    ("value", "empty"),
    [
        pytest.param(None, True, id="none"),
        pytest.param("", True, id="empty-string"),
        pytest.param("0", False, id="zero"),
        pytest.param((), False, id="empty-list-replaces"),
    ],
)
def test_is_empty(value: keys.Value, empty: bool) -> None:
    """Only null and '' say nothing; an empty list is a value that replaces (lists never append)."""
    assert keys.is_empty(value) is empty


NAMED = {"mlflow_tracking_uri", "tags.team", "env.AWS_DEFAULT_REGION", "aws_default_region", "server.auth.database_uri"}
MLFLOW_VARIABLES = {"MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"}

FOUND = [
    pytest.param("mlflow_tracking_uri", "mlflow_tracking_uri", id="a-named-key"),
    pytest.param("MLFLOW_TRACKING_URI", "mlflow_tracking_uri", id="a-named-key-as-its-variable"),
    pytest.param("tags.team", "tags.team", id="a-named-tag"),
    pytest.param("LAYERED_MLFLOW_TAGS__team", "tags.team", id="a-named-tag-as-its-variable"),
    pytest.param("env.AWS_DEFAULT_REGION", "env.AWS_DEFAULT_REGION", id="a-named-env-entry"),
    pytest.param("aws_default_region", "aws_default_region", id="the-key-spelling-first"),
    pytest.param("server.auth.DATABASE_URI", "server.auth.database_uri", id="a-named-nested-key"),
    pytest.param("MLFLOW_EXPERIMENT_NAME", "mlflow_experiment_name", id="an-mlflow-variable-no-layer-sets"),
    pytest.param("mlflow_experiment_name", "mlflow_experiment_name", id="an-mlflow-key-no-layer-sets"),
    pytest.param("server.workers", "server.workers", id="a-server-key-no-layer-sets"),
    pytest.param("LAYERED_MLFLOW_SERVER__WORKERS", "server.workers", id="a-server-variable-no-layer-sets"),
]


@pytest.mark.parametrize(("written", "name"), FOUND)
def test_find_key(written: str, name: str) -> None:
    """`explain KEY` takes any spelling of a key a layer names, an MLflow variable, or a `server` key."""
    assert keys.find_key(written, NAMED, MLFLOW_VARIABLES) == name


def test_find_key_env_variable_named_by_a_layer() -> None:
    """A variable the `env` section names is found by its own name, as layer 6 reads it."""
    assert keys.find_key("AWS_PROFILE", {"env.AWS_PROFILE"}, MLFLOW_VARIABLES) == "env.AWS_PROFILE"
    # A `.env` name may hold dots (python-dotenv allows them), and every `.env` variable is an `env` entry.
    assert keys.find_key("A.B.C", {"env.A.B.C"}, MLFLOW_VARIABLES) == "env.A.B.C"


UNKNOWN = [
    pytest.param("mlflow_traking_uri", "did you mean mlflow_tracking_uri?", id="typo-of-a-named-key"),
    pytest.param("MLFLOW_EXPERIMENT_NAM", "did you mean mlflow_experiment_name?", id="typo-of-an-mlflow-variable"),
    pytest.param("server.prot", "did you mean server.port?", id="typo-of-a-server-key"),
    pytest.param("tags.taem", "did you mean tags.team?", id="typo-of-a-tag"),
    pytest.param("tags.x", "`layered-mlflow show` lists the keys", id="another-tag-is-no-typo"),
    pytest.param("port", "`layered-mlflow show` lists the keys", id="a-server-key-needs-its-section"),
    pytest.param("env.NOT_NAMED", "`layered-mlflow show` lists the keys", id="an-env-entry-no-layer-names"),
    pytest.param("nosuch.x", "`layered-mlflow show` lists the keys", id="not-a-key-at-all"),
    pytest.param("tags.", "did you mean tags.team?", id="unparsable-compared-as-written"),
]


@pytest.mark.parametrize(("written", "hint"), UNKNOWN)
def test_find_key_unknown(written: str, hint: str) -> None:
    """Anything else is an error naming what was written, with the closest known key or a pointer to `show`."""
    with pytest.raises(ConfigError) as raised:
        keys.find_key(written, NAMED, MLFLOW_VARIABLES)
    assert (raised.value.message, raised.value.hint) == (
        f"unknown key {written!r}: no layer sets it and it is not an MLflow variable",
        hint,
    )


@given(names=st.lists(st.text(alphabet=st.sampled_from("aZ_09é-. \n\u0660\uff21"), max_size=4), max_size=4))
def test_the_first_wrong_name_of_many_is_the_regexs(names: list[str]) -> None:
    """Checking many `env` names at once (str's methods) finds the same first wrong name as the regex, one by one."""
    expected = next((name for name in names if not keys.is_variable_name(name)), None)
    assert keys.not_a_variable_name(names) == expected


@pytest.mark.parametrize(
    ("written", "key"),
    [
        pytest.param("MLFLOW_TRACKING_PASSWORD=s3cret", "MLFLOW_TRACKING_PASSWORD", id="variable-and-value"),
        pytest.param("tags.team=a=b", "tags.team", id="value-holding-equals-splits-at-the-first"),
        pytest.param("=x", "", id="no-name-before-equals"),
    ],
)
def test_find_key_refuses_key_value(written: str, key: str) -> None:
    """`explain KEY=VALUE` is no key: the error names the key before the first `=`, masks the value, says how."""
    with pytest.raises(ConfigError) as raised:
        keys.find_key(written, NAMED, MLFLOW_VARIABLES)
    assert (raised.value.message, raised.value.hint) == (
        f"{key + '=***'!r} is no key: explain takes a key, not KEY=VALUE",
        f"layered-mlflow explain {key}",
    )
