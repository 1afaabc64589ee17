"""What is secret (SPEC §11) and how it is masked: tables of the pure rules, then the commands."""

from __future__ import annotations

import json

import pytest

from layered_mlflow import LayeredMlflowError, resolve
from layered_mlflow.secrets.masking import MASK, Secrets, is_secret_name, mask_text, printable
from tests.conftest import Project
from tests.test_kedro_layout import PYPROJECT

SECRET_NAMES = [
    *("MLFLOW_TRACKING_PASSWORD", "DB_PASSWD", "MLFLOW_TRACKING_TOKEN", "AWS_SECRET_ACCESS_KEY"),
    *("GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_CONNECTION_STRING", "OPENAI_API_KEY"),
    *("ANTHROPIC_API_KEY", "WANDB_API_KEY", "MY_APIKEY", "AWS_ACCESS_KEY_ID", "SSH_PRIVATE_KEY_PATH"),
    *("AZURE_STORAGE_ACCOUNT_KEY", "STRIPE_KEY", "OTEL_EXPORTER_OTLP_HEADERS", "env.OPENAI_API_KEY"),
    *("tags.deploy_token", "mlflow_tracking_password"),
]
PLAIN_NAMES = ["MLFLOW_TRACKING_URI", "WANDB_ENTITY", "KEYBOARD", "MLFLOW_TRACKING_USERNAME", "HEADERS_X", "tags.team"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    """Every name rule of SPEC §11 makes a name secret, whatever its case or section."""
    assert is_secret_name(name)
    assert is_secret_name(name.lower())


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names(name: str) -> None:
    """Names that match no rule are shown (KEYBOARD only contains KEY; HEADERS_X does not end in it)."""
    assert not is_secret_name(name)


TEXTS = [
    pytest.param("https://alice:pw@host/x", "https://alice:***@host/x", id="uri-password"),
    pytest.param("postgresql://u:p@ss:w/rd@db/x", "postgresql://u:***@db/x", id="password-holding-at"),
    pytest.param("https://u:pa#ss/x?y@host", "https://u:***@host", id="password-holding-hash-slash-query"),
    pytest.param("https://alice@host", "https://alice@host", id="user-without-password"),
    pytest.param("a https://u:p@h b http://v:q@k", "a https://u:***@h b http://v:***@k", id="two-uris"),
    pytest.param("mlruns", "mlruns", id="no-uri"),
    pytest.param(";://x,https://u:pw@h", ";://x,https://u:***@h", id="after-a-scheme-less-separator"),
    pytest.param(
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=K1;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=***;EndpointSuffix=core.windows.net",
        id="azure-account-key",
    ),
    pytest.param("Endpoint=sb://x/;SharedAccessKeyName=n;SharedAccessKey=K2", None, id="shared-access-key"),
    pytest.param("https://a.blob.core.windows.net/c?sv=2022&sig=S1&se=x", None, id="sas-signature"),
    pytest.param("Server=db;Uid=me;Pwd=P1;", "Server=db;Uid=me;Pwd=***;", id="odbc-pwd"),
    pytest.param("postgresql://db/x?user=u&password=P2", "postgresql://db/x?user=u&password=***", id="query-password"),
    pytest.param("python train.py --api_token=T1", "python train.py --api_token=***", id="argument-token"),
]


@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_mask_text(text: str, expected: str | None) -> None:
    """URI passwords and the keys inside connection and query strings become ***, the rest stays."""
    masked = mask_text(text)
    if expected is not None:
        assert masked == expected
    for secret in ("pw", "p@ss:w/rd", "pa#ss", "K1", "K2", "S1", "P1", "P2", "T1"):
        assert f"={secret}" not in masked
        assert f":{secret}@" not in masked


def test_mask_text_of_a_megabyte() -> None:
    """A 1 MB value is masked, and correctly: the whole password up to its last @."""
    password = "p" * 1_000_000
    masked = mask_text(f"https://alice:{password}@host/x")
    assert masked == "https://alice:***@host/x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a" * 1_000_000, "a" * 1_000_000, id="one-long-word"),
        pytest.param("https://u:" + "a" * 1_000_000, "https://u:" + "a" * 1_000_000, id="password-without-at"),
        pytest.param("a://" * 250_000 + "@", f"a://a:{MASK}@", id="many-schemes-one-at"),
        pytest.param("x://u/" * 200_000 + ":@", "x://u/" * 200_000 + ":@", id="users-ending-in-slashes"),
        pytest.param("a=" * 500_000, "a=" * 500_000, id="one-long-pair"),
        pytest.param("_" * 1_000_000 + ";", "_" * 1_000_000 + ";", id="a-name-without-equals"),
        pytest.param("password=" + "x" * 1_000_000, f"password={MASK}", id="a-long-secret-pair"),
    ],
)
def test_mask_text_of_pathological_input(text: str, expected: str) -> None:
    """Inputs that made the old regular expression backtrack (40 kB: 2.6 s; 1 MB: never) are masked right."""
    assert mask_text(text) == expected


