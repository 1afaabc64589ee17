"""`check --online` of local stores: a sqlite database opens, a folder can be written (SPEC §7)."""

from __future__ import annotations

import os
import sqlite3

from layered_mlflow.checks.online.refused import Refused
from layered_mlflow.resolution import uris


def sqlite(uri: str) -> str:
    path = uri[len("sqlite:///") :].partition("?")[0]
    if not os.path.exists(path):
        writable_ancestor(path)
        return "the database does not exist yet; MLflow will create it"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        connection.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise Refused(f"the database does not open ({exc})") from None
    finally:
        connection.close()
    return "the database opens"


def folder(uri: str) -> str:
    path = uris.file_uri_path(uri)
    if os.path.isdir(path):
        if not os.access(path, os.W_OK | os.X_OK):
            raise Refused("the folder is not writable")
        return "the folder exists and is writable"
    writable_ancestor(path)
    return "the folder can be created"


def writable_ancestor(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise Refused(f"cannot be created: {parent} is not a writable folder")
