"""In-process table for masking (SPEC §11): what is shown as ``***``, and that it is masked whole."""

from __future__ import annotations

import json

import pytest

from layered_mlflow import masking

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
]


@pytest.mark.parametrize(("name", "value", "shown"), MASKED)
def test_mask(name: str, value: str, shown: str) -> None:
    """A secret name hides the whole value; otherwise URI passwords and embedded keys are hidden."""
    assert masking.Secrets().mask(name, value) == shown


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
    assert masking.Secrets().hidden(variables) == ["MLFLOW_TRACKING_PASSWORD"]
