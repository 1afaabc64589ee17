"""`layered-mlflow init`: the files a new project starts from (SPEC §7).

Every target is checked before anything is written, so a refusal leaves the
project exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from layered_mlflow.errors import LayeredMlflowError, WouldOverwrite
from layered_mlflow.project import EXTENSIONS, SETTINGS_DIR, find_project
from layered_mlflow.resolve import PROJECT_DIR_VARIABLE
from layered_mlflow.schema import FILE_NAME, schema_text

# Files of a project that stay on one machine (SPEC §2); `init` makes git ignore them.
GITIGNORE_LINES = (".env", "mlruns/", "mlartifacts/", "mlflow.db", "settings/mlflow.local.yml")
NEXT_COMMAND = "layered-mlflow run -- python train.py"


@dataclass(frozen=True)
class Target:
    path: Path
    text: str


def project_root(cwd: Path, project_dir: str | None, environ: Mapping[str, str]) -> Path:
    """Where `init` writes: the folder named by --project-dir or its variable, else ``cwd``.

    Unlike the other commands, `init` does not look upwards for settings/: it starts a project.
    """
    if project_dir is not None:
        return find_project(cwd, project_dir, "--project-dir").root
    if environ.get(PROJECT_DIR_VARIABLE):
        return find_project(cwd, environ[PROJECT_DIR_VARIABLE], PROJECT_DIR_VARIABLE).root
    return cwd


def init(root: Path, force: bool) -> list[str]:
    """Write the templates under ``root`` and extend its .gitignore; what was done, one line each."""
    targets = _targets(root)
    existing = [t.path for t in targets if os.path.lexists(t.path)]
    if existing and not force:
        raise WouldOverwrite(
            f"{_names(root, existing)} already exist{'s' if len(existing) == 1 else ''}; nothing was written",
            hint="rerun with --force to overwrite " + ("it" if len(existing) == 1 else "them"),
        )
    _refuse_obstacles(root, [t.path for t in targets])
    done = []
    for target in targets:
        verb = "overwrote" if target.path in existing else "created"
        _write(target.path, target.text)
        done.append(f"{verb} {target.path.relative_to(root)}")
    added = _extend_gitignore(root / ".gitignore")
    if added:
        done.append(f"added {', '.join(added)} to .gitignore")
    done.append(f"next: {NEXT_COMMAND}")
    return done


def _targets(root: Path) -> list[Target]:
    settings = root / SETTINGS_DIR
    return [
        Target(_layer_file(settings, "mlflow"), _template("mlflow.yml")),
        Target(_layer_file(settings, "mlflow.production"), _template("mlflow.production.yml")),
        Target(settings / FILE_NAME, schema_text()),
        Target(root / ".env.example", _template("env.example")),
    ]


def _refuse_obstacles(root: Path, paths: list[Path]) -> None:
    """A folder where a file goes, or a file where a folder goes: found before anything is written."""
    for path in [*paths, root / ".gitignore"]:
        if path.is_dir() or (os.path.lexists(path.parent) and not path.parent.is_dir()):
            blocked = path if path.is_dir() else path.parent
            raise LayeredMlflowError(f"{blocked}: is in the way of {path.name}; nothing was written")


def _layer_file(settings: Path, stem: str) -> Path:
    """The file of a layer: an existing ``.yaml`` is the same layer as the ``.yml`` we would write."""
    for ext in EXTENSIONS:
        if os.path.lexists(settings / f"{stem}{ext}"):
            return settings / f"{stem}{ext}"
    return settings / f"{stem}{EXTENSIONS[0]}"


def _template(name: str) -> str:
    return (resources.files("layered_mlflow") / "templates" / name).read_text(encoding="utf-8")


def _names(root: Path, paths: list[Path]) -> str:
    names = [str(path.relative_to(root)) for path in paths]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LayeredMlflowError(f"{path}: cannot write it ({exc.strerror})") from None


def _extend_gitignore(path: Path) -> list[str]:
    """Append the lines .gitignore lacks, once; its own lines stay as they are."""
    try:
        data = path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise LayeredMlflowError(f"{path}: cannot read it ({exc.strerror})") from None
    present = {line.strip() for line in data.decode("utf-8", "replace").splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if missing:
        block = "# layered-mlflow: files that stay on this machine\n" + "".join(f"{line}\n" for line in missing)
        separator = b"" if not data else b"\n" if data.endswith(b"\n") else b"\n\n"
        try:
            with path.open("ab") as file:
                file.write(separator + block.encode())
        except OSError as exc:
            raise LayeredMlflowError(f"{path}: cannot write it ({exc.strerror})") from None
    return missing
