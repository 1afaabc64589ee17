"""In-process table for masking (SPEC §11): what is shown as ``***``, and that it is masked whole."""

from __future__ import annotations

import json

import pytest

from layered_mlflow.secrets import masking

MASKED = [
    pytest.param("MLFLOW_TRACKING_PASSWORD", "pw", "***", id="password-name"),
    pytest.param("MLFLOW_TRACKING_TOKEN", "t", "***", id="token-name"),
    pytest.param("AWS_SECRET_ACCESS_KEY", "k", "***", id="secret-name"),
    pytest.param("AWS_ACCESS_KEY_ID", "AKIA", "***", id="access-key-name"),
    pytest.param("GOOGLE_APPLICATION_CREDENTIALS", "/k.json", "***", id="credential-name"),
    pytest.param("tags.api_token", "t", "***", id="lower-case-key"),
    pytest.param(
        "AZURE_STORAGE_CONNECTION_STRING",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k3y;EndpointSuffix=core.windows.net",
        "***",
        id="connection-string-masked-whole",
    ),
    pytest.param("MLFLOW_TRACKING_PASSWORD", "", "", id="empty-secret-stays-empty"),
    pytest.param("MLFLOW_TRACKING_URI", "https://u:pw@h/x", "https://u:***@h/x", id="uri-password"),
    pytest.param("MLFLOW_TRACKING_URI", "https://u:p@ss@h/x", "https://u:***@h/x", id="uri-password-holding-at"),
    pytest.param("MLFLOW_TRACKING_URI", "https://u@h/x", "https://u@h/x", id="uri-user-only"),
    pytest.param("MLFLOW_TRACKING_URI", "https://h:5000/x", "https://h:5000/x", id="uri-port-is-no-password"),
    pytest.param(
        "MLFLOW_BACKEND_STORE_URI",
        "postgresql://u:pw@db/x and mysql://v:pw2@db/y",
        "postgresql://u:***@db/x and mysql://v:***@db/y",
        id="two-uris",
    ),
    pytest.param(
        "MY_STORAGE",
        "BlobEndpoint=https://a;SharedAccessSignature=sv=1&sig=abc;x=y",
        "BlobEndpoint=https://a;SharedAccessSignature=***&sig=***;x=y",
        id="embedded-signature",
    ),
    pytest.param("MY_STORAGE", "accountkey=abc", "accountkey=***", id="embedded-key-ignores-case"),
    pytest.param("MLFLOW_EXPERIMENT_NAME", "plain", "plain", id="plain-value-unchanged"),
    pytest.param(
        "MLFLOW_TRACKING_PASSWORD",
        "aws-sm:prod/mlflow#password",
        "aws-sm:prod/mlflow#password",
        id="reference-under-secret-name-is-shown",
    ),
    pytest.param("MLFLOW_RUN_CONTEXT", "plain", "***", id="run-context-not-an-object-masked-whole"),
    pytest.param("MLFLOW_RUN_CONTEXT", ' {"team": "a"}', ' {"team": "a"}', id="run-context-leading-space-is-an-object"),
    pytest.param(
        "MLFLOW_RUN_CONTEXT", ' {"api_token": "t"}', '{"api_token": "***"}', id="run-context-leading-space-masked"
    ),
    pytest.param(
        "MY_SETTINGS",
        '[{"token": "t"}, "https://u:pw@h", 1, null]',
        '[{"token": "***"}, "https://u:***@h", 1, null]',
        id="json-list-items-masked-each",
    ),
    pytest.param("MY_SETTINGS", '{"a":1}', '{"a":1}', id="json-without-secrets-kept-as-written"),
]


@pytest.mark.parametrize(("name", "value", "shown"), MASKED)
def test_mask(name: str, value: str, shown: str) -> None:
    """A secret name hides the whole value; otherwise URI passwords and embedded keys are hidden."""
    assert masking.Secrets().mask(name, value) == shown


