"""How long `layered-mlflow check --online` takes against stores that do not answer.

    python benchmarks/check_online.py [--timeout 5] [--runs 3]

Starts nothing but loopback sockets: a port with no listener (refused) and a
listener that accepts into its backlog and never answers (hung). Prints the
median wall time of each, beside the bound. MLflow's own client, with its
defaults, waits about 247 s (refused) and 20 minutes (hung) before failing.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def timed_check(port: int, timeout: float, folder: Path) -> tuple[float, str]:
    command = shutil.which("layered-mlflow", path=str(Path(sys.executable).parent)) or "layered-mlflow"
    env = {"PATH": "/usr/bin:/bin", "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}
    started = time.perf_counter()
    done = subprocess.run(
        [command, "check", "--online", "--timeout", str(timeout)], cwd=folder, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    verdict = next((line.strip() for line in done.stdout.splitlines() if "127.0.0.1" in line), done.stdout.strip())
    return elapsed, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        cases = {"refused": free_port(), "hung": hung.getsockname()[1]}
        print(f"check --online --timeout {args.timeout:g}, median of {args.runs} runs")
        for name, port in cases.items():
            runs = [timed_check(port, args.timeout, Path(folder)) for _ in range(args.runs)]
            median = statistics.median(elapsed for elapsed, _ in runs)
            print(f"  {name:<8} {median:6.2f} s   {runs[0][1]}")


if __name__ == "__main__":
    main()
