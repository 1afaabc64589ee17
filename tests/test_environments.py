"""SPEC §4: which environment is active, and the error for one that does not exist."""

from __future__ import annotations

import pytest

from tests.conftest import Project


@pytest.fixture
def envs(project: Project) -> Project:
    """A project with staging and production environments, each naming itself."""
    project.write("settings/mlflow.yml", "mlflow_experiment_name: development\n")
    project.write("settings/mlflow.staging.yml", "mlflow_experiment_name: staging\n")
    project.write("settings/mlflow.production.yml", "mlflow_experiment_name: production\n")
    return project


@pytest.mark.parametrize(
    ("args", "process", "dotenv", "expected"),
    [
        pytest.param((), {}, "", "development", id="default"),
        pytest.param((), {}, "ENV_FOR_DYNACONF=staging\n", "staging", id="dotenv"),
        pytest.param(
            (),
            {"ENV_FOR_DYNACONF": "production"},
            "ENV_FOR_DYNACONF=staging\n",
            "production",
            id="process-beats-dotenv",
        ),
        pytest.param(
            ("--env", "staging"), {"ENV_FOR_DYNACONF": "production"}, "", "staging", id="option-beats-process"
        ),
        pytest.param((), {"ENV_FOR_DYNACONF": "PRODUCTION"}, "", "production", id="case-insensitive"),
        pytest.param(("--env", "Staging"), {}, "", "staging", id="option-case-insensitive"),
        pytest.param(
            (), {"ENV_FOR_DYNACONF": ""}, "ENV_FOR_DYNACONF=staging\n", "staging", id="empty-process-says-nothing"
        ),
        pytest.param((), {}, "", "development", id="development-is-always-known"),
    ],
)
def test_active_environment(
    envs: Project, args: tuple[str, ...], process: dict[str, str], dotenv: str, expected: str
) -> None:
    """--env > ENV_FOR_DYNACONF (process) > ENV_FOR_DYNACONF (.env) > development; the child is told."""
    envs.write(".env", dotenv)
    child = envs.child_env(*args, env=process)
    assert child["LAYERED_MLFLOW_ENV"] == expected
    assert child["MLFLOW_EXPERIMENT_NAME"] == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("prodution", "did you mean production?", id="typo"),
        pytest.param("stagign", "did you mean staging?", id="transposed"),
        pytest.param("qa", "create settings/mlflow.qa.yml", id="unknown"),
        pytest.param("local", "reserved", id="local-is-not-an-environment"),
        pytest.param("../production", "unknown environment '../production'", id="path-like"),
        pytest.param("a/b", "unknown environment 'a/b'", id="slash"),
    ],
)
@pytest.mark.parametrize("via", ["option", "process", "dotenv"])
def test_unknown_environment_is_an_error(envs: Project, name: str, message: str, via: str) -> None:
    """Exit 2 naming the known environments and the closest one; Dynaconf alone would fall back silently."""
    envs.write("settings/mlflow.local.yml", "")
    args: tuple[str, ...] = ("--env", name) if via == "option" else ()
    process = {"ENV_FOR_DYNACONF": name} if via == "process" else {}
    if via == "dotenv":
        envs.write(".env", f"ENV_FOR_DYNACONF={name}\n")
    result = envs.cli(*args, "run", "--", "true", env=process)
    assert result.returncode == 2, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert message in result.stderr, result
    assert "known environments: development, production, staging" in result.stderr, result
    assert len(result.stderr.splitlines()) == 1, result


def test_environment_files_only_for_their_environment(envs: Project) -> None:
    """mlflow.staging.yml is read only in staging; mlflow.production.local.yml is never a layer."""
    envs.write("settings/mlflow.production.local.yml", "mlflow_experiment_name: never\n")
    shown = envs.cli("--env", "production", "show", "--format", "json").json()
    assert [f.rsplit("/", 1)[1] for f in shown["files"]] == ["mlflow.yml", "mlflow.production.yml"]
    assert shown["settings"]["mlflow_experiment_name"]["value"] == "production"
