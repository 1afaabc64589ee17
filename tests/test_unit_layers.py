"""In-process tables for the layers of SPEC §3: what a settings file and `--set` contribute, and their errors.

tests/test_stores.py, tests/test_required.py and tests/test_explain.py prove the installed command;
these pin each rule of layers.py (a file's keys, lists and nested mappings, its refused
interpolations, a malformed `--set`) in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layered_mlflow.errors import ConfigError, UsageError
from layered_mlflow.sources.layers import CommandLine, Setting, SettingsFile


def contributions(tmp_path: Path, text: str) -> list[tuple[tuple[str, ...], object, str]]:
    """What ``settings/mlflow.yml`` holding ``text`` contributes, as (key, value, source)."""
    path = tmp_path / "settings" / "mlflow.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    found = SettingsFile("base", path, {}).contributions()
    assert all(isinstance(c, Setting) and (c.layer, c.source) == ("base", str(path)) for c in found)
    return [(c.key, c.value, c.source.removeprefix(str(tmp_path) + "/")) for c in found]


def refusal(tmp_path: Path, text: str) -> tuple[str, str | None]:
    """The message (less the file's path) and hint of the ConfigError a file holding ``text`` raises."""
    with pytest.raises(ConfigError) as raised:
        contributions(tmp_path, text)
    return raised.value.message.removeprefix(f"{tmp_path}/settings/mlflow.yml: "), raised.value.hint


SRC = "settings/mlflow.yml"

CONTRIBUTED = [
    pytest.param(
        "secrets: [WANDB_ENTITY, env.FOO]\nrequired: [MLFLOW_TRACKING_URI]\n",
        [(("secrets",), ("WANDB_ENTITY", "env.FOO"), SRC), (("required",), ("MLFLOW_TRACKING_URI",), SRC)],
        id="name-lists-are-tuples-of-names",
    ),
    pytest.param("secrets: []\n", [(("secrets",), (), SRC)], id="an-empty-name-list-replaces"),
    pytest.param("required: null\n", [(("required",), None, SRC)], id="a-null-name-list-says-nothing"),
    pytest.param(
        "server:\n  auth:\n    database_uri: sqlite:///a.db\n  PORT: 5001\n",
        [(("server", "auth", "database_uri"), "sqlite:///a.db", SRC), (("server", "port"), "5001", SRC)],
        id="server-auth-is-a-mapping-and-the-keys-after-it-count",
    ),
    pytest.param(
        "experiment:\n  tags:\n    Team: vision\n  artifact_location: s3://b/x\n",
        [(("experiment", "tags", "Team"), "vision", SRC), (("experiment", "artifact_location"), "s3://b/x", SRC)],
        id="experiment-tags-keep-their-case-and-the-keys-after-them-count",
    ),
    pytest.param("server:\n  auth: null\n", [(("server", "auth"), None, SRC)], id="a-null-nested-mapping-says-nothing"),
    pytest.param(
        "tags:\n  note: ${not.a.uri}\nenv:\n  HOME_DIR: $HOME/x\nmlflow_tracking_uri: $HOME/runs\n",
        [
            (("tags", "note"), "${not.a.uri}", SRC),
            (("env", "HOME_DIR"), "$HOME/x", SRC),
            (("mlflow_tracking_uri",), "$HOME/runs", SRC),
        ],
        id="interpolation-outside-uris-and-a-bare-dollar-pass-as-written",
    ),
    pytest.param(
        "server:\n  Host: 127.0.0.1\n  APP_NAME: basic-auth\n",
        [(("server", "host"), "127.0.0.1", SRC), (("server", "app_name"), "basic-auth", SRC)],
        id="a-section-of-strings-lower-cases-server-keys-too",
    ),
    pytest.param(
        "zz: 1\nyy:\n  a:\n    b: x\n",
        [(("zz",), "1", SRC), (("yy", "a", "b"), "x", SRC)],
        id="unknown-keys-and-mappings-keep-their-layer",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CONTRIBUTED)
def test_settings_file_contributions(tmp_path: Path, text: str, expected: list[object]) -> None:
    """A settings file gives each key its value and its file; `server.auth` and `experiment.tags` nest (SPEC §5)."""
    assert contributions(tmp_path, text) == expected


REFUSED = [
    pytest.param(
        "secrets: WANDB_ENTITY\n",
        "`secrets` must be a list of key or variable names, not a single value (str)",
        "for example `secrets: [WANDB_ENTITY, env.MY_VARIABLE]`",
        id="secrets-not-a-list",
    ),
    pytest.param(
        "required:\n  a: 1\n",
        "`required` must be a list of key or variable names, not a mapping",
        "for example `required: [WANDB_ENTITY, env.MY_VARIABLE]`",
        id="required-a-mapping",
    ),
    pytest.param(
        "required: [MLFLOW_TRACKING_URI, 1]\n",
        "`required` must hold only names (strings)",
        "for example `required: [WANDB_ENTITY, env.MY_VARIABLE]`",
        id="a-name-list-holds-a-number",
    ),
    pytest.param(
        "secrets: [WANDB_ENTITY, '']\n",
        "`secrets` must hold only names (strings)",
        "for example `secrets: [WANDB_ENTITY, env.MY_VARIABLE]`",
        id="a-name-list-holds-an-empty-name",
    ),
    pytest.param(
        "mlflow_tracking_uri: ${oc.env:MLFLOW_TRACKING_URI}\n",
        "`mlflow_tracking_uri` holds a ${…} interpolation, which settings files do not evaluate",
        "write the URI itself; MLFLOW_TRACKING_URI in the environment wins over every file anyway",
        id="tracking-uri-interpolated",
    ),
    pytest.param(
        "server:\n  backend_store_uri: sqlite:///${USER}.db\n",
        "`server.backend_store_uri` holds a ${…} interpolation, which settings files do not evaluate",
        "write the URI itself; LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI in the environment wins over every file anyway",
        id="server-store-interpolated",
    ),
    pytest.param(
        "server:\n  auth:\n    database_uri: ${oc.env:AUTH_DB}\n",
        "`server.auth.database_uri` holds a ${…} interpolation, which settings files do not evaluate",
        "write the URI itself; LAYERED_MLFLOW_SERVER__AUTH__DATABASE_URI in the environment wins over every file "
        "anyway",
        id="server-auth-uri-names-its-nested-variable",
    ),
    pytest.param(
        "experiment:\n  artifact_location: s3://${BUCKET}/x\n",
        "`experiment.artifact_location` holds a ${…} interpolation, which settings files do not evaluate",
        "write the URI itself",
        id="experiment-uri-has-no-variable-to-name",
    ),
    # Of two errors in one file, the same one is said whichever path (one comprehension or a loop) reads it.
    pytest.param(
        "mlflow_tracking_uri: ${oc.env:X}\nenv: [a, b]\n",
        "`env` must be a mapping of names to values, not a list",
        "write `env:` followed by indented `NAME: value` lines",
        id="the-file-is-read-whole-before-a-uri-is-refused",
    ),
    pytest.param(
        "env:\n  A: [1, 2]\n  1B: x\n",
        "`env.A` is a list, but it needs a single value",
        "write it as a string, number or boolean",
        id="an-entry-s-value-before-a-later-entry-s-name",
    ),
    pytest.param(
        "env:\n  1B: x\n  A: [1, 2]\n",
        "`env` entry '1B' is not a variable name",
        "use letters, digits and underscores, not starting with a digit",
        id="an-entry-s-name-before-a-later-entry-s-value",
    ),
    pytest.param(
        "env:\n  A: x\n  1B: y\n",
        "`env` entry '1B' is not a variable name",
        "use letters, digits and underscores, not starting with a digit",
        id="a-wrong-name-among-strings",
    ),
]


@pytest.mark.parametrize(("text", "message", "hint"), REFUSED)
def test_settings_file_refusals(tmp_path: Path, text: str, message: str, hint: str) -> None:
    """A name list that is not a list of names, or a URI holding `${…}` (SPEC §6, §11), names the key and the fix."""
    assert refusal(tmp_path, text) == (message, hint)


ECHOED = "expected KEY=VALUE, one argument"
NOT_SHOWN = "--set: an argument without '=' (not shown: it may be a value)"
AS_ONE = "write --set KEY=VALUE as one argument, for example --set tags.team=vision"
BAD_KEY = "expected KEY=VALUE with KEY like mlflow_tracking_uri, tags.NAME, env.VARIABLE or server.NAME"

MALFORMED = [
    pytest.param("tags.team", f"--set tags.team: {ECHOED}", "write --set tags.team=VALUE", id="a-dotted-key-is-echoed"),
    pytest.param(
        "MLFLOW_TRACKING_URI",
        f"--set MLFLOW_TRACKING_URI: {ECHOED}",
        "write --set MLFLOW_TRACKING_URI=VALUE",
        id="an-mlflow-variable-is-echoed",
    ),
    pytest.param(
        "mlflow_x vision", f"--set mlflow_x: {ECHOED}", "write --set mlflow_x=VALUE", id="only-the-name-is-echoed"
    ),
    pytest.param("nosuch.thing", NOT_SHOWN, AS_ONE, id="a-dotted-word-that-is-no-key-may-be-a-value"),
    pytest.param("hunter2", NOT_SHOWN, AS_ONE, id="a-bare-word-may-be-a-value"),
    pytest.param("@s3cr3t", NOT_SHOWN, AS_ONE, id="no-name-at-the-start"),
    pytest.param(
        "not a key=a=b",
        f"--set 'not a key': {BAD_KEY}",
        "for example --set tags.team=vision",
        id="the-key-ends-at-the-first-equals",
    ),
    pytest.param("=x", f"--set '': {BAD_KEY}", "for example --set tags.team=vision", id="an-empty-key"),
]


@pytest.mark.parametrize(("assignment", "message", "hint"), MALFORMED)
def test_malformed_set(assignment: str, message: str, hint: str) -> None:
    """A `--set` that is not KEY=VALUE is a usage error; without `=` only a sure key is echoed (it may be a value)."""
    with pytest.raises(UsageError) as raised:
        CommandLine("command line", [assignment]).contributions()
    assert (raised.value.message, raised.value.hint) == (message, hint)
