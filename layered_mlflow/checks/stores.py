"""`check` for a team server: what `mlflow server` refuses, and the packages its stores need (SPEC §12).

Packages are looked for (``importlib.util.find_spec``), not imported: a driver
that is not installed fails only when the first run logs, or when the server starts.
A driver missing for a store only the server opens is a warning: the machines
that run `check` for training rarely run the server, and `server`/`ui` refuse
to start without it (``refuse_missing``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping

from layered_mlflow import keys
from layered_mlflow.errors import ConfigError
from layered_mlflow.keys import Key
from layered_mlflow.problems import ERROR, WARNING, Problem
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.server import auth_config
from layered_mlflow.server import settings as server_settings

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
# The stores a training job opens itself: its tracking and registry stores, and the artifact locations it
# writes to directly — an experiment's, and `default_artifact_root`, which the server hands to the clients
# as their experiments' location. Every other store key is the server's alone (`artifacts_destination`,
# which it proxies, its databases).
_CLIENT_STORES: frozenset[Key] = frozenset(
    {
        ("mlflow_tracking_uri",),
        ("mlflow_registry_uri",),
        ("experiment", "artifact_location"),
        ("server", "default_artifact_root"),
        ("mlflow_default_artifact_root",),
    }
)


def problems(resolved: Resolved) -> Iterator[Problem]:
    yield from (Problem(ERROR, message) for message in server_settings.refused(resolved, server_settings.apps()))
    yield from _packages(resolved)
    yield from _basic_auth(resolved)


def _packages(resolved: Resolved) -> Iterator[Problem]:
    for setting in resolved.settings.values():
        if setting.key not in keys.URI_KEYS or not isinstance(setting.value, str):
            continue
        missing = _missing(setting.value)
        if missing is None:
            continue
        package, hint = missing
        if setting.key in _CLIENT_STORES:
            yield Problem(ERROR, f"{resolved.where(setting)} needs {package}, which is not installed", hint)
        else:
            yield Problem(
                WARNING,
                f"{resolved.where(setting)} needs {package}, which is not installed here; "
                "`layered-mlflow server` refuses to start without it",
                hint,
            )


def refuse_missing(stores: Mapping[str, str]) -> None:
    """Exit 2 before `mlflow server` starts if a driver one of its ``stores`` needs is not installed.

    ``stores`` maps how each store was given (```server.backend_store_uri```) to its URI.
    """
    for given, uri in stores.items():
        missing = _missing(uri)
        if missing is not None:
            package, hint = missing
            raise ConfigError(f"{given} needs {package}, which is not installed; mlflow server was not started", hint)


def _missing(uri: str) -> tuple[str, str] | None:
    """The package a store at ``uri`` needs and how to install it, when it is not installed."""
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme not in _PACKAGES:
        return None
    module, package, extra = _PACKAGES[scheme]
    if _installed(module):
        return None
    if scheme in ("mysql", "mysql+mysqldb"):
        return package, "write mysql+pymysql:// and pip install 'layered-mlflow[mysql]', or pip install mysqlclient"
    return package, _EXTRA.format(extra) if extra else f"pip install {package}"


def _basic_auth(resolved: Resolved) -> Iterator[Problem]:
    auth = [s for s in resolved.settings.values() if s.key[:2] == ("server", "auth")]
    if not auth_config.applies(resolved):
        if auth:
            yield Problem(
                WARNING,
                f"{resolved.where(auth[0])} does nothing without `server.app_name: basic-auth`",
                "set server.app_name: basic-auth",
            )
        return
    for setting in auth:
        if len(setting.key) == 3 and setting.key[2] not in keys.AUTH_KEYS:
            yield Problem(ERROR, f"{resolved.where(setting)} is not a `server.auth` key", ", ".join(keys.AUTH_KEYS))
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
