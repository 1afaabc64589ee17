"""`check` for a team server: what `mlflow server` refuses, and the packages its stores need (SPEC §12).

Packages are looked for (``importlib.util.find_spec``), not imported: a driver
that is not installed fails only when the first run logs, or when the server starts.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

from layered_mlflow import auth_config, keys, server_settings
from layered_mlflow.problems import ERROR, WARNING, Problem, where
from layered_mlflow.resolve import Resolved

# scheme (with its SQLAlchemy driver) -> (module, the pip package, the extra that installs it)
_PACKAGES = {
    "postgresql": ("psycopg2", "psycopg2-binary", "postgres"),  # SQLAlchemy's default driver before 2.1
    "postgresql+psycopg2": ("psycopg2", "psycopg2-binary", "postgres"),
    "postgresql+psycopg": ("psycopg", "psycopg", None),
    "mysql": ("MySQLdb", "mysqlclient", None),
    "mysql+mysqldb": ("MySQLdb", "mysqlclient", None),
    "mysql+pymysql": ("pymysql", "PyMySQL", "mysql"),
    "s3": ("boto3", "boto3", "aws"),
    "gs": ("google.cloud.storage", "google-cloud-storage", "gcs"),
    "wasbs": ("azure.storage.blob", "azure-storage-blob", "azure"),
    "abfss": ("azure.storage.blob", "azure-storage-blob", "azure"),
}
_EXTRA = "pip install 'layered-mlflow[{}]'"


def problems(resolved: Resolved) -> Iterator[Problem]:
    yield from (Problem(ERROR, message) for message in server_settings.refused(resolved, server_settings.apps()))
    yield from _packages(resolved)
    yield from _basic_auth(resolved)


def _packages(resolved: Resolved) -> Iterator[Problem]:
    for setting in resolved.settings.values():
        if setting.key not in keys.URI_KEYS or not isinstance(setting.value, str) or ":" not in setting.value:
            continue
        scheme = setting.value.split(":", 1)[0].lower()
        if scheme not in _PACKAGES:
            continue
        module, package, extra = _PACKAGES[scheme]
        if not _installed(module):
            hint = _EXTRA.format(extra) if extra else f"pip install {package}"
            if scheme in ("mysql", "mysql+mysqldb"):
                hint = "write mysql+pymysql:// and pip install 'layered-mlflow[mysql]', or pip install mysqlclient"
            yield Problem(ERROR, f"{where(resolved, setting)} needs {package}, which is not installed", hint)


def _basic_auth(resolved: Resolved) -> Iterator[Problem]:
    auth = [s for s in resolved.settings.values() if s.key[:2] == ("server", "auth")]
    if not auth_config.applies(resolved):
        if auth:
            yield Problem(
                WARNING,
                f"{where(resolved, auth[0])} does nothing without `server.app_name: basic-auth`",
                "set server.app_name: basic-auth",
            )
        return
    for setting in auth:
        if len(setting.key) == 3 and setting.key[2] not in keys.AUTH_KEYS:
            yield Problem(ERROR, f"{where(resolved, setting)} is not a `server.auth` key", ", ".join(keys.AUTH_KEYS))
    if not _installed("flask_wtf"):
        yield Problem(
            ERROR, "`server.app_name: basic-auth` needs Flask-WTF, which is not installed", _EXTRA.format("auth")
        )
    if "MLFLOW_FLASK_SERVER_SECRET_KEY" not in resolved.variables:
        yield Problem(
            ERROR,
            "`server.app_name: basic-auth` needs MLFLOW_FLASK_SERVER_SECRET_KEY (CSRF protection); "
            "mlflow server refuses to start without it",
            "set it in .env or the environment, the same for every server of the team",
        )
    if "MLFLOW_AUTH_ADMIN_PASSWORD" not in resolved.variables:
        yield Problem(
            WARNING,
            "`server.app_name: basic-auth` creates its admin from MLFLOW_AUTH_ADMIN_USERNAME / "
            "MLFLOW_AUTH_ADMIN_PASSWORD; without a password it refuses to start on an empty user database",
            "set both in .env or the environment (they are secrets)",
        )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing (google.cloud)
        return False
