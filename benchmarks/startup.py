"""What `layered-mlflow` costs in front of a job, beside `dotenv run` measured in the same run.

    python benchmarks/startup.py [--runs 30]

On a realistic project (a base file, an environment file, `.env`, 20 injected
variables) it times whole processes, interleaved so that machine noise hits
every command alike, and prints the median of each after a warm-up, with its
ratio to `dotenv run -- true`. It also times `resolve()` in-process and reads
the wrapper's peak RSS (Linux keeps the high-water mark across exec, so the
figure for `run -- true` is the wrapper's own, measured before exec).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
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
_WARNED = [
    *("--set", "mlflow_http_request_timeout=0", "--set", "mlflow_trace_sampling_ratio=2"),
    *("--set", "server.workers=0"),
]
# The same settings as a Kedro project's conf/ (SPEC §10), in kedro-mlflow's shape and without `${`.
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
DOTENV = "MLFLOW_TRACKING_USERNAME=alice\nMLFLOW_TRACKING_PASSWORD='s3cr3t'\nDATA_DIR=/data\n"


def make_project(folder: Path) -> dict[str, str]:
    """The project files, and the environment: PATH, HOME, ENV_FOR_DYNACONF and 20 injected variables."""
    (folder / "settings").mkdir()
    (folder / "settings" / "mlflow.yml").write_text(BASE)
    (folder / "settings" / "mlflow.production.yml").write_text(PRODUCTION)
    (folder / ".env").write_text(DOTENV)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(folder), "ENV_FOR_DYNACONF": "production"}
    env.update({f"CI_VARIABLE_{i}": f"value-{i}" for i in range(17)})
    env.update({"MLFLOW_HTTP_REQUEST_TIMEOUT": "60", "MLFLOW_EXPERIMENT_NAME": "ci"})
    env["LAYERED_MLFLOW_TAGS__commit"] = "abc123"
    return env


def make_kedro_project(folder: Path) -> Path:
    """A Kedro project beside the settings/ one: pyproject.toml, conf/base, conf/production, `.env`."""
    root = folder / "kedro"
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "production").mkdir()
    (root / "pyproject.toml").write_text('[tool.kedro]\npackage_name = "churn"\n')
    (root / "conf" / "base" / "mlflow.yml").write_text(KEDRO_BASE)
    (root / "conf" / "production" / "mlflow.yml").write_text(KEDRO_PRODUCTION)
    (root / ".env").write_text(DOTENV)
    return root


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process, started in the working directory."""
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=_quiet())
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed with {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss


def _quiet() -> list[tuple[int, int, str, int, int]]:
    return [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]


def in_process(folder: Path, env: dict[str, str], runs: int) -> float:
    import layered_mlflow

    layered_mlflow.resolve(project_dir=folder, environ=env)  # warm: imports, Dynaconf
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        layered_mlflow.resolve(project_dir=folder, environ=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    wrapper, dotenv = shutil.which("layered-mlflow", path=str(BIN)), shutil.which("dotenv", path=str(BIN))
    if wrapper is None or dotenv is None:
        raise SystemExit("install the project first: pip install -e '.[test]' (dotenv's CLI comes with it)")
    true = shutil.which("true") or "/bin/true"
    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name)
    env, kedro = make_project(folder), make_kedro_project(folder)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "dotenv run -- true": [dotenv, "run", "--", true],
        "layered-mlflow run -- true": [wrapper, "run", "--", true],
        # The same with three values `check` calls errors, which `run` warns about.
        "  ... with 3 warnings": [wrapper, *_WARNED, "run", "--", true],
        # The same settings in a Kedro project's conf/; ENV_FOR_DYNACONF=production chooses conf/production.
        "  ... in a Kedro project": [wrapper, "--project-dir", str(kedro), "run", "--", true],
        "layered-mlflow env": [wrapper, "env"],
        "layered-mlflow show": [wrapper, "show"],
    }
    with tmp:
        os.chdir(folder)
        for argv in commands.values():  # warm-up: page cache, .pyc files
            run_once(argv, env)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        rss: dict[str, list[int]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                elapsed, peak = run_once(argv, env)
                wall[name].append(elapsed)
                rss[name].append(peak)
        resolve_seconds = in_process(folder, env, args.runs)
    baseline = statistics.median(wall["dotenv run -- true"])
    python = sys.version.split()[0]
    print(f"{args.runs} interleaved runs each, after a warm-up; Python {python}, {os.cpu_count()} cores")
    print(f"{'command':<28} {'median':>9} {'vs dotenv run':>14} {'peak RSS':>10}")
    for name in commands:
        median = statistics.median(wall[name])
        print(f"{name:<28} {median * 1000:7.1f} ms {median / baseline:13.2f}x {max(rss[name]) / 1024:7.1f} MiB")
    print(f"{'resolve() in-process, warm':<28} {resolve_seconds * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
