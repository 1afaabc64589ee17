"""SPEC §15, notebooks: `%load_ext layered_mlflow` and `%layered_mlflow`, in a real IPython (the `ipython` command).

A notebook-like script runs in the project with IPython's own profile folder in the test's; what it logs must
land where `layered-mlflow show` says, and the magic must print what `show` prints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import Project, client_query

pytestmark = pytest.mark.mlflow

IPYTHON = shutil.which("ipython", path=os.path.dirname(sys.executable)) or "ipython"
SETTINGS = "mlflow_tracking_uri: sqlite:///dev.db\nmlflow_experiment_name: notebook\n"
PRODUCTION = "mlflow_tracking_uri: sqlite:///prod.db\n"
RUNS = """\
import json, mlflow
e = mlflow.MlflowClient().get_experiment_by_name("notebook")
runs = mlflow.search_runs([e.experiment_id], output_format="list") if e else []
print(json.dumps([(r.data.metrics, r.data.tags.get("team"), r.data.tags.get("layered_mlflow.env")) for r in runs]))
"""


def ipython(project: Project, script: str) -> subprocess.CompletedProcess[str]:
    """``ipython SCRIPT.ipy`` in the project, as a notebook's cells would run one after the other."""
    project.write("notebook.ipy", script)
    env = {**os.environ, "IPYTHONDIR": str(project.root.parent / "ipython")}
    argv = [IPYTHON, "--no-banner", "--colors=nocolor", "notebook.ipy"]
    return subprocess.run(argv, cwd=project.root, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_load_ext_configures_the_kernel_and_the_magic_applies_again(project: Project) -> None:
    """`%load_ext` logs to development's store; `%layered_mlflow --env production --set ...` prints `show`'s
    report for those options and moves the next run to production's store, with the tag."""
    project.write("settings/mlflow.yml", SETTINGS)
    project.write("settings/mlflow.production.yml", PRODUCTION)
    done = ipython(
        project,
        """\
        %load_ext layered_mlflow
        import mlflow
        with mlflow.start_run():
            mlflow.log_metric("score", 1.0)
        %layered_mlflow --env production --set tags.team=vision
        with mlflow.start_run():
            mlflow.log_metric("score", 2.0)
        """,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = project.cli("--env", "production", "--set", "tags.team=vision", "show")
    assert shown.stdout.strip() in done.stdout, done.stdout
    assert client_query(f"sqlite:///{project.root / 'dev.db'}", RUNS) == [[{"score": 1.0}, None, "development"]]
    assert client_query(f"sqlite:///{project.root / 'prod.db'}", RUNS) == [[{"score": 2.0}, "vision", "production"]]


def test_the_magic_reports_a_mistake_in_one_line(project: Project) -> None:
    """An unknown environment or option is IPython's one-line UsageError naming it, not a traceback."""
    project.write("settings/mlflow.yml", SETTINGS)
    for line, said in [
        ("%layered_mlflow --env prodution", "unknown environment 'prodution' (from --env)"),
        ("%layered_mlflow --bogus", "%layered_mlflow: unrecognized arguments: --bogus"),
    ]:
        done = ipython(project, f"%load_ext layered_mlflow\n{line}\n")
        output = done.stdout + done.stderr
        assert "UsageError: " in output, output
        assert said in output, output
        assert "Traceback" not in output, output


def test_load_ext_with_broken_settings_says_why_and_keeps_the_magic(project: Project) -> None:
    """Settings that do not load: `%load_ext` prints layered-mlflow's one-line error; once they are fixed, the
    magic applies them."""
    broken = project.write("settings/mlflow.yml", "mlflow_tracking_uri: [x\n")
    done = ipython(
        project,
        f"""\
        %load_ext layered_mlflow
        open({str(broken)!r}, "w").write({SETTINGS!r})
        %layered_mlflow
        import mlflow
        print("now:", mlflow.get_tracking_uri())
        """,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "layered-mlflow: error: " in done.stderr, done.stderr
    assert "invalid YAML" in done.stderr, done.stderr
    assert f"now: sqlite:///{project.root / 'dev.db'}" in done.stdout, done.stdout


def test_the_package_names_the_extension_without_importing_ipython() -> None:
    """`%load_ext layered_mlflow` finds load_ipython_extension on the package; neither `import layered_mlflow` nor
    reaching that name imports IPython (nor mlflow): a script that never starts a kernel pays nothing for it."""
    probe = (
        "import sys, layered_mlflow\n"
        "assert callable(layered_mlflow.load_ipython_extension)\n"
        "print(sorted(name for name in ('IPython', 'mlflow') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
