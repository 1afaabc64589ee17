"""The projects benchmarks/startup.py times: a realistic one, and the inputs of each growth curve."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

BIN = Path(sys.executable).parent
BASE = """\
mlflow_tracking_uri: mlruns
mlflow_experiment_name: churn
mlflow_http_request_timeout: 30
tags:
  project: churn
  team: forecasting
env:
  AWS_DEFAULT_REGION: eu-west-1
  PYTHONHASHSEED: "0"
server:
  port: 5000
  allowed_hosts: [localhost, mlflow]
"""
PRODUCTION = """\
mlflow_tracking_uri: https://mlflow.example.com
mlflow_http_request_max_retries: 3
tags:
  stage: production
env:
  MLFLOW_S3_ENDPOINT_URL: https://s3.example.com
"""
DOTENV = "MLFLOW_TRACKING_USERNAME=alice\nMLFLOW_TRACKING_PASSWORD='s3cr3t'\nDATA_DIR=/data\n"
WARNED = [
    *("--set", "mlflow_http_request_timeout=0", "--set", "mlflow_trace_sampling_ratio=2"),
    *("--set", "server.workers=0"),
]


def realistic(folder: Path) -> dict[str, str]:
    """A base file, an environment file, `.env`; the environment: PATH, HOME, ENV_FOR_DYNACONF, 20 injected."""
    (folder / "settings").mkdir(parents=True)
    (folder / "settings" / "mlflow.yml").write_text(BASE)
    (folder / "settings" / "mlflow.production.yml").write_text(PRODUCTION)
    (folder / ".env").write_text(DOTENV)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(folder), "ENV_FOR_DYNACONF": "production"}
    env.update({f"CI_VARIABLE_{i}": f"value-{i}" for i in range(17)})
    env.update({"MLFLOW_HTTP_REQUEST_TIMEOUT": "60", "MLFLOW_EXPERIMENT_NAME": "ci"})
    env["LAYERED_MLFLOW_TAGS__commit"] = "abc123"
    return env


# The realistic settings as a Kedro project's conf/ (SPEC §10), in kedro-mlflow's shape and without `${`.
KEDRO_BASE = """\
server:
  mlflow_tracking_uri: mlruns
tracking:
  experiment:
    name: churn
"""
KEDRO_PRODUCTION = """\
server:
  mlflow_tracking_uri: https://mlflow.example.com
tracking:
  run:
    name: nightly
"""


def kedro(folder: Path) -> dict[str, str]:
    """The realistic project as Kedro keeps it: pyproject.toml, conf/base, conf/production, `.env`."""
    for name in ("base", "production"):
        (folder / "conf" / name).mkdir(parents=True)
    (folder / "pyproject.toml").write_text('[tool.kedro]\npackage_name = "churn"\n')
    (folder / "conf" / "base" / "mlflow.yml").write_text(KEDRO_BASE)
    (folder / "conf" / "production" / "mlflow.yml").write_text(KEDRO_PRODUCTION)
    env = realistic(folder / "unused")  # the same environment, KEDRO_ENV choosing the folder
    shutil.rmtree(folder / "unused")
    (folder / ".env").write_text(DOTENV)
    return {**env, "HOME": str(folder), "KEDRO_ENV": "production"}


def plain(folder: Path, base: Iterable[str]) -> dict[str, str]:
    """A project of one base file, written line by line; the environment: PATH and HOME (the cache is under HOME)."""
    (folder / "settings").mkdir(parents=True)
    with open(folder / "settings" / "mlflow.yml", "w", encoding="utf-8") as stream:
        stream.writelines(base)  # a line at a time: the benchmark's own memory would count in its children's RSS
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(folder)}


def long_list(size: int) -> Iterator[str]:
    """The lines of a settings file of about ``size`` bytes holding one long list (`server.allowed_hosts`)."""
    yield from ("server:\n", "  allowed_hosts:\n")
    total, i = 30, 0
    while total < size:
        line = f"    - host-{i}.example.com\n"
        yield line
        total += len(line)
        i += 1


def env_entries(count: int, width: int = 0) -> Iterator[str]:
    """The lines of a settings file whose `env` section holds ``count`` variables, values ``width`` or so long."""
    yield "env:\n"
    yield from (f"  VARIABLE_{i}: value-{i}{'x' * width}\n" for i in range(count))


def top_level_keys(count: int) -> Iterator[str]:
    """The lines of a settings file of ``count`` top-level keys (past 1,000 it is refused, after it is composed)."""
    yield from (f"key_{i}: value-{i}\n" for i in range(count))


def nested_brackets(depth: int) -> list[str]:
    """``depth`` nested flow lists: refused before it is parsed (lists nest at most 100 deep)."""
    return [f"tags:\n  deep: {'[' * depth}{']' * depth}\n"]


def environment_files(folder: Path, count: int) -> dict[str, str]:
    """The realistic project with ``count`` other environments' files beside the active one's."""
    env = realistic(folder)
    for i in range(count):
        (folder / "settings" / f"mlflow.env{i}.yml").write_text(PRODUCTION)
    return env


def process_variables(folder: Path, count: int) -> dict[str, str]:
    """The realistic project; its environment PATH, HOME and ``count`` injected variables."""
    env = realistic(folder)
    return {"PATH": env["PATH"], "HOME": env["HOME"], **{f"INJECTED_{i}": f"value-{i}" for i in range(count)}}
