"""Where a local database store keeps its artifacts: in the project, from any working directory (SPEC §6).

MLflow's client opens a ``sqlite:`` tracking store itself, and gives the
experiments it creates the artifact root ``./mlruns`` of whatever directory the
job started in, unless ``_MLFLOW_SERVER_ARTIFACT_ROOT`` names another
(``_get_sqlalchemy_store`` in ``mlflow/tracking/_tracking_service/utils.py``).
That is a private name: a test pins it against the installed MLflow, and
``check`` warns when the installed MLflow no longer reads it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from layered_mlflow.keys import Key
from layered_mlflow.mlflow_names import variables as mlflow_vars

VARIABLE = "_MLFLOW_SERVER_ARTIFACT_ROOT"
KEY: Key = ("env", VARIABLE)
SOURCE = "mlflow/tracking/_tracking_service/utils.py"
_FUNCTION = re.compile(r"^def _get_sqlalchemy_store\(.*?(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


def applies(tracking_uri: str) -> bool:
    """Only a ``sqlite:`` store: on a database server, the variable would change more than the folder.

    MLflow also takes the variable as the mark of a tracking-server process and
    then refuses artifact locations that name a host (``sftp://``, ``hdfs://``,
    ``http://``), which a team's shared database may well hold.
    """
    return tracking_uri.lower().startswith("sqlite:")


def default(root: Path) -> str:
    """MLflow's own default, ``./mlruns``, anchored to the root."""
    return (root / "mlruns").as_uri()


def read_by(source: str) -> bool:
    """Whether MLflow's ``utils.py`` source, given as text, has ``_get_sqlalchemy_store`` read the variable."""
    function = _FUNCTION.search(source)
    if function is None:
        return False
    quoted = f'"{VARIABLE}"'
    constants = re.findall(rf"^(\w+)\s*=\s*{quoted}\s*$", source, re.MULTILINE)
    return any(re.search(rf"\b{name}\b", function[0]) for name in constants) or quoted in function[0]


@functools.cache
def read_by_installed_mlflow() -> bool | None:
    """Whether the installed MLflow reads the variable (its source, read by path); None without MLflow."""
    package = mlflow_vars.package()
    if package is None:
        return None
    return read_by(mlflow_vars.read(package.parent / SOURCE))
