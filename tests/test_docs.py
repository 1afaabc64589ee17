"""Every command the README and the documentation pages show is run, here or by CI, and prints what they show.

Each `$ ` line of a console block (README.md and every docs/**/*.md page) is
run in order in one shell; where the page shows output under it, the real
output (stdout and stderr, as a terminal interleaves them) must match it line
for line. A command shown without output makes no claim about it. A block of
output alone (an error message) is the output of the script OUTPUTS gives it.
RUN, OUTPUTS and BY_CI are the one place that says how each shown command is
run, whichever page shows it. Only what must vary is normalised, by
`normalise`: the temporary folders' paths (the pages write the project as /p or
/home/me/layered-mlflow, the one `init` makes as /home/me/churn, and HOME as
/home/me), the column padding and rule lengths of tables (they follow those
paths' lengths), trailing spaces, and in the benchmark's output every number
(times, ratios, memory, versions).

The Python blocks of the Python API page are run too, in the same project,
and may use only the names the package's `__all__` promises.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import layered_mlflow
from tests.test_kedro import FILLED, KEDRO_TEMPLATE

REPO = Path(__file__).parent.parent
# The README, then every page of the documentation site, by their paths from the repository's root.
PAGES = ["README.md", *sorted(path.relative_to(REPO).as_posix() for path in (REPO / "docs").rglob("*.md"))]
BIN = Path(sys.executable).parent
# How the pages write the test's folders, each beside its place from the demo project; longest paths first.
WRITTEN = {
    "root": (".", ("/home/me/layered-mlflow", "/p")),  # the project
    "churn": ("../churn", ("/home/me/churn",)),  # the project `init` makes beside it
    "home": ("..", ("/home/me",)),  # HOME
}
FREE_PORT = (
    "port=$(python -c \"import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])\")"
)

# command as a page shows it -> (exit status, the command as run here, or None for as shown).
# Rewrites keep traffic on this machine (a production server, Databricks) or the run short, or set up
# what the page's prose around the example says the project holds.
RUN: dict[str, tuple[int, str | None]] = {
    # The clone of the quick start: this checkout, cloned beside the demo project.
    "git clone <this repository's URL> layered-mlflow && cd layered-mlflow": (
        0,
        f"git clone --quiet {REPO} ../layered-mlflow && cd ../layered-mlflow",
    ),
    "layered-mlflow run -- python train.py": (0, None),
    "ENV_FOR_DYNACONF=production layered-mlflow run -- python train.py": (
        0,
        "ENV_FOR_DYNACONF=production layered-mlflow run --dry-run -- python train.py",
    ),
    "pip install . && layered-mlflow run -- python examples/train.py": (
        0,
        "layered-mlflow run -- python examples/train.py",  # installed already, by CI's `pip install -e`
    ),
    "layered-mlflow show": (0, None),
    "layered-mlflow run -- mlflow experiments search": (0, None),
    "ENV_FOR_DYNACONF=prodution layered-mlflow run -- python train.py": (2, None),
    # A new folder outside the demo project (inside it, init refuses to nest a project).
    "cd .. && mkdir churn && cd churn && layered-mlflow init": (0, None),
    "layered-mlflow init": (
        1,
        "mkdir ../churn && cd ../churn && layered-mlflow init > /dev/null && layered-mlflow init",
    ),
    "layered-mlflow --env production show": (0, None),
    "export ENV_FOR_DYNACONF=production": (0, None),
    "echo ENV_FOR_DYNACONF=production >> .env": (0, None),
    "ENV_FOR_DYNACONF=production MLFLOW_TRACKING_USERNAME=trainer \\\n"
    "  MLFLOW_TRACKING_PASSWORD_FILE=/run/secrets/mlflow_password layered-mlflow env --format shell": (
        0,
        "ENV_FOR_DYNACONF=production MLFLOW_TRACKING_USERNAME=trainer "
        "MLFLOW_TRACKING_PASSWORD_FILE=secrets/mlflow_password layered-mlflow env --format shell",
    ),
    "export LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI='postgresql+psycopg2://mlflow:…@db.internal:5432/mlflow'": (
        0,
        "export LAYERED_MLFLOW_SERVER__BACKEND_STORE_URI='postgresql+psycopg2://mlflow:pw@db.internal:5432/mlflow'",
    ),
    "export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…": (0, "export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y"),
    # Started for real, with PostgreSQL and S3, by tests/test_tracking_server.py. Here it says what it
    # serves and execs `mlflow server --help`; on a free port, shown as the default 5000.
    "layered-mlflow server": (
        0,
        f"{FREE_PORT}; LAYERED_MLFLOW_SERVER__PORT=$port layered-mlflow server -- --help 2>&1 >/dev/null"
        ' | sed "s/:$port$/:5000/"',
    ),
    "DATABRICKS_TOKEN_FILE=/run/secrets/databricks layered-mlflow --env databricks run -- python train.py": (
        0,
        "cp databricks.yml settings/mlflow.databricks.yml && "
        "DATABRICKS_TOKEN_FILE=secrets/databricks layered-mlflow --env databricks run --dry-run -- python train.py",
    ),
    "ENV_FOR_DYNACONF=production MLFLOW_TRACKING_URI=http://mlflow:5000 layered-mlflow explain mlflow_tracking_uri": (
        0,
        None,
    ),
    # The password in .env, as the example says.
    "layered-mlflow --env production explain MLFLOW_TRACKING_PASSWORD": (
        0,
        "echo MLFLOW_TRACKING_PASSWORD=hunter2 >> .env && "
        "layered-mlflow --env production explain MLFLOW_TRACKING_PASSWORD",
    ),
    # docs/kedro.md, a kedro-mlflow file outside a Kedro project: its project template as settings/mlflow.yml.
    "MLFLOW_TRACKING_URI=http://mlflow:5000 layered-mlflow explain mlflow_tracking_uri": (
        0,
        "cp kedro-mlflow.yml settings/mlflow.yml && MLFLOW_TRACKING_URI=http://mlflow:5000 layered-mlflow explain "
        "mlflow_tracking_uri",
    ),
    "layered-mlflow check": (0, "cp kedro-mlflow.yml settings/mlflow.yml && layered-mlflow check"),
    # The two problems the example shows: a misspelt key, and too many retries in production.
    "layered-mlflow check --all-envs": (
        1,
        "echo 'mlflow_traking_uri: mlruns' >> settings/mlflow.yml && sed -i 's/max_retries: 3/max_retries: 20/' "
        "settings/mlflow.production.yml && layered-mlflow check --all-envs",
    ),
    # The example above's two problems, as GitHub's annotations.
    "layered-mlflow check --all-envs --format github": (
        1,
        "echo 'mlflow_traking_uri: mlruns' >> settings/mlflow.yml && sed -i 's/max_retries: 3/max_retries: 20/' "
        "settings/mlflow.production.yml && layered-mlflow check --all-envs --format github",
    ),
    "layered-mlflow schema > settings/mlflow.schema.json": (0, None),
    "python benchmarks/startup.py --runs 30": (0, f"python {REPO}/benchmarks/startup.py --runs 1 --quick"),
    # docs/distributed.md: a job's settings in a folder of its own, then what each engine's format prints.
    "mkdir -p job/settings && cd job": (0, None),
    "cat > settings/mlflow.yml <<'EOF'\nmlflow_tracking_uri: https://mlflow.example.com\n"
    "mlflow_experiment_name: churn\nmlflow_tracking_username: trainer\n"
    "mlflow_tracking_password: aws-sm:prod/mlflow#password\nenv:\n  AWS_DEFAULT_REGION: eu-west-1\nEOF": (0, None),
    "layered-mlflow --set mlflow_tracking_password=hunter2 env --format ray": (2, None),
    "layered-mlflow env --format ray": (0, None),
    "layered-mlflow env --format k8s --name churn-train": (0, None),
    "python benchmarks/instructions.py": (0, f"python {REPO}/benchmarks/instructions.py"),  # valgrind: .ci/run
    "python benchmarks/auth_provider.py --requests 3000": (
        0,
        f"python {REPO}/benchmarks/auth_provider.py --requests 100",
    ),
    # docs/secrets.md: a reference is printed, not fetched; production requires its credentials.
    "MLFLOW_TRACKING_PASSWORD=aws-sm:prod/mlflow#password layered-mlflow explain MLFLOW_TRACKING_PASSWORD": (0, None),
    "layered-mlflow --env production run -- python train.py": (
        2,
        "echo 'required: [MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD]' >> settings/mlflow.production.yml && "
        "layered-mlflow --env production run -- python train.py",
    ),
    # As in a GitHub Actions step: GITHUB_ENV names a file.
    "MLFLOW_TRACKING_PASSWORD=hunter2 layered-mlflow --env production env --github-env": (
        0,
        "GITHUB_ENV=$PWD/github_env MLFLOW_TRACKING_PASSWORD=hunter2 layered-mlflow --env production env --github-env",
    ),
    # Troubleshooting: from a subfolder, from HOME (no project), a variable in two layers, a secret's name.
    "mkdir -p notebooks && cd notebooks && layered-mlflow explain mlflow_tracking_uri": (0, None),
    "cd ~ && layered-mlflow show": (0, None),
    "echo MLFLOW_EXPERIMENT_NAME=churn-dotenv >> .env": (0, None),
    "MLFLOW_EXPERIMENT_NAME=churn layered-mlflow explain MLFLOW_EXPERIMENT_NAME": (0, None),
    "echo DB_PASS=hunter22 >> .env": (0, None),
    "layered-mlflow env": (0, None),
    "echo 'secrets: [DB_PASS]' >> settings/mlflow.yml": (0, None),
}
# A block of output alone, by its first line -> (exit status, the script that prints it).
OUTPUTS: dict[str, tuple[int, str]] = {
    "layered-mlflow: error: /p/settings/mlflow.yml: `mlflow_tracking_uri` holds a ${…} interpolation": (
        2,
        "printf 'mlflow_tracking_uri: \"${oc.env:MLFLOW_TRACKING_URI, mlruns}\"\\n' > settings/mlflow.yml "
        "&& layered-mlflow show",
    ),
    "layered-mlflow: error: /p/settings/mlflow.yml:38: {{ python_package }} is a template placeholder": (
        2,
        "cp kedro-template.yml settings/mlflow.yml && layered-mlflow show",
    ),
    # AWS unreachable: an endpoint on a port nobody listens on.
    "layered-mlflow: error: MLFLOW_TRACKING_PASSWORD (environment) = aws-sm:prod/mlflow#password: cannot reach AWS": (
        2,
        f"{FREE_PORT}; AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_DEFAULT_REGION=eu-west-1 AWS_ACCESS_KEY_ID=x "
        "AWS_SECRET_ACCESS_KEY=y AWS_CONFIG_FILE=/dev/null MLFLOW_TRACKING_PASSWORD=aws-sm:prod/mlflow#password "
        "layered-mlflow run -- python train.py",
    ),
    "layered-mlflow: error: /p/settings/mlflow.yml:3:29: invalid YAML: mapping values are not allowed here": (
        2,
        "printf '# base layer\\nmlflow_experiment_name: churn\\nmlflow_tracking_uri: mlruns/: old\\n' "
        "> settings/mlflow.yml && layered-mlflow show",
    ),
}
# Commands that CI itself runs on every submission, in a fresh virtual environment (.ci/run).
BY_CI = {
    "pip install '.[server]'",  # tests/test_extras.py installs it into a fresh venv and serves from it
    "pip install -e '.[test]' && pytest",
    "python -m venv .venv && . .venv/bin/activate",
    "ruff check . && ruff format --check . && mypy --strict layered_mlflow tests benchmarks",
    "pytest tests/test_unit_*.py",  # a part of CI's pytest
    'pytest -m "not server and not mlflow"',  # a part of CI's pytest
    "bash .ci/run",
    "pip install -e '.[test,docs]' && mkdocs build --strict",  # .ci/run builds the site, strictly
    # .ci/run's second run:
    'pip install -c .ci/lowest.txt -e \'.[test]\' && pytest -m "mlflow or installed_mlflow" -k "not racing_processes"',
    # Mutation testing takes minutes; tests/MUTANTS.md records its last run and what it left.
    "pip install -e '.[test,mutation]' && mutmut run --max-children 2 && mutmut results",
}
DATABRICKS = """\
mlflow_tracking_uri: databricks
mlflow_registry_uri: databricks-uc
mlflow_experiment_name: /Shared/churn
env:
  DATABRICKS_HOST: https://adb-1234567890123456.7.azuredatabricks.net
  DATABRICKS_TOKEN: null