JSON_VALUES = [
    pytest.param({"token": ["a-secret"]}, {"token": MASK}, id="list-under-a-secret-name"),
    pytest.param({"x": [{"password": 12345}]}, {"x": [{"password": MASK}]}, id="number-inside-a-list"),
    pytest.param({"auth": {"api_key": "k"}}, {"auth": {"api_key": MASK}}, id="nested-object"),
    pytest.param({"uri": "https://u:pw@h"}, {"uri": "https://u:***@h"}, id="uri-in-a-string"),
    pytest.param([{"secret": "s"}], [{"secret": MASK}], id="top-level-list"),
]


@pytest.mark.parametrize(("document", "expected"), JSON_VALUES)
def test_json_values(document: object, expected: object) -> None:
    """Inside a JSON value, every entry is masked by its own name, however deep."""
    assert json.loads(Secrets().mask("SOME_JSON", json.dumps(document))) == expected


def test_json_without_secrets_is_kept_as_written() -> None:
    """A JSON value with nothing to mask is shown byte for byte, not re-serialised."""
    value = '{"team":   "vision"}'
    assert Secrets().mask("SOME_JSON", value) == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("SOME_JSON", '{"token": "t1",}', id="broken-object"),
        pytest.param("SOME_JSON", '[{"token": "t2"}', id="broken-list"),
        pytest.param("MLFLOW_RUN_CONTEXT", "token=t3", id="run-context-not-json"),
        pytest.param("mlflow_run_context", '["t4"]', id="run-context-not-an-object"),
    ],
)
def test_values_that_cannot_be_read_are_masked_whole(name: str, value: str) -> None:
    """A value that looks like JSON but is not, or a run context that is not an object: *** whole."""
    assert Secrets().mask(name, value) == MASK


def test_listed_names_are_secret_in_every_spelling() -> None:
    """A name of the `secrets` list masks its key, its variable and a tag of that name."""
    secrets = Secrets(frozenset({"WANDB_ENTITY", "FOO", "MLFLOW_X"}))
    for name in ("WANDB_ENTITY", "env.WANDB_ENTITY", "env.FOO", "FOO", "mlflow_x", "MLFLOW_X"):
        assert secrets.mask(name, "v") == MASK
    assert json.loads(secrets.mask("MLFLOW_RUN_CONTEXT", '{"foo": "v", "team": "t"}')) == {"foo": MASK, "team": "t"}


def test_printable_escapes_control_characters() -> None:
    """Text from a server is one line: CR, LF, ESC and NUL are escaped, and it is bounded."""
    assert printable("a\r\nb\x1b[2J\x00") == "a\\x0d\\x0ab\\x1b[2J\\x00"
    assert printable("x" * 1000) == "x" * 200 + "…"


def test_scrub_masks_known_values_in_free_text() -> None:
    """Free text (an argv) loses every secret value, as well as URI passwords."""
    secrets = Secrets(values=("hunter2-value",))
    assert secrets.scrub("curl -H 'X: hunter2-value' https://u:p@h") == "curl -H 'X: ***' https://u:***@h"