LISTED = [
    pytest.param("env.WANDB_ENTITY", "team-a", "***", id="listed-key"),
    pytest.param("WANDB_ENTITY", "team-a", "***", id="listed-variable"),
    pytest.param("env.WANDB_ENTITY", "aws-sm:wandb", "***", id="listed-reference-masked"),
    pytest.param("env.WANDB_PROJECT", "aws-sm:wandb", "aws-sm:wandb", id="unlisted-reference-shown"),
    pytest.param("env.WANDB_PROJECT", "p", "p", id="unlisted-name-shown"),
]


@pytest.mark.parametrize(("name", "value", "shown"), LISTED)
def test_mask_listed_names(name: str, value: str, shown: str) -> None:
    """A name in the `secrets` list is masked by key or variable, even when its value is a reference (SPEC §11)."""
    assert masking.Secrets(frozenset({"WANDB_ENTITY"})).mask(name, value) == shown


NAMES = [
    pytest.param("MLFLOW_TRACKING_PASSWORD", True, id="contains-password"),
    pytest.param("DB_PASSWD", True, id="contains-passwd"),
    pytest.param("env.OPENAI_API_KEY", True, id="contains-api-key"),
    pytest.param("MY_APIKEY_1", True, id="contains-apikey"),
    pytest.param("SSH_PRIVATE_KEY_PATH", True, id="contains-private-key"),
    pytest.param("AZURE_STORAGE_ACCOUNT_KEY", True, id="contains-account-key"),
    pytest.param("DATABASE_CONNECTION_STRING", True, id="contains-connection-string"),
    pytest.param("GH_KEY", True, id="ends-in-key"),
    pytest.param("OTEL_EXPORTER_OTLP_HEADERS", True, id="ends-in-headers"),
    pytest.param("tags.api_token", True, id="ignores-case"),
    pytest.param("KEYRING_BACKEND", False, id="key-not-at-the-end"),
    pytest.param("OTEL_HEADERS_X", False, id="headers-not-at-the-end"),
    pytest.param("MLFLOW_TRACKING_USERNAME", False, id="username-is-no-secret"),
    pytest.param("token.command", True, id="token-command-may-hold-one"),
    pytest.param("token.file", False, id="token-file-is-where"),
    pytest.param("token.ttl", False, id="token-ttl-is-how-often"),
    pytest.param("LAYERED_MLFLOW_TOKEN__FILE", False, id="token-file-variable"),
    pytest.param("layered_mlflow_token__ttl", False, id="token-ttl-variable-ignores-case"),
]


@pytest.mark.parametrize(("name", "secret"), NAMES)
def test_is_secret_name(name: str, secret: bool) -> None:
    """The name rules of SPEC §11; where the token is read and how often are no secrets."""
    assert masking.is_secret_name(name) is secret


BARE = [
    pytest.param("env.FOO", "FOO", id="env-entry-is-its-variable"),
    pytest.param("ENV.foo", "FOO", id="section-ignores-case"),
    pytest.param("tags.team", "TEAM", id="tag"),
    pytest.param("server.auth.database_uri", "AUTH.DATABASE_URI", id="only-the-first-part-is-the-section"),
    pytest.param("FOO", "FOO", id="variable-is-itself"),
    pytest.param("mlflow_x", "MLFLOW_X", id="key-spelled-as-its-variable"),
    pytest.param("other.x", "OTHER.X", id="unknown-section-kept"),
]


@pytest.mark.parametrize(("name", "expected"), BARE)
def test_bare(name: str, expected: str) -> None:
    """A key and its variable share one bare name, so `secrets: [env.FOO]` and `[FOO]` mean the same."""
    assert masking.bare(name) == expected