"""


def console_blocks() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Each console block of each page: the page, and its `$ ` commands (a `>` continuation joined on) and
    the output shown under each.

    A block of output alone is one entry whose command is "" .
    """
    blocks = []
    for page in PAGES:
        for body in re.findall(r"```console\n(.*?)```", (REPO / page).read_text(encoding="utf-8"), re.S):
            shown: list[tuple[str, list[str]]] = []
            for line in textwrap.dedent(body).splitlines():  # dedented: a block may sit in a list item
                if line.startswith("$ "):
                    shown.append((line[2:], []))
                elif line.startswith("> ") and shown and not shown[-1][1]:
                    shown[-1] = (shown[-1][0] + "\n" + line[2:], [])
                elif shown:
                    shown[-1][1].append(line)
                else:
                    shown.append(("", [line]))
            blocks.append((page, shown))
    return blocks


def test_every_documented_command_is_exercised() -> None:
    """A command or output added to a page without a way to run it here fails this test; so does a stale entry."""
    shown = {command for _, block in console_blocks() for command, _ in block if command}
    assert shown - RUN.keys() - BY_CI == set()
    assert (RUN.keys() | BY_CI) - shown == set()
    alone = {output[0] for _, block in console_blocks() for command, output in block if not command}
    assert {first for first in alone if not any(first.startswith(key) for key in OUTPUTS)} == set()
    assert {key for key in OUTPUTS if not any(first.startswith(key) for first in alone)} == set()