# The commands: the `secrets` list, X_FILE values and the wider name rules, end to end.


def test_secrets_list_masks_its_names(project: Project) -> None:
    """`secrets: [...]` masks a variable of `env`, an MLflow variable and a tag, in show and env."""
    project.write(
        "settings/mlflow.yml",
        """\
        secrets: [WANDB_ENTITY, mlflow_experiment_name, tags.owner]
        mlflow_experiment_name: CANARY-experiment
        env:
          WANDB_ENTITY: CANARY-entity
        tags:
          owner: CANARY-owner
          team: vision
        """,
    )
    for args in (("show",), ("show", "--format", "json"), ("env",), ("run", "--dry-run", "--", "true")):
        result = project.cli(*args)
        assert result.returncode == 0, result
        assert "CANARY" not in result.stdout + result.stderr, result
        assert MASK in result.stdout, result
        assert "vision" in result.stdout, result


def test_an_environment_file_replaces_the_secrets_list(project: Project) -> None:
    """`secrets` is a list: the environment file's list replaces the base's, it does not append."""
    project.write("settings/mlflow.yml", "secrets: [FIRST]\nenv:\n  FIRST: one\n  SECOND: two\n")
    project.write("settings/mlflow.production.yml", "secrets: [SECOND]\n")
    shown = json.loads(project.cli("--env", "production", "env", "--format", "json").stdout)
    assert (shown["FIRST"], shown["SECOND"]) == ("one", MASK)


def test_secrets_list_from_the_command_line(project: Project) -> None:
    """`--set secrets=A,B` is comma-separated, as every list key is on the command line."""
    project.write("settings/mlflow.yml", "env:\n  A: one\n  B: two\n  C: three\n")
    shown = json.loads(project.cli("--set", "secrets=A,B", "env", "--format", "json").stdout)
    assert (shown["A"], shown["B"], shown["C"]) == (MASK, MASK, "three")


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("secrets: WANDB_ENTITY", id="a-single-name"),
        pytest.param("secrets: {WANDB_ENTITY: true}", id="a-mapping"),
        pytest.param("secrets: [WANDB_ENTITY, 3]", id="a-number"),
        pytest.param("secrets: [[WANDB_ENTITY]]", id="a-nested-list"),
    ],
)
def test_secrets_list_shape(project: Project, written: str) -> None:
    """Anything but a list of names is exit 2 naming the file and the key, with an example."""
    project.write("settings/mlflow.yml", written + "\n")
    result = project.cli("show")
    assert result.returncode == 2, result
    assert "mlflow.yml: `secrets` must" in result.stderr, result
    assert "for example `secrets: [" in result.stderr, result


def test_secrets_is_a_known_key(project: Project) -> None:
    """`check --strict` knows `secrets`: no "not a layered-mlflow key" warning."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\nsecrets: [WANDB_ENTITY]\n")
    result = project.cli("check", "--strict")
    assert result.returncode == 0, result


def test_a_value_from_an_x_file_is_secret_whatever_its_name(project: Project) -> None:
    """MLFLOW_EXPERIMENT_NAME_FILE's content is masked in show, explain and env; the run still gets it."""
    project.write("settings/mlflow.yml", "env:\n  WANDB_ENTITY: null\n")
    project.write("mounted/name", "CANARY-from-file\n")
    project.write("mounted/entity", "CANARY-entity-file\n")
    env = {"MLFLOW_EXPERIMENT_NAME_FILE": "mounted/name", "WANDB_ENTITY_FILE": "mounted/entity"}
    for args in [("show",), ("explain", "MLFLOW_EXPERIMENT_NAME"), ("env", "--format", "shell")]:
        result = project.cli(*args, env=env)
        assert result.returncode == 0, result
        assert "CANARY" not in result.stdout + result.stderr, result
        assert MASK in result.stdout + result.stderr, result
    child = project.child_env(env=env)
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["WANDB_ENTITY"]) == ("CANARY-from-file", "CANARY-entity-file")


