"""The container and CI examples: valid YAML, the documented ENTRYPOINT, and wiring that works."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMMAND

REPO = Path(__file__).parent.parent
EXAMPLES = REPO / "examples"
ENTRYPOINT = ["layered-mlflow", "run", "--"]

try:
    from yaml import safe_load  # PyYAML, installed with MLflow
except ImportError:  # pragma: no cover (PyYAML missing)
    from dynaconf.vendor.ruamel.yaml import safe_load


def load(relative: str) -> Any:
    return safe_load((EXAMPLES / relative).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "relative", ["docker/compose.yaml", "kubernetes/job.yaml", "github-actions/train.yml"], ids=str
)
def test_yaml_examples_parse(relative: str) -> None:
    """Each YAML example is one well-formed mapping."""
    assert isinstance(load(relative), dict)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of examples/docker/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (EXAMPLES / "docker" / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_entrypoint_is_the_documented_one() -> None:
    """ENTRYPOINT ["layered-mlflow", "run", "--"], exec form (no shell between), the one the containers page and SPEC §9
    name."""
    entrypoints = [args for instruction, args in dockerfile_instructions() if instruction == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    assert json.loads(entrypoints[0]) == ENTRYPOINT
    assert f"ENTRYPOINT {json.dumps(ENTRYPOINT)}" in (REPO / "docs" / "containers.md").read_text(encoding="utf-8")


def test_dockerfile_copies_what_exists_and_no_personal_settings() -> None:
    """Every COPY source exists and is in the build context (the repository root); personal files stay out."""
    sources = [
        source
        for instruction, args in dockerfile_instructions()
        if instruction == "COPY"
        for source in args.split()[:-1]
    ]
    assert sources, "no COPY found"
    ignore = (EXAMPLES / "docker" / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    for source in sources:
        assert (REPO / source).exists(), source
        assert f"!{source}" in ignore, f"{source} is left out of the build context"
    assert not {".env", "settings/", "settings/mlflow.local.yml", "."} & set(sources)


def test_compose_injects_the_uri_and_mounts_the_password_as_a_file() -> None:
    """compose.yaml builds that Dockerfile and gives the password as a secret file named by X_FILE."""
    service = load("docker/compose.yaml")["services"]["train"]
    context = (EXAMPLES / "docker" / service["build"]["context"]).resolve()
    assert context == REPO.resolve()
    assert (context / service["build"]["dockerfile"]).is_file()
    environment = service["environment"]
    assert environment["MLFLOW_TRACKING_URI"].startswith("${MLFLOW_TRACKING_URI")  # from the shell, at run time
    (secret,) = service["secrets"]
    assert environment["MLFLOW_TRACKING_PASSWORD_FILE"] == f"/run/secrets/{secret}"
    assert "MLFLOW_TRACKING_PASSWORD" not in environment


def kubernetes_container() -> dict[str, Any]:
    (container,) = load("kubernetes/job.yaml")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_kubernetes_job_wiring() -> None:
    """ENV_FOR_DYNACONF from the manifest; the token section's file is a projected service-account token."""
    job = load("kubernetes/job.yaml")
    container = kubernetes_container()
    env = {item["name"]: item for item in container["env"]}
    assert env["ENV_FOR_DYNACONF"]["value"] == "production"
    assert "secretKeyRef" in env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]
    token_file = Path(env["LAYERED_MLFLOW_TOKEN__FILE"]["value"])
    (mount,) = [m for m in container["volumeMounts"] if token_file.is_relative_to(m["mountPath"])]
    volumes = {volume["name"]: volume for volume in job["spec"]["template"]["spec"]["volumes"]}
    (source,) = volumes[mount["name"]]["projected"]["sources"]
    assert source["serviceAccountToken"]["path"] == str(token_file.relative_to(mount["mountPath"]))
    assert "MLFLOW_TRACKING_TOKEN" not in env  # a static token would win over the rotating one


