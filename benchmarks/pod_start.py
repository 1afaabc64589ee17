"""What a pod pays at each start: a fresh process on a read-only filesystem, with or without the image's warm cache.

    python benchmarks/pod_start.py [--runs 30]

A pod starts with an empty cache every time, so without examples/docker/Dockerfile's
warm-up `layered-mlflow run` parses the image's settings files at every start. This
lays out an "image" (the repository's settings/mlflow.yml and mlflow.production.yml),
warms a copy's cache as the Dockerfile does, and times `--env production run -- true`
from each, interleaved, beside `dotenv run -- true` over the same variables. As root,
the timing runs in a mount namespace of its own where the image is read-only, as under
`readOnlyRootFilesystem: true`; otherwise the cache folders are made unwritable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import inputs  # beside this script, which is no package
from startup import Command, run_once

REPO = Path(__file__).parent.parent
SETTINGS = ("mlflow.yml", "mlflow.production.yml")  # what the Dockerfile bakes in
READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def image(root: Path, warm: bool) -> dict[str, str]:
    """An image's /app under ``root``: its settings and its cache folder, warmed as the Dockerfile does if ``warm``."""
    (root / "settings").mkdir(parents=True)
    for name in SETTINGS:
        shutil.copy(REPO / "settings" / name, root / "settings" / name)
    (root / ".cache").mkdir(mode=0o700)
    env = {
        "PATH": f"{inputs.BIN}:/usr/bin:/bin",
        "XDG_CACHE_HOME": str(root / ".cache"),
        "LAYERED_MLFLOW_PROJECT_DIR": str(root),
        "HOME": "/nonexistent",
    }
    wrapper = str(inputs.BIN / "layered-mlflow")
    if warm:
        for args in (["show"], ["--env", "production", "show"]):
            subprocess.run([wrapper, *args], env=env, cwd="/", stdout=subprocess.DEVNULL, check=True)
    with (root / "pod.env").open("wb") as dotenv:  # the same variables, for dotenv's row
        unkept = {**env, "LAYERED_MLFLOW_NO_CACHE": "1"}  # a cold image stays cold
        subprocess.run([wrapper, "--env", "production", "env", "--show-secrets"], env=unkept, stdout=dotenv, check=True)
    if os.geteuid() != 0:
        (root / ".cache").chmod(0o500)  # nothing written during the runs, as on a read-only filesystem
    return env


def measure(root: Path, runs: int) -> None:
    """The interleaved runs and the table; in the read-only namespace when started as root."""
    true = shutil.which("true") or "/bin/true"
    wrapper, dotenv = str(inputs.BIN / "layered-mlflow"), str(inputs.BIN / "dotenv")
    rows = []
    for label, folder in (("layered-mlflow run, cold image", "cold"), ("layered-mlflow run, warm image", "warm")):
        env = {
            "PATH": f"{inputs.BIN}:/usr/bin:/bin",
            "XDG_CACHE_HOME": str(root / folder / ".cache"),
            "LAYERED_MLFLOW_PROJECT_DIR": str(root / folder),
            "HOME": "/nonexistent",
        }
        rows.append(Command(label, [wrapper, "--env", "production", "run", "--", true], env, Path("/")))
    pod_env = str(root / "cold" / "pod.env")
    rows.insert(0, Command("dotenv run -- true", [dotenv, "-f", pod_env, "run", "--", true], rows[0].env, Path("/")))
    for command in rows:
        run_once(command)  # the page cache and .pyc files, as a node that pulled the image has them
    wall: dict[str, list[float]] = {command.label: [] for command in rows}
    for _ in range(runs):
        for command in rows:
            wall[command.label].append(run_once(command)[0])
    baseline = statistics.median(wall[rows[0].label])
    written = sorted(str(p.relative_to(root)) for p in (root / "cold" / ".cache").rglob("*"))
    print(f"{runs} interleaved runs each; read-only image: {os.geteuid() == 0}; written by the cold runs: {written}")
    print(f"{'command':<34} {'median':>9} {'vs dotenv run':>14}")
    for command in rows:
        seconds = statistics.median(wall[command.label])
        print(f"{command.label:<34} {seconds * 1000:7.1f} ms {seconds / baseline:13.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # inside the read-only namespace: the laid-out root
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure), args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        image(root / "cold", warm=False)
        image(root / "warm", warm=True)
        again = [sys.executable, __file__, "--runs", str(args.runs), "--measure", str(root)]
        if os.geteuid() == 0:
            again = ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY, "pod", tmp, *again]
        subprocess.run(again, check=True)


if __name__ == "__main__":
    main()