def test_a_listed_tracking_uri_is_masked_by_check_online(project: Project) -> None:
    """`secrets: [mlflow_tracking_uri]` hides the whole URI, in check --online's report too."""
    project.write(
        "settings/mlflow.yml", "secrets: [mlflow_tracking_uri]\nmlflow_tracking_uri: http://127.0.0.1:1/CANARY\n"
    )
    result = project.cli("check", "--online", "--timeout", "1")
    assert result.returncode == 1, result
    assert "***: connection refused" in result.stdout, result
    assert "CANARY" not in result.stdout + result.stderr, result


def test_dry_run_masks_a_secret_value_in_the_command(project: Project) -> None:
    """`run --dry-run -- CMD` hides a secret the shell expanded into CMD's arguments (four characters or more)."""
    env = {"MLFLOW_TRACKING_TOKEN": "CANARY-token-value", "MLFLOW_TRACKING_PASSWORD": "abc"}
    result = project.cli("run", "--dry-run", "--", "curl", "-H", "Bearer CANARY-token-value", "abc", env=env)
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[-1] == "exec curl -H 'Bearer ***' abc", result


# Leaks through values, not names: a value made from a secret, under a name that is not secret.
PASSWORD = "CANARY-pw-71c3"  # noqa: S105 (a canary the outputs must not show)
COMPUTED = [
    pytest.param(
        "settings/mlflow.yml", "mlflow_experiment_name: '@format {env[MLFLOW_TRACKING_PASSWORD]}'\n", id="format"
    ),
    pytest.param(
        "settings/mlflow.yml", "mlflow_experiment_name: '@jinja {{ env.MLFLOW_TRACKING_PASSWORD }}-x'\n", id="jinja"
    ),
    pytest.param(".env", "MLFLOW_EXPERIMENT_NAME=${MLFLOW_TRACKING_PASSWORD}\n", id="dotenv-interpolation"),
    pytest.param("settings/mlflow.yml", "tags:\n  who: '@format {env[DB_PASSWORD]}'\n", id="unresolved-variable"),
]
SHOWING = [
    ("show",),
    ("show", "--format", "json"),
    ("explain", "mlflow_experiment_name"),
    ("explain", "mlflow_experiment_name", "--format", "json"),
    ("env",),
    ("env", "--format", "json"),
    ("run", "--dry-run", "--", "echo", PASSWORD),
    ("check",),
    ("check", "--format", "json"),
    ("check", "--format", "github"),
]


@pytest.mark.parametrize(("path", "text"), COMPUTED)
def test_a_value_made_from_a_secret_is_masked_everywhere(project: Project, path: str, text: str) -> None:
    """Every known secret value is scrubbed from every output, whatever key it landed in (as `op run` does)."""
    project.write(path, text)
    env = {"MLFLOW_TRACKING_PASSWORD": PASSWORD, "DB_PASSWORD": PASSWORD}
    for args in SHOWING:
        result = project.cli(*args, env=env)
        assert result.returncode in (0, 1), result
        assert "CANARY" not in result.stdout + result.stderr, result
    revealed = project.cli("env", "--show-secrets", env=env)
    assert PASSWORD in revealed.stdout


def test_a_secret_copied_by_a_kedro_interpolation_is_masked_everywhere(project: Project) -> None:
    """Issue 26 §2: `tracking.experiment.name: ${oc.env:MLFLOW_TRACKING_PASSWORD}` in a Kedro project's
    conf/ copies a secret into a key that is not secret; every output scrubs it by its value."""
    (project.root / "settings").rmdir()
    project.write("pyproject.toml", PYPROJECT)
    project.write("conf/local/.keep", "")
    project.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: ${oc.env:MLFLOW_TRACKING_PASSWORD}\n")
    env = {"MLFLOW_TRACKING_PASSWORD": PASSWORD}
    for args in SHOWING:
        result = project.cli(*args, env=env)
        assert result.returncode in (0, 1), result
        assert "CANARY" not in result.stdout + result.stderr, result
    assert f'MLFLOW_EXPERIMENT_NAME="{PASSWORD}"' in project.cli("env", "--show-secrets", env=env).stdout


