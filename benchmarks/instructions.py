"""What a start of `layered-mlflow` costs in instructions, which load on a shared machine does not change.

    python benchmarks/instructions.py [--compare BIN]

Each row runs the installed command once under ``valgrind --tool=callgrind``
(cache warm: one run before) in a realistic `settings/` project or the same
settings in a Kedro project (benchmarks/inputs.py), and prints the instructions
the process executed. `run` is given a command that does not exist, so the
count is everything up to the exec and its one-line error (callgrind writes no
count across an exec). ``--compare BIN`` adds a column for the `layered-mlflow`
in another folder (another checkout's virtual environment) and the change.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import inputs  # beside this script, which is no package

ROWS = (
    ("run (settings/)", "settings", ("run", "--", "no-such-command")),
    ("run (Kedro conf/)", "kedro", ("run", "--", "no-such-command")),
    ("show", "settings", ("show",)),
    ("env", "settings", ("env",)),
)
_COLLECTED = re.compile(r"Collected : (\d+)")


def count(binary: Path, folder: Path, environ: dict[str, str], args: tuple[str, ...]) -> int:
    """Instructions of one run of ``binary`` with ``args`` in ``folder``, its cache warmed by a run before."""
    command = [str(binary / "layered-mlflow"), *args]
    env = {**environ, "PATH": f"{binary}{os.pathsep}/usr/bin:/bin", "HOME": str(folder / f".home-{binary.parent.name}")}
    subprocess.run(command, cwd=folder, env=env, capture_output=True, check=False)
    valgrind = shutil.which("valgrind") or "valgrind"
    done = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no count for {command}: {done.stderr[-500:]}")
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="the bin folder of another installation to compare with")
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    binaries = [Path(sys.executable).parent, *([options.compare] if options.compare else [])]
    with tempfile.TemporaryDirectory() as temporary:
        projects = {}
        for kind, make in (("settings", inputs.realistic), ("kedro", inputs.kedro)):
            folder = Path(temporary, kind)
            folder.mkdir()
            projects[kind] = (folder, make(folder))
        header = f"{'command':20} {'instructions':>14}"
        print(header + (f" {'compared':>14} {'change':>8}" if options.compare else ""))
        for label, kind, args in ROWS:
            folder, environ = projects[kind]
            counts = [count(binary, folder, environ, args) for binary in binaries]
            line = f"{label:20} {counts[0]:14,}"
            if options.compare:
                line += f" {counts[1]:14,} {(counts[0] - counts[1]) / counts[1]:+8.1%}"
            print(line)


if __name__ == "__main__":
    main()