def normalise(text: str, root: Path, command: str) -> list[str]:
    """The lines of ``text`` with only what must vary made equal (the module's docstring lists it)."""
    for name, (place, written) in WRITTEN.items():
        for path in (os.path.normpath(root / place), *written):
            text = re.sub(rf"{re.escape(path)}(?=/|\s|$|\))", f"<{name}>", text, flags=re.M)
    lines = [re.sub(r"-{3,}", "---", re.sub(r" {2,}", "  ", line.rstrip())) for line in text.splitlines()]
    if command.startswith("python benchmarks/"):
        lines = [re.sub(r"\d+(\.\d+)*", "N", line) for line in lines]
    return lines


def planned(command: str, output: list[str]) -> tuple[int, str]:
    """The exit status and script of one entry: a command of RUN, or a block of output of OUTPUTS."""
    if command:
        status, script = RUN[command]
        return status, script or command
    return next(value for key, value in OUTPUTS.items() if output[0].startswith(key))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A project like this repository: its settings, the example job, two secrets.

    Beside them, for their sections: the Databricks environment's file, and kedro-mlflow's project
    template, filled in and not.
    """
    root = tmp_path / "demo"
    shutil.copytree(REPO / "settings", root / "settings", ignore=shutil.ignore_patterns("mlflow.local.yml"))
    (root / "databricks.yml").write_text(DATABRICKS)
    (root / "examples").mkdir()
    for target in (root / "train.py", root / "examples" / "train.py"):
        shutil.copy(REPO / "examples" / "train.py", target)
    (root / "secrets").mkdir()
    (root / "secrets" / "mlflow_password").write_text("hunter2\n")
    (root / "secrets" / "databricks").write_text("dapi-token\n")
    (root / "kedro-mlflow.yml").write_text(FILLED)
    (root / "kedro-template.yml").write_text(KEDRO_TEMPLATE)
    return root


def shell_environment(demo: Path) -> dict[str, str]:
    """The test's environment for a page's commands: this virtual environment's commands first, HOME beside the demo."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update({"PATH": f"{BIN}{os.pathsep}{env['PATH']}", "HOME": str(demo.parent)})
    return env


