"""In-process tables for what one resolved result makes secret (SPEC §11): ``masking.secrets_of``.

Names come from the `secrets` list, `X_FILE` values, fetched references and a Kedro credentials
entry; values are every secret setting's and variable's value and every URI password, to scrub
from free text (an argv, a server's answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from layered_mlflow import Resolved, resolve
from layered_mlflow.secrets.masking import secrets_of
from layered_mlflow.sources.layers import Setting
from tests.test_unit_resolve import resolved

COMMAND = "LAYERED_MLFLOW_AUTH_COMMAND"  # token.command's argv: secret in every result
BASE = "settings/mlflow.yml"
# An unknown nested key (`extra.a`) spells no variable; `tags.owner` neither: neither is read from a file.
ALSO = "extra:\n  a: 1\ntags:\n  owner: me\nmlflow_experiment_name: plain\n"

NAMES = [
    pytest.param({BASE: ALSO}, {}, (), {COMMAND}, id="nothing-listed-only-the-token-command"),
    pytest.param(
        {BASE: "secrets: [WANDB_ENTITY, env.MY_THING, tags.owner]\n" + ALSO},
        {},
        (),
        {"WANDB_ENTITY", "MY_THING", "OWNER", COMMAND},
        id="secrets-list-keys-and-variables-by-bare-name",
    ),
    pytest.param(
        {BASE: ALSO}, {}, ("secrets=WANDB_ENTITY,env.MY_THING",), {"WANDB_ENTITY", "MY_THING", COMMAND}, id="set-list"
    ),
    pytest.param(
        {BASE: "secrets: [WANDB_ENTITY]\n" + ALSO, "pw": "from-a-file\n"},
        {"MLFLOW_TRACKING_PASSWORD_FILE": "pw"},
        (),
        {"WANDB_ENTITY", "MLFLOW_TRACKING_PASSWORD", COMMAND},
        id="x-file-value-whatever-its-name",
    ),
    pytest.param(
        {BASE: "env:\n  WANDB_ENTITY: team\n" + ALSO, "entity": "from-a-file\n"},
        {"WANDB_ENTITY_FILE": "entity"},
        (),
        {"WANDB_ENTITY", COMMAND},
        id="x-file-for-an-env-entry",
    ),
]


@pytest.mark.parametrize(("files", "environ", "overrides", "names"), NAMES)
def test_names(
    tmp_path: Path, files: Mapping[str, str], environ: dict[str, str], overrides: tuple[str, ...], names: set[str]
) -> None:
    """Secret whatever its name: every name in `secrets` (key or variable), every value read from an X_FILE."""
    environ = {name: str(tmp_path / value) for name, value in environ.items()}
    assert secrets_of(resolved(tmp_path, files, environ, overrides=list(overrides))).names == names


def test_fetched_names_join_the_listed(tmp_path: Path) -> None:
    """A key whose secret reference was fetched is secret whatever its name, beside the `secrets` list."""
    result = resolved(tmp_path, {BASE: "secrets: [MY_THING]\nenv:\n  WANDB_ENTITY: aws-sm:wandb\n"})
    result = result._replace(fetched=frozenset({"env.WANDB_ENTITY"}))
    assert secrets_of(result).names == {"MY_THING", "WANDB_ENTITY", COMMAND}


KEDRO = {
    "pyproject.toml": '[tool.kedro]\npackage_name = "demo"\nproject_name = "demo"\nkedro_init_version = "1.0.0"\n',
    "src/demo/settings.py": 'CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}\n',
    "conf/base/mlflow.yml": "server:\n  credentials: mlflow_creds\n",
    "conf/local/credentials.yml": "mlflow_creds:\n  EXTRA: v4lue-x\n",
    "pw": "from-a-file\n",
}


def test_kedro_credentials_names(tmp_path: Path) -> None:
    """The variables of the environment's Kedro credentials entry are secret, beside X_FILE values (SPEC §10)."""
    for relative, text in KEDRO.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    environ = {"MLFLOW_TRACKING_PASSWORD_FILE": str(tmp_path / "pw")}
    found = secrets_of(resolve(cwd=tmp_path, environ=environ))  # no settings/: the Kedro layout
    assert found.names == {"EXTRA", "MLFLOW_TRACKING_PASSWORD", COMMAND}
    assert found.values == ("from-a-file", "v4lue-x")


# Every length differs, so "longest first" is one order.
VALUES = """\
mlflow_tracking_uri: https://u:s%2Fcret9@h/x
mlflow_experiment_name: plain-name
env:
  A_TOKEN: "true"
  B_SECRET: "False"
  C_PASSWORD: abc
  D_API_KEY: abcd
  WANDB_ENTITY: listed-entity-1
secrets: [WANDB_ENTITY]
token:
  command: [get-token-now, --robots]
"""


def test_values_longest_first(tmp_path: Path) -> None:
    """Secret values to scrub, longest first: each item of a secret list, the URI password as written and decoded.

    Shorter than four characters, or `true`/`false` in any case, is no secret to scrub from a command line.
    The `secrets` list's own items are names, not values: not scrubbed, though its key holds SECRET.
    token.command's arguments may carry a credential, its program does not (`check` names a missing one).
    """
    assert secrets_of(resolved(tmp_path, {BASE: VALUES})).values == (
        '["get-token-now", "--robots"]',
        "listed-entity-1",
        "s%2Fcret9",
        "--robots",
        "s/cret9",
        "abcd",
    )


def test_a_secret_setting_without_a_value_scrubs_nothing(tmp_path: Path) -> None:
    """A setting of a secret name whose value is null adds no value to scrub."""
    result: Resolved = resolved(tmp_path, {})
    key = ("mlflow_tracking_password",)
    settings = {**result.settings, "mlflow_tracking_password": Setting(key, None, "command_line", "--set")}
    assert secrets_of(result._replace(settings=settings)).values == ()


def test_a_listed_secret_list_scrubs_each_item(tmp_path: Path) -> None:
    """A list setting the `secrets` list names is secret item by item, its first item too (token.command's
    program alone is no secret)."""
    files = {BASE: "secrets: [server.allowed_hosts]\nserver:\n  allowed_hosts: [host-aaaa, host-bbbbb]\n"}
    assert secrets_of(resolved(tmp_path, files)).values == ("host-bbbbb", "host-aaaa")
