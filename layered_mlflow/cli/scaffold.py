"""`layered-mlflow init`: the files a new project starts from (SPEC §7).

Every target is checked before anything is written, so a refusal leaves the
project exactly as it was (layered_mlflow/cli/writing.py writes them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from layered_mlflow.cli.writing import read_existing, refuse_unsafe, write_all
from layered_mlflow.errors import InsideAProject, UsageError, WouldOverwrite
from layered_mlflow.integrations.schema import FILE_NAME, schema_text
from layered_mlflow.layouts.base import KEDRO_MARKER
from layered_mlflow.layouts.discovery import locate
from layered_mlflow.layouts.settings_dir import EXTENSIONS, RESERVED_ENV, SETTINGS_DIR

# Files of a project that stay on one machine (SPEC §2); `init` makes git ignore them.
GITIGNORE_LINES = (".env", "mlruns/", "mlartifacts/", "mlflow.db", "settings/mlflow.local.yml", "secrets/")
NEXT_COMMAND = "layered-mlflow run -- python train.py"
EXAMPLE_ENV = "production"  # the environment the template is written for
_ENV_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")  # one dot-free name: settings/mlflow.<env>.yml


class Target(NamedTuple):
    path: Path
    text: str


def project_root(project_dir: str | None, environ: Mapping[str, str], force: bool = False) -> Path:
    """Where `init` writes: the folder named by --project-dir or its variable, else the working directory.

    Unlike the other commands, `init` starts a project: in a folder of one it
    refuses rather than nest a second (a named folder nests on purpose), and in
    a Kedro project it refuses to switch it from conf/ to settings/ unless forced.
    """
    here, layout, named = locate(project_dir, environ)
    found = layout.root
    kedro = layout.found and layout.marker == KEDRO_MARKER
    if not named and found != here:
        switch = f"to switch it to settings/ on purpose: layered-mlflow --project-dir {found} init --force; "
        raise InsideAProject(
            f"{here} is inside the project {found} (it has {layout.marker}), "
            "and init would start a second one in it; nothing was written",
            hint=(switch if kedro else f"edit its settings in {found / SETTINGS_DIR}/; ")
            + "or nest a project here on purpose: layered-mlflow --project-dir . init",
        )
    if kedro and not force:
        raise InsideAProject(
            f"{found} is a Kedro project ({KEDRO_MARKER}), whose conf/ layered-mlflow reads as it is; "
            f"init would write {SETTINGS_DIR}/mlflow.yml, which takes over from conf/; nothing was written",
            hint="keep conf/ (`layered-mlflow check` shows what is read), "
            "or rerun with --force to switch the project to settings/",
        )
    return found


def environment_name(env: str | None) -> str:
    """The environment whose example `init` writes: --env, else production."""
    name = (env or EXAMPLE_ENV).lower()
    if name == RESERVED_ENV or not _ENV_NAME.fullmatch(name):
        raise UsageError(
            f"--env {env!r} cannot name an environment file of init"
            + (": local is the personal file, read in every environment" if name == RESERVED_ENV else ""),
            hint="use lower-case letters, digits, - and _, such as --env staging",
        )
    return name


def init(root: Path, force: bool, env: str = EXAMPLE_ENV) -> list[str]:
    """Write the templates under ``root`` and extend its .gitignore; what was done, one line each."""
    targets = _targets(root, env)
    existing = [t.path for t in targets if os.path.lexists(t.path)]
    if existing and not force:
        raise WouldOverwrite(
            f"{_names(root, existing)} already exist{'s' if len(existing) == 1 else ''}; nothing was written",
            hint="rerun with --force to overwrite " + ("it" if len(existing) == 1 else "them"),
        )
    gitignore = root / ".gitignore"
    refuse_unsafe(root, [*(t.path for t in targets), gitignore])
    before = read_existing(gitignore, ".gitignore")
    after, added = _extended_gitignore(before)
    files = [(t.path, t.text.encode()) for t in targets] + ([(gitignore, after)] if added else [])
    write_all(root, files)
    done = [f"{'overwrote' if t.path in existing else 'created'} {t.path.relative_to(root)}" for t in targets]
    if added:
        done.append(f"added {', '.join(added)} to .gitignore")
    if not os.path.lexists(root / "train.py"):
        done.append("next: write train.py, your training code: it logs with mlflow.log_* and sets no tracking URI")
    done.append(f"next: {NEXT_COMMAND}")
    return done


def _targets(root: Path, env: str) -> list[Target]:
    settings = root / SETTINGS_DIR
    # The example is written for production; another environment gets the same file under its own name.
    example = re.sub(rf"\b{EXAMPLE_ENV}\b", env, _template(f"mlflow.{EXAMPLE_ENV}.yml"))
    return [
        Target(_layer_file(settings, "mlflow"), _template("mlflow.yml")),
        Target(_layer_file(settings, f"mlflow.{env}"), example),
        Target(settings / FILE_NAME, schema_text()),
        Target(root / ".env.example", _template("env.example")),
    ]


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


def _extended_gitignore(data: bytes) -> tuple[bytes, list[str]]:
    """.gitignore with the lines it lacks appended, once; its own lines stay as they are."""
    present = {line.strip() for line in data.decode("utf-8", "replace").splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if not missing:
        return data, []
    block = "# layered-mlflow: files that stay on this machine\n" + "".join(f"{line}\n" for line in missing)
    separator = b"" if not data else b"\n" if data.endswith(b"\n") else b"\n\n"
    return data + separator + block.encode(), missing