def block_id(page: str, block: list[tuple[str, list[str]]]) -> str:
    """The page, then the block's first command (or its output's first line)."""
    command, output = block[0]
    return f"{page}:{(command or output[0])[:60]}"


def runs_mlflow(block: list[tuple[str, list[str]]]) -> bool:
    """Whether a block trains (or otherwise runs MLflow itself): the `mlflow` marker's tests."""
    return any(re.search(r"\btrain\.py\b|(^|[|;&]\s*)mlflow ", command) for command, _ in block)


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, marks=[pytest.mark.mlflow] if runs_mlflow(b) else [], id=block_id(page, b))
        for page, b in console_blocks()
        if {c for c, _ in b} - BY_CI
    ],
)
def test_docs_block_runs(demo: Path, block: list[tuple[str, list[str]]]) -> None:
    """Each console block, run in order in one shell: every command ends as the page says and prints what it shows."""
    entries = [(command, shown) for command, shown in block if command not in BY_CI]
    plans = [planned(command, shown) for command, shown in entries]
    outputs = demo.parent / "outputs"
    outputs.mkdir()
    script = "".join(
        f'{{ {run}\n}} > {outputs}/{i} 2>&1\necho "__status__ $?" >&2\n' for i, (_, run) in enumerate(plans)
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=demo, env=shell_environment(demo), capture_output=True, text=True, timeout=600
    )
    statuses = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("__status__ ")]
    printed = [(outputs / str(i)).read_text() for i in range(len(plans))]
    assert statuses == [status for status, _ in plans], "\n".join([done.stderr, *printed])
    for (command, shown), actual in zip(entries, printed, strict=True):
        assert "Traceback" not in actual, actual
        if shown:
            expected = normalise("\n".join(shown), demo, command)
            assert normalise(actual, demo, command) == expected, f"$ {command}\n{actual}"


