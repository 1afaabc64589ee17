"""The Kedro layout: ``conf/base`` and one environment folder, as Kedro and kedro-mlflow read them (SPEC §10).

A project is a folder whose ``pyproject.toml`` has ``[tool.kedro]``. Its
``settings.py`` is read as a syntax tree, never run (``settings.py`` here).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from layered_mlflow.errors import ConfigError, did_you_mean
from layered_mlflow.layouts.base import KEDRO_MARKER
from layered_mlflow.layouts.kedro import conf as kedro_conf
from layered_mlflow.layouts.kedro import problems as kedro_problems
from layered_mlflow.layouts.kedro import settings as kedro_settings
from layered_mlflow.layouts.kedro.conf import Folder
from layered_mlflow.problems import Problem
from layered_mlflow.sources import kedro_mlflow_shape as shape
from layered_mlflow.sources.cache import NO_CACHE
from layered_mlflow.sources.layers import Layer, Setting, SettingsFile


class KedroFile(SettingsFile):
    """One file of ``conf/``: the top-level keys it holds, evaluated, that survive Kedro's merge."""

    def __init__(self, name: str, path: Path, environ: Mapping[str, str], conf: _Conf, credentials: bool = False):
        super().__init__(name, path, environ)
        self.conf, self.credentials = conf, credentials

    @functools.cached_property
    def _read(self) -> shape.Translation:
        if self.credentials:
            return shape.Translation(self.conf.credential_variables(self.path), ())
        read = shape.translate(self.conf.data_of(self.name, self.path), str(self.path))
        applied = "server.credentials"  # exported from the credentials files
        unapplied = tuple(name for name in read.unapplied if name != applied)
        return shape.Translation(read.settings, unapplied, read.unknown)


class PackageExperiment(NamedTuple):
    """kedro-mlflow's experiment when the files name none: the package's name."""

    name: str
    package: str | None

    def contributions(self) -> list[Setting]:
        if self.package is None:
            return []
        where = "pyproject.toml [tool.kedro] package_name"
        return [Setting(("mlflow_experiment_name",), self.package, self.name, where)]


