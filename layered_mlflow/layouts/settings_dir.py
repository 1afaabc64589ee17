"""The `settings/` layout: ``settings/mlflow.yml``, ``mlflow.<env>.yml`` and ``mlflow.local.yml`` (SPEC §2, §4)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from layered_mlflow.errors import ConfigError, did_you_mean
from layered_mlflow.problems import Problem
from layered_mlflow.sources.cache import NO_CACHE
from layered_mlflow.sources.layers import Layer, SettingsFile

SETTINGS_DIR = "settings"
EXTENSIONS = (".yml", ".yaml")
DEFAULT_ENV = "development"
# `local` names the personal overrides file, loaded in every environment.
RESERVED_ENV = "local"
MARKER = f"{SETTINGS_DIR}/mlflow.yml"
# `mlflow.<env>`: one word after `mlflow.`; not `mlflowx.prod`, not `mlflow.` with none.
_ENV_STEM = re.compile(r"mlflow\.[^.]+")


class _Files(NamedTuple):
    root: Path
    base_file: Path | None
    local_file: Path | None
    env_files: Mapping[str, Path]


class SettingsLayout(_Files):
    """A project root and the settings files it holds (any folder: with none, only defaults apply).

    An immutable record of its files (compared by them, as ``Resolved`` is), with what the ``LayoutKind``
    protocol reads on the class itself.
    """

    __slots__ = ()
    marker = MARKER
    default_environment = DEFAULT_ENV
    environment_variables = ("ENV_FOR_DYNACONF",)
    own_variable = None

    @staticmethod
    def marks(folder: Path, environ: Mapping[str, str] = NO_CACHE) -> bool:
        """Whether ``folder`` is the root of such a project."""
        return any(os.path.lexists(folder / SETTINGS_DIR / f"mlflow{ext}") for ext in EXTENSIONS)

    @classmethod
    def at(cls, root: Path, environ: Mapping[str, str] = NO_CACHE) -> SettingsLayout:
        files = _files(root / SETTINGS_DIR)
        env_files = {
            stem.removeprefix("mlflow."): path
            for stem, path in files.items()
            if _ENV_STEM.fullmatch(stem) and stem != f"mlflow.{RESERVED_ENV}"
        }
        return cls(root, files.get("mlflow"), files.get(f"mlflow.{RESERVED_ENV}"), env_files)

    @property
    def found(self) -> bool:
        return self.base_file is not None

    @property
    def environments(self) -> tuple[str, ...]:
        """Known environments: ``development`` and one per ``mlflow.<env>.yml``."""
        return tuple(sorted({DEFAULT_ENV, *self.env_files}))

    def file_layers(
        self, layer: str, environment: str | None, environ: Mapping[str, str], dotenv: Mapping[str, str] | None = None
    ) -> list[Layer]:
        """The files of one of the file layers (`base_file`, `env_file`, `local_file`) in ``environment``."""
        path = {
            "base_file": self.base_file,
            "env_file": self.env_files.get(environment or ""),
            "local_file": self.local_file,
        }[layer]
        return [] if path is None else [SettingsFile(layer, path, environ)]

    def all_files(self) -> list[Path]:
        """Its settings files, the base file first."""
        found = [self.base_file, self.local_file, *self.env_files.values()]
        return [path for path in found if path is not None]

    def secret_names(self, environment: str) -> frozenset[str]:
        return frozenset()  # its secrets are named in the `secrets` list

    def problems(self, environment: str) -> list[Problem]:
        return []  # a root Kedro marks too is discovery's to report: it knows both layouts

    def unknown_environment(self, name: str, source: str) -> ConfigError:
        listed = ", ".join(self.environments)
        if name == RESERVED_ENV:
            return ConfigError(
                f"environment 'local' (from {source}) is reserved: settings/mlflow.local.yml "
                f"applies in every environment; known environments: {listed}"
            )
        can_be_a_file = name.isprintable() and "/" not in name and "\\" not in name
        hint = did_you_mean(name, self.environments) or (
            f"create settings/mlflow.{name}.yml to add it" if can_be_a_file else None
        )
        return ConfigError(f"unknown environment {name!r} (from {source}); known environments: {listed}", hint=hint)


def _files(settings: Path) -> dict[str, Path]:
    """``settings/``'s files by lower-cased stem (``mlflow.production``); two spellings of one are an error."""
    try:
        names = sorted(os.listdir(settings))
    except (FileNotFoundError, NotADirectoryError):
        names = []
    except OSError as exc:
        raise ConfigError(f"{settings}: cannot list the folder ({exc.strerror})") from None
    stems: dict[str, list[str]] = {}
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if dot and f".{ext}" in EXTENSIONS and stem.startswith("mlflow"):
            stems.setdefault(stem.lower(), []).append(name)
    for variants in stems.values():
        if len(variants) > 1:
            raise ConfigError(f"{settings}: {' and '.join(variants)} are the same layer", hint="keep one of them")
    return {stem: settings / variants[0] for stem, variants in stems.items()}