PYTHON_API = (REPO / "docs" / "python-api.md").read_text(encoding="utf-8")


def test_the_python_api_page_names_what_all_promises() -> None:
    """The page's list of public names, before its first section, is the package's `__all__`, no more, no less."""
    promise = PYTHON_API[: PYTHON_API.index("\n## ")]
    named = {
        name or version for name, version in re.findall(r"`layered_mlflow\.(?!__all__`)(\w+)`|`(__version__)`", promise)
    }
    assert named == set(layered_mlflow.__all__)


def public_names_used(code: str) -> set[str]:
    """The names a block takes from the package: `layered_mlflow.NAME`, and `from layered_mlflow… import NAME`."""
    used = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "layered_mlflow":
            used.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("layered_mlflow"):
            assert node.module == "layered_mlflow", f"imports the internal module {node.module}"
            used |= {alias.name for alias in node.names}
    return used


def python_blocks() -> list[tuple[str, str]]:
    """Each Python block of the Python API page, with the heading of its section."""
    return [
        (section.split("\n", 1)[0], code)
        for section in PYTHON_API.split("\n## ")[1:]
        for code in re.findall(r"```python\n(.*?)```", section, re.S)
    ]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(code, marks=[pytest.mark.mlflow] if re.search(r"^import mlflow", code, re.M) else [], id=heading)
        for heading, code in python_blocks()
    ],
)
def test_python_api_block_runs(demo: Path, code: str) -> None:
    """Each Python block of the Python API page uses only public names, and runs without error in the demo project."""
    assert public_names_used(code) <= set(layered_mlflow.__all__)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=demo, env=shell_environment(demo), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs (Python-Markdown's toc) makes it from the heading's text."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_the_readmes_links_into_the_docs_resolve() -> None:
    """Every relative link of the README names a file that exists and, with `#`, a heading of that page.

    (MkDocs checks the pages' own links: `strict` with every validation a warning, in .ci/run.)
    """
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?:)[^)#]+)(?:#([^)]+))?\)", readme)
    assert links
    for target, anchor in links:
        assert (REPO / target).exists(), target
        if anchor:
            headings = re.findall(r"^#+ (.+)$", (REPO / target).read_text(encoding="utf-8"), re.M)
            assert anchor in {slug(heading) for heading in headings}, f"{target}#{anchor}"
