"""Tokens that expire (SPEC §11): the names of what the command gets for the `token` section.

The command gets ``MLFLOW_TRACKING_AUTH=layered-mlflow`` and the variables below (resolution/derived.py);
layered-mlflow's auth provider (integrations/auth_provider.py), which MLflow calls for every
request, reads them in the command's process (token_sources.py reads the token).
"""

from __future__ import annotations

PROVIDER = "layered-mlflow"  # the entry point's name, and MLFLOW_TRACKING_AUTH's value
AUTH = "MLFLOW_TRACKING_AUTH"
FILE = "LAYERED_MLFLOW_AUTH_FILE"
COMMAND = "LAYERED_MLFLOW_AUTH_COMMAND"  # a JSON array: the argv
TTL = "LAYERED_MLFLOW_AUTH_TTL"
DEFAULT_TTL = 300
