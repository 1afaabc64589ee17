"""Resolution cannot be redirected by stray Dynaconf variables, and has no side effects (SPEC §3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import layered_mlflow
from tests.conftest import Project

STRAY = [
    ("SETTINGS_FILE_FOR_DYNACONF", "{evil}"),
    ("SETTINGS_FILES_FOR_DYNACONF", "{evil}"),
    ("SETTINGS_MODULE_FOR_DYNACONF", "{evil}"),
    ("INCLUDES_FOR_DYNACONF", "{evil}"),
    ("PRELOAD_FOR_DYNACONF", "{evil}"),
    ("SECRETS_FOR_DYNACONF", "{evil}"),
    ("ROOT_PATH_FOR_DYNACONF", "{evil_dir}"),
    ("PROJECT_ROOT", "{evil_dir}"),
    ("PROJECT_ROOT_FOR_DYNACONF", "{evil_dir}"),
    ("ENVIRONMENTS_FOR_DYNACONF", "true"),
    ("ENVVAR_PREFIX_FOR_DYNACONF", "MLFLOW"),
    ("MERGE_ENABLED_FOR_DYNACONF", "true"),
    ("LOADERS_FOR_DYNACONF", "['dynaconf.loaders.env_loader']"),
    ("CORE_LOADERS_FOR_DYNACONF", "['TOML']"),
    ("SKIP_FILES_FOR_DYNACONF", "['{base}']"),
    ("AUTO_CAST_FOR_DYNACONF", "false"),
    ("YAML_LOADER_FOR_DYNACONF", "unsafe_load"),
    ("ENCODING_FOR_DYNACONF", "utf-16"),
    ("LOAD_DOTENV_FOR_DYNACONF", "true"),
    ("DOTENV_PATH_FOR_DYNACONF", "{evil_dotenv}"),
    ("FORCE_ENV_FOR_DYNACONF", "evil"),
    ("DEFAULT_ENV_FOR_DYNACONF", "evil"),
    ("ENV_SWITCHER_FOR_DYNACONF", "EVIL_ENV"),
    ("DOTTED_LOOKUP_FOR_DYNACONF", "true"),
    ("LOWERCASE_READ_FOR_DYNACONF", "false"),
    ("SYSENV_FALLBACK_FOR_DYNACONF", "true"),
    ("FRESH_VARS_FOR_DYNACONF", "['TAGS']"),
    ("APPLY_DEFAULT_ON_NONE_FOR_DYNACONF", "true"),
    ("DYNACONF_MLFLOW_EXPERIMENT_NAME", "evil"),
    ("DYNACONF_TAGS__team", "evil"),
    ("DYNACONF_ENV", "evil"),
]


@pytest.mark.parametrize(("name", "template"), STRAY, ids=[name for name, _ in STRAY])
def test_stray_dynaconf_variables_are_ignored(project: Project, tmp_path: Path, name: str, template: str) -> None:
    """A *_FOR_DYNACONF (other than ENV_FOR_DYNACONF), DYNACONF_* or PROJECT_ROOT variable changes nothing."""
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    evil = evil_dir / "evil.yml"
    evil.write_text("mlflow_experiment_name: evil\ntags:\n  team: evil\n")
    (evil_dir / ".env").write_text("MLFLOW_EXPERIMENT_NAME=evil\n")
    base = project.write("settings/mlflow.yml", "mlflow_experiment_name: good\ntags:\n  team: good\n  n: '@int 3'\n")
    project.write("settings/mlflow.local.yml", "")
    clean = project.cli("show", "--format", "json")
    value = template.format(evil=evil, evil_dir=evil_dir, evil_dotenv=evil_dir / ".env", base=base)
    stray = project.cli("show", "--format", "json", env={name: value})
    assert stray.returncode == 0, stray
    assert stray.stdout == clean.stdout
    assert project.child_env(env={name: value})["MLFLOW_EXPERIMENT_NAME"] == "good"


def test_resolve_has_no_side_effects(project: Project) -> None:
    """resolve() writes neither os.environ nor files, and does not import mlflow."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: mlruns\ntags:\n  team: a\n")
    project.write(".env", "MLFLOW_EXPERIMENT_NAME=x\nLOAD_DOTENV_FOR_DYNACONF=true\n")
    script = f"""
import os, sys
before = dict(os.environ)
import layered_mlflow
resolved = layered_mlflow.resolve(project_dir={str(project.root)!r}, overrides={{"tags.x": "1"}})
assert dict(os.environ) == before, "os.environ changed"
assert "mlflow" not in sys.modules, "mlflow was imported"
assert resolved.variables["MLFLOW_EXPERIMENT_NAME"] == "x"
print("ok")
"""
    snapshot = sorted(p.relative_to(project.root) for p in project.root.rglob("*"))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert sorted(p.relative_to(project.root) for p in project.root.rglob("*")) == snapshot


def test_resolved_result_is_immutable(project: Project) -> None:
    """The result of resolve() cannot be changed by the code that holds it."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: a\n")
    resolved = layered_mlflow.resolve(project_dir=project.root, environ={})
    with pytest.raises(AttributeError):
        resolved.environment = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        resolved.variables["MLFLOW_EXPERIMENT_NAME"] = "b"  # type: ignore[index]
    with pytest.raises(TypeError):
        resolved.settings["x"] = resolved.settings["mlflow_experiment_name"]  # type: ignore[index]
    assert os.environ.get("MLFLOW_EXPERIMENT_NAME") is None


def test_a_command_that_times_out_takes_its_process_group_along(project: Project) -> None:
    """Project.cli kills the whole group on a timeout: what the command started in the background goes too."""
    started = project.root / "pid"
    with pytest.raises(subprocess.TimeoutExpired):
        project.cli("run", "--", "sh", "-c", f"sleep 300 & echo $! > {started}; wait", timeout=3)
    stat = Path(f"/proc/{int(started.read_text())}/stat")
    # Gone, or a zombie that a container's init does not reap: killed either way.
    assert not stat.exists() or stat.read_text().rpartition(") ")[2].startswith("Z"), stat.read_text()