def test_kubernetes_job_environment_resolves_against_the_baked_settings(tmp_path: Path) -> None:
    """The Job's variables, in a bare `env -i` with the repository's settings, give the child what it needs."""
    mounted = tmp_path / "token-volume"
    mounted.mkdir()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LAYERED_MLFLOW_PROJECT_DIR": str(REPO)}  # as the Dockerfile sets
    for item in kubernetes_container()["env"]:
        value = item.get("value") or f"from-{item['valueFrom']['secretKeyRef']['key']}"
        env[item["name"]] = value.replace("/var/run/secrets/mlflow", str(mounted))
    argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), COMMAND, "run", "--", "env", "-0"]
    result = subprocess.run(argv, cwd="/", capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    child = dict(entry.split("=", 1) for entry in result.stdout.decode().split("\0") if entry)
    assert child["MLFLOW_TRACKING_URI"] == "https://mlflow.example.com"
    assert child["MLFLOW_TRACKING_AUTH"] == "layered-mlflow"
    assert child["LAYERED_MLFLOW_AUTH_FILE"] == f"{mounted}/token"
    assert child["AWS_SECRET_ACCESS_KEY"] == "from-secret-access-key"  # noqa: S105 (a test value)
    assert child["AWS_DEFAULT_REGION"] == "eu-west-1"  # from settings/mlflow.production.yml


def test_github_actions_uses_github_env_and_masks() -> None:
    """One step runs `layered-mlflow env --github-env`, which appends to $GITHUB_ENV and masks each secret."""
    steps = load("github-actions/train.yml")["jobs"]["train"]["steps"]
    resolving = [step for step in steps if "layered-mlflow env --github-env" in step.get("run", "")]
    assert len(resolving) == 1
    assert '>> "$GITHUB_ENV"' not in resolving[0]["run"]  # --github-env writes the file itself, unmasked


def test_dockerfile_user_has_a_passwd_entry() -> None:
    """USER is numeric (runAsNonRoot can verify it) and a RUN useradd gives that uid a name first.

    Without a passwd entry every run warns `getpwuid(): uid not found` and MLflow loses its mlflow.user tag.
    """
    instructions = dockerfile_instructions()
    (user,) = [args for instruction, args in instructions if instruction == "USER"]
    assert user.isdigit(), user
    created = [
        index
        for index, (instruction, args) in enumerate(instructions)
        if instruction == "RUN" and "useradd" in args and f"--uid {user}" in args
    ]
    assert created, "no `useradd --uid` for the USER"
    assert created[0] < instructions.index(("USER", user))


def test_kubernetes_job_runs_as_the_images_user() -> None:
    """The Job keeps runAsNonRoot and sets no runAsUser: the image's user, which has a passwd entry, runs it."""
    pod = load("kubernetes/job.yaml")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    contexts = [pod["securityContext"], *(c.get("securityContext", {}) for c in pod["containers"])]
    assert [c["runAsUser"] for c in contexts if "runAsUser" in c] == []


def mounted_secret_files() -> list[str]:
    """The files on the host that the examples' instructions mount or load as secrets, relative to the repository."""
    dockerfile = (EXAMPLES / "docker" / "Dockerfile").read_text(encoding="utf-8")
    job = (EXAMPLES / "kubernetes" / "job.yaml").read_text(encoding="utf-8")
    compose = load("docker/compose.yaml")["secrets"]
    return [
        *re.findall(r'-v "\$PWD/([^:"]+):', dockerfile),
        *re.findall(r"--from-file=[\w-]+=(\S+)", job),
        *(str((EXAMPLES / "docker" / s["file"]).resolve().relative_to(REPO.resolve())) for s in compose.values()),
    ]


def test_every_secret_file_of_the_examples_is_git_ignored() -> None:
    """The password files the examples tell you to create are git-ignored, so a newcomer cannot commit one."""
    files = mounted_secret_files()
    assert len(files) == 3, files
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *files], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert sorted(ignored.stdout.split()) == sorted(files), ignored.stderr