class KedroLayout:
    """A Kedro project (SPEC §10): ``conf/``'s base and environment folders, read once per environment."""

    marker = KEDRO_MARKER
    found = True
    environment_variables = ("KEDRO_ENV", "ENV_FOR_DYNACONF")
    own_variable = "KEDRO_ENV"  # `kedro run` reads the folder it names

    __slots__ = ("_confs", "_root", "_settings")

    def __init__(self, root: Path, settings: kedro_settings.KedroSettings) -> None:
        self._root, self._settings = root, settings
        self._confs: dict[tuple[Any, ...], _Conf] = {}  # each environment's reading: a cache, not compared

    @property
    def root(self) -> Path:
        return self._root

    @property
    def settings(self) -> kedro_settings.KedroSettings:
        return self._settings

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KedroLayout) and (self.root, self.settings) == (other.root, other.settings)

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"KedroLayout(root={self.root!r}, settings={self.settings!r})"

    @classmethod
    def at(cls, root: Path, environ: Mapping[str, str] = NO_CACHE) -> KedroLayout:
        return cls(root, kedro_settings.read(root, environ))

    @property
    def conf(self) -> Path:
        return self.root / self.settings.conf_source

    @property
    def default_environment(self) -> str:
        return self.settings.default_run_env

    @property
    def environments(self) -> tuple[str, ...]:
        """The folders of ``conf/`` other than base, and the default run environment."""
        try:
            names = [n for n in os.listdir(self.conf) if not n.startswith(".") and (self.conf / n).is_dir()]
        except OSError:
            names = []
        return tuple(sorted({*names, self.default_environment} - {self.settings.base_env, ""}))

    def file_layers(
        self, layer: str, environment: str | None, environ: Mapping[str, str], dotenv: Mapping[str, str] | None = None
    ) -> list[Layer]:
        """Base's files for `base_file`, the environment folder's for `env_file`; a Kedro project has no local file."""
        if layer == "local_file" or (layer == "env_file" and environment in (None, self.settings.base_env)):
            return []
        conf = self._conf(environment, environ, dotenv or {})
        folder = self.conf / (self.settings.base_env if layer == "base_file" else str(environment))
        found: list[Layer] = [PackageExperiment(layer, self.settings.package)] if layer == "base_file" else []
        found += [KedroFile(layer, path, environ, conf) for path in conf.paths(folder, "mlflow")]
        found += [KedroFile(layer, path, environ, conf, True) for path in conf.paths(folder, "credentials")]
        return found

    def all_files(self) -> list[Path]:
        """``pyproject.toml``, then every file of ``conf/`` any environment reads (mlflow, credentials, globals)."""
        folders = [self.conf / self.settings.base_env, *(self.conf / name for name in self.environments)]
        patterns = self.settings.patterns
        return [self.root / "pyproject.toml"] + [
            path for folder in folders for kind in patterns for path in kedro_conf.files(folder, patterns[kind])
        ]

    def secret_names(self, environment: str) -> frozenset[str]:
        """The variables the credentials entry exports: secret whatever their names (SPEC §11)."""
        confs = [conf for conf in self._confs.values() if conf.environment == environment]
        return frozenset(name for conf in confs for name in conf.exported)

    def problems(self, environment: str) -> list[Problem]:
        """What settings.py could not say, a missing environment folder, and what `kedro run` would refuse."""
        confs = [conf for conf in self._confs.values() if conf.environment == environment][:1]
        folders = [folder for conf in confs for kind in ("mlflow", "globals") for folder in conf.written(kind)]
        return kedro_problems.problems(self.settings, self.conf, environment, folders, self._shown)

    def unknown_environment(self, name: str, source: str) -> ConfigError:
        listed = ", ".join(self.environments)
        if name == self.settings.base_env:
            return ConfigError(
                f"{name!r} (from {source}) is not an environment: {self._shown(self.conf / name)}/ is read under "
                f"every environment; known environments: {listed}",
                hint=f"name one of them; named by nothing, it is {self.default_environment or 'base alone'}",
            )
        hint = did_you_mean(name, self.environments) or f"create {self.conf / name}/ to add it"
        return ConfigError(f"unknown environment {name!r} (from {source}); known environments: {listed}", hint=hint)

    def _shown(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def _conf(self, environment: str | None, environ: Mapping[str, str], dotenv: Mapping[str, str]) -> _Conf:
        key = (environment, tuple(sorted(environ.items())), tuple(sorted(dotenv.items())))
        if key not in self._confs:
            self._confs[key] = _Conf(self, environment, {**dotenv, **environ})
        return self._confs[key]


class _Conf:
    """One environment's reading of ``conf/``: read and evaluated when a layer first asks."""

    def __init__(self, layout: KedroLayout, environment: str | None, environ: Mapping[str, str]) -> None:
        self.layout, self.environment, self.environ = layout, environment, environ

    def paths(self, folder: Path, kind: str) -> list[Path]:
        return kedro_conf.files(folder, self.layout.settings.patterns[kind])

    def data_of(self, layer: str, path: Path) -> dict[str, Any]:
        base, env = self._kind("mlflow")
        kept, over = kedro_conf.merged(base.data, env.data, self.layout.settings.soft("mlflow"))
        folder, data = (base, kept) if layer == "base_file" else (env, over)
        if folder.owner.get("server") == path:
            self._entry  # noqa: B018 (read here, first: the file that names the entry is where a bad one is reported)
        return {key: value for key, value in data.items() if folder.owner.get(key) == path}

    def credential_variables(self, path: Path) -> dict[str, Any]:
        """The credentials entry ``server.credentials`` names, as `env`, if ``path`` is the file that holds it."""
        found = self._entry
        if found is None or found[0] != path:
            return {}
        return {"env": found[1]}

    @functools.cached_property
    def _entry(self) -> tuple[Path, dict[str, Any]] | None:
        """The file that holds the named credentials entry, and the entry; a missing or malformed one is exit 2."""
        settings = self.layout.settings
        base, env = self._kind("mlflow")
        server = kedro_conf.combined(base.data, env.data, settings.soft("mlflow")).get("server")
        name = server.get("credentials") if isinstance(server, Mapping) else None
        if name is None:
            return None
        cbase, cenv = self._kind("credentials")
        entry = kedro_conf.combined(cbase.data, cenv.data, settings.soft("credentials")).get(str(name))
        if entry is None:
            raise self._entry_error(name, "no such entry")
        if not isinstance(entry, Mapping) or not all(
            isinstance(k, str) and not isinstance(v, (Mapping, list)) for k, v in entry.items()
        ):
            raise self._entry_error(name, "it is not a mapping of variable names to single values")
        return (cenv if name in cenv.data else cbase).owner[str(name)], dict(entry)

    @property
    def exported(self) -> frozenset[str]:
        """The variables the credentials entry exports: secret, whatever their names (SPEC §11)."""
        found = self._entry
        return frozenset(found[1]) if found is not None else frozenset()

    def _entry_error(self, name: Any, why: str) -> ConfigError:
        folders = [self.layout.conf / self.layout.settings.base_env, self.layout.conf / str(self.environment)]
        files = [str(path) for folder in folders for path in self.paths(folder, "credentials")]
        searched = ", ".join(files) or f"no credentials files in {' or '.join(str(f) for f in folders)}"
        return ConfigError(
            f"server.credentials names the credentials entry {str(name)!r}: {why} ({searched})",
            hint=f"write `{name}:` with `VARIABLE: value` lines in a credentials file, conf/local/credentials.yml",
        )

    def _kind(self, kind: str) -> tuple[Folder, Folder]:
        return self._folders[kind]

    def written(self, kind: str) -> list[Folder]:
        """The folders of one kind of file as written, before evaluation: base's, then the environment's."""
        return self._read[kind]

    @functools.cached_property
    def _read(self) -> dict[str, list[Folder]]:
        """Each kind's folders as written: base, then the environment's (if it is not base)."""
        settings = self.layout.settings
        names = [settings.base_env] + ([self.environment] if self.environment not in (None, settings.base_env) else [])
        return {
            kind: [kedro_conf.read_folder(self.paths(self.layout.conf / str(n), kind), self.environ) for n in names]
            for kind in ("globals", "mlflow", "credentials")
        }

    @functools.cached_property
    def _folders(self) -> dict[str, tuple[Folder, Folder]]:
        from layered_mlflow.layouts.kedro import interpolation as kedro_interpolation

        settings = self.layout.settings
        read = self._read
        empty = Folder({}, {})
        raw_globals = [
            kedro_interpolation.evaluate(f, self.environ, {}) if _holds(f) else f.data for f in read["globals"]
        ]
        globals_data = kedro_conf.combined(raw_globals[0], (raw_globals[1:] or [{}])[0], settings.soft("globals"))
        out: dict[str, tuple[Folder, Folder]] = {}
        for kind in ("mlflow", "credentials"):
            evaluated = [
                Folder(kedro_interpolation.evaluate(f, self.environ, globals_data), f.owner) if _holds(f) else f
                for f in read[kind]
            ]
            out[kind] = (evaluated[0], (evaluated[1:] or [empty])[0])
        return out


def _holds(folder: Folder) -> bool:
    return kedro_conf.holds_interpolation(folder.data)
