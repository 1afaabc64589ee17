"""`check`: an experiment named and numbered at once, judged as MLflow judges it.

MLflow (``mlflow.tracking.fluent._get_experiment_id_from_env``) looks the name up:
an experiment of that name with another id makes every run fail; no experiment of
that name is created, and the id is ignored; the same id is fine. Only the store
knows which, so local stores are read here (read-only, never created).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from layered_mlflow.mlflow_names import variables as mlflow_vars
from layered_mlflow.problems import ERROR, NOTE, WARNING, Problem
from layered_mlflow.resolution import uris
from layered_mlflow.resolution.resolve import Resolved

_ABSENT = ""  # no experiment of that name in the store


def problems(resolved: Resolved) -> Iterator[Problem]:
    quoted = unsearchable(resolved)
    if quoted is not None:
        yield quoted
    refused = unstorable(resolved)
    if refused is not None:
        yield refused
    name, number = resolved.settings.get("mlflow_experiment_name"), resolved.settings.get("mlflow_experiment_id")
    if name is None or number is None or not isinstance(name.value, str) or not isinstance(number.value, str):
        return
    both = f"{resolved.where(name)} and {resolved.where(number)}"  # values unquoted: `secrets` may list them
    found = _experiment_id(resolved.variables.get("MLFLOW_TRACKING_URI", ""), name.value)
    if found is None:
        yield Problem(NOTE, f"{both}: MLflow fails unless that experiment has that id (a remote store: not looked up)")
    elif found == _ABSENT:
        yield Problem(WARNING, f"{both}: no experiment has that name, so MLflow creates one and ignores the id")
    elif found != number.value:
        yield Problem(
            ERROR, f"{both}: that experiment's id is {found}, so MLflow refuses to start a run", "keep one of them"
        )


def unsearchable(resolved: Resolved) -> Problem | None:
    """An experiment name holding ``'`` in a file store, which MLflow cannot look up, nor so create one.

    MLflow's ``FileStore.get_experiment_by_name`` pastes the name into a search
    filter (``name = 'b'hello, ''``), which then fails to parse: every run, and
    ``mlflow.set_experiment``, fail with "Invalid clause(s) in filter string".
    """
    name = resolved.settings.get("mlflow_experiment_name")
    if name is None or not isinstance(name.value, str) or "'" not in name.value:
        return None
    if not uris.is_file_store(resolved.variables.get("MLFLOW_TRACKING_URI", "")):
        return None  # a database or a server looks the name up as a value
    return Problem(
        ERROR,
        f"{resolved.where(name)} holds a quote ('), and MLflow's file store cannot look up or create "
        "an experiment so named (it pastes the name into a search filter)",
        "write the name without ', or log to a database: mlflow_tracking_uri: sqlite:///mlflow.db",
    )


def unstorable(resolved: Resolved) -> Problem | None:
    """An experiment name MLflow's stores refuse: longer than ``MAX_EXPERIMENT_NAME_LENGTH`` (500), or not UTF-8."""
    name, most = (
        resolved.settings.get("mlflow_experiment_name"),
        mlflow_vars.validation_limit("MAX_EXPERIMENT_NAME_LENGTH"),
    )
    if name is None or not isinstance(name.value, str):
        return None
    if most is not None and len(name.value) > most:
        return Problem(
            ERROR,
            f"{resolved.where(name)} is {len(name.value)} characters long, and MLflow refuses an experiment name "
            f"over {most}",
            "shorten the name",
        )
    if not name.value.isascii() and any("\udc80" <= character <= "\udcff" for character in name.value):
        return Problem(
            ERROR,
            f"{resolved.where(name)} holds bytes that are not UTF-8, and MLflow stores experiment names as text",
            "write the name in UTF-8",
        )
    return None


def _experiment_id(tracking_uri: str, name: str) -> str | None:
    """The id of experiment ``name`` in a local store, ``_ABSENT`` if it has none; None: not a local store."""
    if tracking_uri.startswith("sqlite:///"):
        return _from_sqlite(Path(tracking_uri.removeprefix("sqlite:///")), name)
    if uris.is_file_store(tracking_uri):
        return _from_folder(Path(uris.file_uri_path(tracking_uri)), name)
    return None


def _from_sqlite(path: Path, name: str) -> str:
    if not path.is_file():
        return _ABSENT  # MLflow would create the database, and the experiment in it
    import sqlite3  # only here: `run` warns from these checks, and most stores are no local database
    from urllib.parse import quote

    try:
        with sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True) as db:
            row = db.execute("SELECT experiment_id FROM experiments WHERE name = ?", (name,)).fetchone()
    except sqlite3.Error:
        return _ABSENT  # not an MLflow database yet: MLflow creates its tables first
    return _ABSENT if row is None else str(row[0])


def _from_folder(folder: Path, name: str) -> str:
    """A file store keeps ``<id>/meta.yaml`` (deleted ones under ``.trash``, which still hold the name)."""
    from dynaconf.vendor.ruamel import yaml

    for meta in [*folder.glob("*/meta.yaml"), *folder.glob(".trash/*/meta.yaml")]:
        try:
            data = yaml.YAML(typ="safe", pure=True).load(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("name") == name and "experiment_id" in data:
            return str(data["experiment_id"])
    return _ABSENT
