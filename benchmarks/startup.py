"""What `layered-mlflow` costs in front of a job, beside `dotenv run` measured in the same run.

    python benchmarks/startup.py [--runs 30] [--quick]

It times whole processes, interleaved so that machine noise hits every command
alike, and prints the median of each after a warm-up, with its ratio to
`dotenv run -- true` and its peak RSS (Linux keeps the high-water mark across
exec, so the figure for `run -- true` is the wrapper's own, before exec). The
cache of parsed settings files is warm unless a row says cold (its folder is
removed before each such run). Then the growth of `run -- true` with each kind
of input, and the exponent fitted to the cost above the realistic project's.
``--quick`` shrinks the large inputs a hundredfold (the docs' test runs
it): the same rows, other numbers.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import inputs  # beside this script, which is no package

MB = 1_000_000
COLD_KEYS = "top-level keys, cold"  # the one curve measured with its cache removed: Dynaconf's loading


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    cold: bool = False  # its cache folder is removed before each run
    status: int = 0


def run_once(command: Command) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process."""
    if command.cold:
        shutil.rmtree(command.cwd / ".cache", ignore_errors=True)
    os.chdir(command.cwd)
    started = time.perf_counter()
    pid = os.posix_spawn(command.argv[0], command.argv, command.env, file_actions=_quiet())
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != command.status:
        raise SystemExit(f"{' '.join(command.argv)} ended with {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss


def _quiet() -> list[tuple[int, int, str, int, int]]:
    return [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]


def project(root: Path, name: str, make: Callable[[Path], dict[str, str]]) -> tuple[Path, dict[str, str]]:
    folder = root / name
    folder.mkdir()
    return folder, make(folder)


def commands(root: Path, scale: float) -> tuple[list[Command], dict[str, list[tuple[int, Command]]]]:
    """The table's commands, and each growth curve's (size, command)."""
    wrapper, dotenv = (shutil.which(name, path=str(inputs.BIN)) for name in ("layered-mlflow", "dotenv"))
    if wrapper is None or dotenv is None:
        raise SystemExit("install the project first: pip install -e '.[test]' (dotenv's CLI comes with it)")
    true = shutil.which("true") or "/bin/true"
    here, env = project(root, "realistic", inputs.realistic)
    kedro_here, kedro_env = project(root, "kedro", inputs.kedro)
    run = [wrapper, "run", "--", true]

    def wrapped(label: str, text: Iterable[str], status: int = 0) -> list[Command]:
        folder, plain = project(root, re.sub(r"\W+", "-", label), lambda f: inputs.plain(f, text))
        warm = Command(label, run, plain, folder, status=status)
        return [warm] if status else [warm, Command("  ... cold cache", run, plain, folder, cold=True)]

    def both(label: str, argv: list[str]) -> list[Command]:
        return [Command(label, argv, env, here), Command("  ... cold cache", argv, env, here, cold=True)]

    size = round(MB * scale)
    many = max(round(60000 * scale), 1001)  # past the limit of 1,000 even when quick
    table = [
        Command("/bin/true", [true], env, here),
        Command("python -S -c pass", [sys.executable, "-S", "-c", "pass"], env, here),
        Command("python -c pass", [sys.executable, "-c", "pass"], env, here),
        Command("dotenv run -- true", [dotenv, "run", "--", true], env, here),
        *both("layered-mlflow run -- true", run),
        Command("  ... with 3 warnings", [wrapper, *inputs.WARNED, "run", "--", true], env, here),
        Command("  ... in a Kedro project", run, kedro_env, kedro_here),
        *both("layered-mlflow env", [wrapper, "env"]),
        *both("layered-mlflow show", [wrapper, "show"]),
        *wrapped(f"run, {size / MB:g} MB, one long list", inputs.long_list(size)),
        *wrapped(
            f"run, {size / MB:g} MB, {round(20000 * scale)} env entries", inputs.env_entries(round(20000 * scale), 20)
        ),
        *wrapped("run, 5000 nested brackets", inputs.nested_brackets(5000), status=2),
        *wrapped(f"run, {many:,} top-level keys", inputs.top_level_keys(many), status=2),
        *wrapped("run, 10 MB, over the limit", inputs.long_list(10 * MB), status=2),
    ]
    growth: dict[str, list[tuple[int, Command]]] = {}
    curves: dict[str, tuple[list[int], list[int], Callable[[Path, int], dict[str, str]]]] = {  # sizes, quick ones
        "keys in env": ([1, 100, 10000], [1, 10, 100], lambda f, n: inputs.plain(f, inputs.env_entries(n))),
        "top-level keys": ([1, 100, 1000], [1, 10, 100], lambda f, n: inputs.plain(f, inputs.top_level_keys(n))),
        COLD_KEYS: ([1, 100, 1000], [1, 10, 100], lambda f, n: inputs.plain(f, inputs.top_level_keys(n))),
        "environment files": ([1, 10, 100], [1, 3, 10], inputs.environment_files),
        "process variables": ([10, 10000], [10, 100], inputs.process_variables),
        "file size, bytes": (
            [MB, 4 * MB - 1000],
            [MB // 100, MB // 25],
            lambda f, n: inputs.plain(f, inputs.long_list(n)),
        ),
    }
    for curve, (sizes, quick, make) in curves.items():
        growth[curve] = []
        for n in [0, *(quick if scale < 1 else sizes)]:  # 0: the base the exponent's cost is measured above
            folder = root / re.sub(r"\W+", "-", f"{curve} {n}")
            folder.mkdir()
            growth[curve].append((n, Command(curve, run, make(folder, n), folder, cold=curve == COLD_KEYS)))
    return table, growth


def exponent(points: list[tuple[int, float]]) -> float:
    """The least-squares slope of log(cost above the first point, of size 0) against log(size): 1 is linear.

    Noise can tilt a flat curve below 0; it is shown as 0, no growth.
    """
    (_, base), *points = points
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t - base, 1e-4)) for _, t in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    return max(slope, 0.0)


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
    parser.add_argument("--quick", action="store_true", help="large inputs a hundredth of their size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table, growth = commands(Path(tmp), 0.01 if args.quick else 1.0)
        every = [*table, *(command for points in growth.values() for _, command in points)]
        for command in every:  # warm-up: page cache, .pyc files, the cache of parsed files
            run_once(command)
        wall: dict[int, list[float]] = {id(c): [] for c in every}
        rss: dict[int, list[int]] = {id(c): [] for c in every}
        for _ in range(args.runs):
            for command in every:
                elapsed, peak = run_once(command)
                wall[id(command)].append(elapsed)
                rss[id(command)].append(peak)
        realistic = table[4]
        resolve_seconds = in_process(realistic.cwd, realistic.env, args.runs)
    median = {key: statistics.median(times) for key, times in wall.items()}
    baseline = median[id(table[3])]
    print(
        f"{args.runs} interleaved runs each, after a warm-up; Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    print(f"{'command':<34} {'median':>9} {'vs dotenv run':>14} {'peak RSS':>10}")
    for c in table:
        seconds = median[id(c)]
        print(f"{c.label:<34} {seconds * 1000:7.1f} ms {seconds / baseline:13.2f}x {max(rss[id(c)]) / 1024:7.1f} MiB")
    print(f"{'resolve() in-process, warm':<34} {resolve_seconds * 1000:7.1f} ms")
    print()
    print("growth of `run -- true`, cache warm unless cold: median ms at each size; exponent of the cost above size 0")
    print(f"{'input':<20} {'sizes':<28} {'ms':<24} {'exponent':>8}")
    for curve, points in growth.items():
        timed = [(n, median[id(c)]) for n, c in points]
        sizes = " ".join(str(n) for n, _ in timed)
        ms = " ".join(f"{t * 1000:.0f}" for _, t in timed)
        print(f"{curve:<20} {sizes:<28} {ms:<24} {exponent(timed):8.2f}")


if __name__ == "__main__":
    main()