def test_an_error_quoting_a_value_made_from_a_secret_is_scrubbed(project: Project) -> None:
    """An environment named by `.env` as `${MLFLOW_TRACKING_PASSWORD}`: the one-line error shows *** for it."""
    project.write(".env", "ENV_FOR_DYNACONF=${MLFLOW_TRACKING_PASSWORD}\n")
    result = project.cli("show", env={"MLFLOW_TRACKING_PASSWORD": PASSWORD.lower()})
    assert result.returncode == 2, result
    assert "unknown environment '***' (from ENV_FOR_DYNACONF in .env)" in result.stderr, result
    assert "canary" not in result.stderr.lower(), result


@pytest.mark.mlflow
def test_the_experiment_command_masks_a_listed_name(project: Project) -> None:
    """`secrets: [mlflow_experiment_name]`: `experiment` says what it did without the name, even a short one."""
    project.write(
        "settings/mlflow.yml",
        "mlflow_tracking_uri: sqlite:///mlflow.db\nmlflow_experiment_name: xyz\nsecrets: [mlflow_experiment_name]\n",
    )
    result = project.cli("experiment")
    assert result.returncode == 0, result
    assert result.stdout.startswith("note: created experiment '***' (id 1)"), result
    assert "xyz" not in result.stdout + result.stderr, result


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        pytest.param("http://u:pw more-CANARY@127.0.0.1:5000", "more-CANARY", id="uri-password-with-a-space"),
        pytest.param("Server=db;password = CANARY-x;Uid=me", "CANARY", id="pair-with-spaces-around-equals"),
    ],
)
def test_secrets_written_with_spaces_are_masked(project: Project, value: str, secret: str) -> None:
    """A URI password holding a space and `password = x` are masked in show and env."""
    project.write("settings/mlflow.yml", f"env:\n  STORE: '{value}'\n")
    for args in (("show",), ("env",)):
        result = project.cli(*args)
        assert result.returncode == 0, result
        assert secret not in result.stdout + result.stderr, result


def test_a_reused_yaml_anchor_quotes_no_line(project: Project) -> None:
    """YAML lets an anchor be defined again (the later wins); nothing quotes the lines, even with warnings as errors."""
    project.write(
        "settings/mlflow.yml",
        f"first: &x 1\nmlflow_tracking_password: &x {PASSWORD}\nmlflow_tracking_username: *x\n",
    )
    for env in ({}, {"PYTHONWARNINGS": "error"}):
        result = project.cli("show", env=env)
        assert result.returncode == 0, result
        assert "CANARY" not in result.stdout + result.stderr, result


def test_run_warnings_scrub_a_value_made_from_a_secret(project: Project) -> None:
    """`run` warns of what `check` calls errors; a scheme made from a secret is *** there as in `check`."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: '@format {env[MLFLOW_TRACKING_PASSWORD]}://x'\n")
    env = {"MLFLOW_TRACKING_PASSWORD": PASSWORD}
    for args in (("run", "--", "true"), ("check",), ("check", "--format", "json"), ("check", "--format", "github")):
        result = project.cli(*args, env=env)
        assert "unknown scheme '***'" in result.stdout + result.stderr, result
        assert "CANARY" not in result.stdout + result.stderr, result


def test_an_environment_name_made_from_a_dotenv_secret_is_scrubbed(project: Project) -> None:
    """The secret may live in `.env` itself: the error, from the command or from resolve(), shows *** for it."""
    project.write(".env", f"MLFLOW_TRACKING_PASSWORD={PASSWORD}\nENV_FOR_DYNACONF=${{MLFLOW_TRACKING_PASSWORD}}\n")
    result = project.cli("show")
    assert result.returncode == 2, result
    assert "unknown environment '***' (from ENV_FOR_DYNACONF in .env)" in result.stderr, result
    assert "canary" not in result.stderr.lower(), result
    with pytest.raises(LayeredMlflowError) as raised:
        resolve(env=PASSWORD, environ={"DB_TOKEN": PASSWORD}, cwd=project.root)
    assert "canary" not in f"{raised.value} {raised.value.hint}".lower()
