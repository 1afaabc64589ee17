"""Credentials MLflow's client finds outside the variables: ``~/.mlflow/credentials`` (mlflow/utils/credentials.py)."""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping


def file_credentials(environment: Mapping[str, str]) -> tuple[str, str]:
    """Username and password of the ``[mlflow]`` section of ``~/.mlflow/credentials``; empty where it says none."""
    home = environment.get("HOME")
    if not home:
        return "", ""
    config = configparser.ConfigParser()  # as MLflow reads it, `%` interpolation included
    try:
        config.read(os.path.join(home, ".mlflow", "credentials"), encoding="utf-8")
        if not config.has_section("mlflow"):
            return "", ""
        section = config["mlflow"]
        return section.get("mlflow_tracking_username", ""), section.get("mlflow_tracking_password", "")
    except (configparser.Error, UnicodeDecodeError):
        return "", ""  # MLflow's client fails on it too; `check` then reports the refusal the server gives
