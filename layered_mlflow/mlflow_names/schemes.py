"""The URI schemes the installed MLflow and its plugins serve, found without importing mlflow (SPEC §1, §6).

MLflow registers its own stores' schemes in three registries (``_tracking_store_registry.register("file",
…)``, ``for scheme in DATABASE_ENGINES: …``); their source is read by path, and each ``register`` call's
scheme is a literal, a name defined in MLflow, or a loop's variable (parsing the whole files with ``ast``
would cost 20 ms of every `run`). A plugin adds its schemes as entry points of the registry's group. A managed
MLflow's URI (SageMaker's ``arn:aws:sagemaker:…``, Azure ML's ``azureml://…``) is served by a plugin
that may not be installed here: it is valid, and `check` names the package that serves it.
tests/test_uris.py compares what is read here with MLflow's registries themselves.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from layered_mlflow.mlflow_names import variables as mlflow_vars

TRACKING, REGISTRY, ARTIFACTS, DATABASE = "tracking", "registry", "artifacts", "database"
# Where MLflow registers the schemes of its own stores, and the entry points by which plugins add theirs.
_REGISTRIES = {
    TRACKING: ("tracking/_tracking_service/utils.py", "mlflow.tracking_store"),
    REGISTRY: ("tracking/_model_registry/utils.py", "mlflow.model_registry_store"),
    ARTIFACTS: ("store/artifact/artifact_repository_registry.py", "mlflow.artifact_repository"),
}
# The SQLAlchemy dialects MLflow keeps a store in (basic-auth's database too): its DATABASE_ENGINES.
_ENGINES = ("store/db/db_types.py", "DATABASE_ENGINES")
# Managed MLflow services: how their URIs begin, and the plugin package that serves them.
MANAGED = {"arn:aws:sagemaker:": "sagemaker-mlflow", "azureml:": "azureml-mlflow"}


def scheme_of(uri: str) -> str:
    """The scheme MLflow looks a URI up by: ``postgresql+psycopg2://`` is ``postgresql``'s; a bare word its own."""
    return uri.split(":", 1)[0].split("+", 1)[0].lower()


def is_known(uri: str, kind: str) -> bool:
    """Whether the installed MLflow, or an installed plugin, serves ``uri`` as a store of ``kind``.

    Any scheme is, where MLflow's own could not be read (MLflow laid out otherwise): none is called unknown.
    """
    scheme, own = scheme_of(uri), mlflow_schemes(kind)
    return not own or scheme in own or scheme in plugin_schemes(kind)  # the plugins only if need be


def managed_plugin(uri: str) -> str | None:
    """The package that serves ``uri``, a managed MLflow's (``sagemaker-mlflow``); None for other URIs."""
    return next((package for start, package in MANAGED.items() if uri.lower().startswith(start)), None)


@functools.cache
def mlflow_schemes(kind: str) -> frozenset[str]:
    """The schemes the installed MLflow registers itself for stores of ``kind``."""
    folder = mlflow_vars.package()
    if folder is None:
        return frozenset()
    if kind == DATABASE:
        path, name = folder / _ENGINES[0], _ENGINES[1]
        return frozenset(_strings(_definition(path, name), folder, path))
    path = folder / _REGISTRIES[kind][0]
    return frozenset(_registered(mlflow_vars.read(path), folder, path))


@functools.cache
def plugin_schemes(kind: str) -> frozenset[str]:
    """The schemes installed plugins register for stores of ``kind`` (their entry points' names)."""
    if kind not in _REGISTRIES:
        return frozenset()  # basic-auth's database: SQLAlchemy's, no plugin's
    from importlib.metadata import entry_points  # only here: scanning the installed packages costs ~20 ms

    return frozenset(point.name.lower() for point in entry_points(group=_REGISTRIES[kind][1]))


# `….register("file", …)`, `….register(_OSS_UNITY_CATALOG_SCHEME, …)`, `….register(scheme, …)` in a loop.
_REGISTER = re.compile(r"\.register\(\s*(?P<scheme>\"[^\"\n]*\"|\w+)\s*,")
_LOOP = re.compile(r"^[ \t]*for (?P<name>\w+) in (?P<iterable>[^\n]+):[ \t]*$", re.MULTILINE)


def _registered(source: str, folder: Path, path: Path) -> Iterator[str]:
    """The scheme of every ``….register(scheme, …)`` of ``source``; a loop's variable stands for its list."""
    loops = [(loop.start(), loop["name"], loop["iterable"]) for loop in _LOOP.finditer(source)]
    for call in _REGISTER.finditer(source):
        written = call["scheme"]
        # The nearest loop above the call with that variable: `for scheme in ["http", "https"]:`.
        loop = next((text for at, name, text in reversed(loops) if at < call.start() and name == written), written)
        yield from _strings(_expression(loop), folder, path)


def _strings(node: ast.expr | None, folder: Path, path: Path) -> Iterator[str]:
    """The strings an expression of ``path`` stands for: a literal, a list of them, a name defined in MLflow."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for element in node.elts:
            yield from _strings(element, folder, path)
    elif isinstance(node, ast.Name):
        definition = _definition(path, node.id)
        source: Path | None = path
        if definition is None:
            source = _imported_from(folder, path, node.id)
            definition = None if source is None else _definition(source, node.id)
        if definition is not None and source is not None:
            yield from _strings(definition, folder, source)


def _expression(text: str) -> ast.expr | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None


def _definition(path: Path, name: str) -> ast.expr | None:
    """The value of a module-level ``NAME = …`` of one line in ``path``."""
    found = re.search(
        rf"^{re.escape(name)}\s*(?::[^=\n]+)?=\s*(?P<value>[^\n]+)$", mlflow_vars.read(path), re.MULTILINE
    )
    try:
        return ast.parse(found["value"], mode="eval").body if found else None
    except SyntaxError:
        return None


_IMPORT = re.compile(r"^from mlflow\.(?P<module>[\w.]+) import (?:\((?P<names>[^)]*)\)|(?P<line>[^\n]*))", re.MULTILINE)


def _imported_from(folder: Path, path: Path, name: str) -> Path | None:
    """The file of ``from mlflow.x.y import NAME`` in ``path``: mlflow/x/y.py or mlflow/x/y/__init__.py."""
    for found in _IMPORT.finditer(mlflow_vars.read(path)):
        if name in re.findall(r"\w+", found["names"] or found["line"]):
            module = folder.joinpath(*found["module"].split("."))
            return module.with_suffix(".py") if module.with_suffix(".py").is_file() else module / "__init__.py"
    return None