TEXTS = [
    pytest.param("s://u:pw@h", "s://u:***@h", id="one-letter-scheme"),
    pytest.param('uri="s://u:pw@h"', 'uri="s://u:***@h"', id="one-letter-scheme-after-a-quote"),
    pytest.param("https://:pw@h", "https://:***@h", id="password-without-user"),
    pytest.param("://;https://u:pw@h", "://;https://u:***@h", id="leading-separator-is-no-uri-the-next-is"),
    pytest.param("https://u:pw@h,https://v@k", "https://u:***@k", id="masked-up-to-the-words-last-at"),
    pytest.param("https://u@h https://v:pw@k", "https://u@h https://v:***@k", id="each-word-scanned"),
    pytest.param("https://h/@scope/pkg", "https://h/@scope/pkg", id="at-in-the-path-is-no-password"),
    pytest.param(
        "https://a/@x,https://u:pw@b,https://c",
        "https://a/@x,https://u:***@b,https://c",
        id="next-uri-in-the-word-after-a-path-at",
    ),
    pytest.param("Pwd=hunter2;Uid=sa", "Pwd=***;Uid=sa", id="odbc-pwd"),
    pytest.param("P_W_D=hunter2", "P_W_D=***", id="pair-words-ignore-underscores"),
    pytest.param("Sig=abc;sig=x", "Sig=***;sig=***", id="sas-sig-ignores-case"),
    pytest.param("token=", "token=", id="empty-pair-value-stays"),
    pytest.param("http://u:pw more@h/x", "http://u:***@h/x", id="password-holding-a-space"),
    pytest.param("http://u:a b c@h", "http://u:***@h", id="password-holding-spaces"),
    pytest.param("http://u:pw x\ny@h", "http://u:pw x\ny@h", id="no-password-across-lines"),
    pytest.param("http://h:5000 and http://v:q@k", "http://h:5000 and http://v:***@k", id="not-past-the-next-uri"),
    pytest.param("http://h:5000/x", "http://h:5000/x", id="a-port-is-no-password"),
    pytest.param("password = hunter2;x=1", "password = ***;x=1", id="pair-with-spaces-around-equals"),
    pytest.param("Pwd\t=\thunter2", "Pwd\t=\t***", id="pair-with-tabs"),
    pytest.param("team = vision", "team = vision", id="plain-pair-with-spaces-kept"),
    pytest.param("Pwd={a;SECRET};Uid=sa", "Pwd=***;Uid=sa", id="odbc-braced-value"),
    pytest.param("PWD={a}}b;c};x=1", "PWD=***;x=1", id="odbc-braced-value-holding-a-brace"),
    pytest.param("host=db password='a SECRET' user=u", "host=db password=*** user=u", id="libpq-quoted-value"),
    pytest.param(r"password='a\' SECRET' user=u", "password=*** user=u", id="libpq-escaped-quote"),
    pytest.param('Password="a;SECRET";User=u', "Password=***;User=u", id="adonet-quoted-value"),
    pytest.param("Pwd={unclosed;x=1", "Pwd=***;x=1", id="unclosed-brace-masks-as-a-plain-value"),
    pytest.param("team='a b';name={x}", "team='a b';name={x}", id="quoted-values-of-plain-names-kept"),
    pytest.param("a@b http://u:pw x@h", "a@b http://u:***@h", id="an-at-before-the-uri-is-not-its-end"),
    pytest.param("a@b http://u:pw x", "a@b http://u:pw x", id="an-at-before-the-uri-ends-no-password"),
    pytest.param("http://u:pw x@y z@w", "http://u:***@y z@w", id="password-with-a-space-ends-at-the-first-next-word"),
    pytest.param("http://u:pw x@h@k y@z", "http://u:***@k y@z", id="that-words-last-at-and-no-further"),
    pytest.param("http://u:pw x@", "http://u:***@", id="an-at-ending-the-text"),
    pytest.param("http://u:pw a://b@c d://e", "http://u:pw a://b@c d://e", id="not-past-the-first-next-uri"),
    pytest.param("a\nhttp://u:pw x@h", "a\nhttp://u:***@h", id="a-line-before-the-uri-is-no-matter"),
    pytest.param("http://u:pw x@h\nmore", "http://u:***@h\nmore", id="a-line-after-the-at-is-no-matter"),
    pytest.param("http://u:@h", "http://u:***@h", id="empty-password"),
    pytest.param("http://u: x@h", "http://u:***@h", id="password-beginning-with-a-space"),
    pytest.param(
        "http://u:p@h http://v:q@k http://w:r@m",
        "http://u:***@h http://v:***@k http://w:***@m",
        id="every-uri-of-the-text-after-a-password",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_mask_text(text: str, expected: str) -> None:
    """URI passwords (``scheme://user:PASSWORD@``) and connection-string keys become ``***``, nothing else."""
    assert masking.mask_text(text) == expected


def test_scrub() -> None:
    """Free text loses every secret value, longest first, and every URI password."""
    secrets = masking.Secrets(values=("s3cr3t-long", "s3cr3t"))
    assert secrets.scrub("--pw s3cr3t-long s3cr3t https://u:pw@h") == "--pw *** *** https://u:***@h"


VALUES = [
    pytest.param("MLFLOW_EXPERIMENT_NAME", "s3cr3t-long", "***", id="a-plain-name-holding-a-secret-value"),
    pytest.param("tags.who", "by s3cr3t-long today", "by *** today", id="inside-a-value"),
    pytest.param("MY_JSON", '{"a": "s3cr3t-long"}', '{"a": "***"}', id="inside-json"),
    pytest.param("tags.who", "S3CR3T-Long", "***", id="in-any-case"),
    pytest.param("MY_REF", "aws-sm:s3cr3t-long", "aws-sm:s3cr3t-long", id="a-reference-says-where-not-what"),
    pytest.param("MLFLOW_EXPERIMENT_NAME", "plain", "plain", id="no-secret-value-kept"),
]


@pytest.mark.parametrize(("name", "value", "shown"), VALUES)
def test_mask_scrubs_secret_values_under_any_name(name: str, value: str, shown: str) -> None:
    """A value made from a secret is masked by value, whatever the name it is stored under."""
    assert masking.Secrets(values=("s3cr3t-long",)).mask(name, value) == shown


def test_scrubbed_keeps_what_is_worth_scrubbing() -> None:
    """Values of MIN_SCRUBBED characters or more, longest first, once each; no `true`, no reference."""
    kept = masking.scrubbed(["abc", "abcd", "abcdef", "True", "aws-sm:prod#pw", "abcdef"])
    assert kept == ("abcdef", "abcd")
    assert masking.MIN_SCRUBBED == 4


def test_many_secrets_scrub_as_few_do() -> None:
    """Past a few dozen secret values the index by beginning finds the same ones, longest first."""
    values = (*(f"tok{i:04d}" for i in range(500)), "tok0001-longer")
    text = "a tok0001-longer b TOK0499 c tok9999 tok0001"
    expected = "a *** b *** c tok9999 ***"
    assert masking.Secrets(values=values).scrub_values(text) == expected
    assert masking.Secrets(values=(*values[-3:], "tok0001")).scrub_values(text) == expected


MANY = tuple(f"tok{i:04d}" for i in range(40))  # past the few scrubbed with one pattern


@pytest.mark.parametrize(
    ("values", "text", "expected"),
    [
        pytest.param(MANY, "no secret here", "no secret here", id="none-found-text-unchanged"),
        pytest.param(MANY, "ends with tok0039", "ends with ***", id="a-secret-ending-the-text"),
        pytest.param((*MANY, "abcd"), "x abcd", "x ***", id="a-shortest-secret-ending-the-text"),
        pytest.param((*MANY, "abcd"), "abcd", "***", id="the-text-is-a-shortest-secret"),
        pytest.param((*MANY, "abcd", "ABCDEF"), "x abcdef y", "x *** y", id="longest-first-whatever-the-case"),
        pytest.param((*MANY[:1], "abcd", "ABCDEF"), "x abcdef y", "x *** y", id="longest-first-when-few"),
    ],
)
def test_scrub_values(values: tuple[str, ...], text: str, expected: str) -> None:
    """Secret values in free text become ``***``, any case, a secret holding another masked whole; others stay."""
    assert masking.Secrets(values=values).scrub_values(text) == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"MLFLOW_TRACKING_PASSWORD": "pw1234"}, ["pw1234"], id="a-secret-name"),
        pytest.param({"MLFLOW_TRACKING_PASSWORD_FILE": "/run/pw"}, [], id="an-x-file-holds-a-path-no-secret"),
        pytest.param({"TEAM": "vision"}, [], id="a-plain-name"),
        pytest.param({"DB": "postgresql://u:p%40ss@h/db"}, ["p%40ss", "p@ss"], id="a-uris-password-both-spellings"),
        pytest.param({"DB": "postgresql://u@h/db"}, [], id="a-uri-without-password"),
    ],
)
def test_environment_secrets(environ: dict[str, str], expected: list[str]) -> None:
    """The process environment's secret values: secret-named variables (not X_FILE paths) and URI passwords."""
    assert list(masking.environment_secrets(environ)) == expected


PRINTABLE = [
    pytest.param("plain ~ text", "plain ~ text", id="printable-kept"),
    pytest.param("a\x00b\x1f c", "a\\x00b\\x1f c", id="c0-controls-escaped"),
    pytest.param("\x1b[31mred\x7f", "\\x1b[31mred\\x7f", id="escape-and-delete-escaped"),
    pytest.param("\x80\x9f\xa0é", "\\x80\\x9f\xa0é", id="c1-controls-escaped-others-kept"),
    pytest.param("x" * 200, "x" * 200, id="at-the-limit-whole"),
    pytest.param("x" * 201, "x" * 200 + "…", id="over-the-limit-cut"),
]


@pytest.mark.parametrize(("text", "expected"), PRINTABLE)
def test_printable(text: str, expected: str) -> None:
    """A server's answer shown on one line: control characters escaped, at most 200 characters and an ellipsis."""
    assert masking.printable(text) == expected


def test_printable_limit() -> None:
    """The limit is the caller's; the cut is counted before escaping."""
    assert masking.printable("ab\ncd", limit=3) == "ab\\x0a…"


def test_run_context_masks_each_entry_by_its_own_name() -> None:
    """A JSON object's entries are masked by their names, and its other entries stay as written."""
    shown = masking.Secrets().mask("MLFLOW_RUN_CONTEXT", json.dumps({"api_token": "t", "team": "ü", "n": 1}))
    assert json.loads(shown) == {"api_token": "***", "team": "ü", "n": 1}
    assert "ü" in shown


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{not json https://u:pw@h", id="not-json"),
        pytest.param('["https://u:pw@h"]', id="json-list"),
        pytest.param("{https://u:pw@h}", id="brace-then-uri"),
    ],
)
def test_json_lookalike_masks_as_text(value: str) -> None:
    """A value that is not a JSON object is still masked as text."""
    assert "pw" not in masking.Secrets().mask("MLFLOW_RUN_CONTEXT", value)


def test_shown_variables_and_hidden() -> None:
    """`variables` masks unless asked not to; `hidden` names exactly what masking changes."""
    variables = {"MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_EXPERIMENT_NAME": "x"}
    assert masking.Secrets().variables(variables, show_secrets=False) == {
        "MLFLOW_TRACKING_PASSWORD": "***",
        "MLFLOW_EXPERIMENT_NAME": "x",
    }
    assert masking.Secrets().variables(variables, show_secrets=True) == variables
    assert masking.Secrets().variables(variables) == {"MLFLOW_TRACKING_PASSWORD": "***", "MLFLOW_EXPERIMENT_NAME": "x"}
    assert masking.Secrets().hidden(variables) == ["MLFLOW_TRACKING_PASSWORD"]
