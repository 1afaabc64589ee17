"""Validation that gathers every problem before reporting any (SPEC §5, §7 `check`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Mapping

from layered_mlflow import keys
from layered_mlflow.checks import experiments
from layered_mlflow.checks import tokens as token_checks
from layered_mlflow.checks import values as value_rules
from layered_mlflow.errors import did_you_mean
from layered_mlflow.keys import Key, variable_name
from layered_mlflow.layouts import discovery
from layered_mlflow.layouts.base import root_note
from layered_mlflow.mlflow_names import schemes, server_options
from layered_mlflow.mlflow_names import variables as mlflow_vars
from layered_mlflow.mlflow_names.variables import mlflow_variables
from layered_mlflow.problems import ERROR, NOTE, WARNING, Problem
from layered_mlflow.resolution import artifact_root, precedence, required, uris
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import secrets_of
from layered_mlflow.secrets.references import is_reference
from layered_mlflow.server import settings as server_settings
from layered_mlflow.server.auth_config import ADMIN_VARIABLES
from layered_mlflow.sources import kedro_mlflow_shape as shape
from layered_mlflow.sources.layers import Setting

# Stores MLflow's client reaches over HTTP, through its REST client (mlflow/utils/rest_utils.py).
_HTTP_SCHEMES = ("http", "https", "databricks", "databricks-uc", "uc")
# What each URI key names, for the schemes MLflow and its plugins serve (schemes.py); the other URI keys
# are artifact locations.
_REGISTRY_KEYS = frozenset({("mlflow_registry_uri",), ("server", "registry_store_uri"), ("mlflow_registry_store_uri",)})
_AUTH_DATABASE_KEYS = frozenset({("server", "auth", "database_uri"), ("server", "auth", "read_database_uri")})
_NO_PROJECT_HINT = (
    "only the defaults, .env and the environment apply; cd into a project, or start one with `layered-mlflow init`"
)


_NUL_HINT = "remove the \\0 or \\x00 escape"


def check(resolved: Resolved, environ: Mapping[str, str]) -> list[Problem]:
    """Every problem of ``resolved``: unknown keys, values MLflow would reject, URIs.

    ``environ`` is what the command inherits (MLflow reads its private limits there).
    """
    from layered_mlflow.checks import stores as store_checks

    note = root_note(resolved.layout)
    return [
        *([Problem(NOTE, f"{resolved.root}: {note}", _NO_PROJECT_HINT)] if note else []),
        *discovery.problems(resolved.layout, resolved.environment),
        *(
            Problem(ERROR, f"required {name} has no value", required.ways(name))
            for name in required.missing(resolved, environ)
        ),
        *run_warnings(resolved, environ, with_notes=True),
        *token_checks.source_problems(resolved, environ),
        *token_checks.provider_problem(resolved, environ),
        *experiments.problems(resolved),
        *(
            Problem(ERROR, f"{resolved.where(s)} holds a NUL character, which no environment variable can", _NUL_HINT)
            for s in resolved.settings.values()
            if isinstance(s.value, str) and "\0" in s.value and variable_name(s.key) is not None
        ),
        *store_checks.problems(resolved),
        *_artifact_root(resolved),
        *_allowed_hosts(resolved),
        *_interpolations(resolved),
        *(
            Problem(NOTE, f"{name} is set but empty in the environment; `run` removes it from the command's")
            for name in resolved.unset
            if not name.endswith("_FILE")  # an X_FILE read for X: what it is for, no problem
        ),
        *resolved.file_problems,
    ]


def run_warnings(resolved: Resolved, environ: Mapping[str, str], with_notes: bool = False) -> list[Problem]:
    """What `run` warns about before it runs: names that do nothing, and what `check` calls errors.

    Cheap: no store is opened and mlflow is not imported.
    """
    named, variables = _checked_settings(resolved)
    found = [
        *token_checks.problems(resolved, named),
        *unknown_keys(resolved, named),
        *_no_ops(resolved, named),
        *_values(resolved, environ, variables),
        *(Problem(ERROR, message) for message in server_settings.invalid(resolved)),
        *_combinations(resolved),
        *_uris(resolved, named),
    ]
    return found if with_notes else [p for p in found if p.level != NOTE]


def _checked_settings(resolved: Resolved) -> tuple[list[Setting], list[Setting]]:
    """The settings whose names or values are checked, and of them those exported as MLflow's variables.

    `env` and `tags` take any name, and an `env` section may hold 20,000 entries:
    one pass sets them aside, but for the `env` entries that are MLflow variables.
    """
    named: list[Setting] = []
    variables: list[Setting] = []  # in the settings' order, as the problems are said
    for setting in resolved.settings.values():
        head = setting.key[0]
        if head == "env":
            if setting.key[1].startswith("MLFLOW_"):
                variables.append(setting)
        elif head != "tags":
            named.append(setting)
            variables.append(setting)
    return named, variables


_KNOWN_HEADS = frozenset((*keys.SECTIONS, *keys.NAME_LISTS))
_UNCHECKED_HEADS = _KNOWN_HEADS - {"server", "experiment"}  # whose names are not checked here: `env`, `tags`, …


def unknown_keys(resolved: Resolved, settings: Iterable[Setting]) -> Iterator[Problem]:
    """Names that do nothing: not an MLflow variable, not a layered-mlflow key (warnings)."""
    known = mlflow_variables()
    for setting in settings:
        head = setting.key[0]
        if head in _UNCHECKED_HEADS:
            continue
        # basic-auth's admin: variables of MLflow's since 3.15, before that written in its config by `server`.
        if head.startswith("mlflow_") and known and head.upper() not in known and head.upper() not in ADMIN_VARIABLES:
            hint = did_you_mean(head.upper(), known, cutoff=0.8, spell=_spelling(setting))
            yield Problem(
                WARNING, f"{resolved.where(setting)} is not an MLflow variable; it is exported but unused", hint
            )
        elif head not in _KNOWN_HEADS and not head.startswith("mlflow_"):
            hint = did_you_mean(head, [*keys.SECTIONS, "mlflow_tracking_uri"], cutoff=0.7)
            hint = hint or "MLflow variables start with mlflow_"
            yield Problem(WARNING, f"{resolved.where(setting)} is not a layered-mlflow key; it is ignored", hint)
        elif head == "server" and len(setting.key) == 2 and _unknown_server_key(setting.key[1]):
            options = server_options.installed()
            hint = did_you_mean(setting.key[1], options, spell="server.{}".format)
            hint = hint or f"the keys are {', '.join(options)}"
            if not setting.key[1].startswith("mlflow_"):  # a variable in the wrong place: _no_ops says so
                yield Problem(WARNING, f"{resolved.where(setting)} is not a `server` key", hint)
        elif head == "experiment" and setting.key[1] not in keys.EXPERIMENT_KEYS:
            hint = f"the keys are {', '.join(keys.EXPERIMENT_KEYS)}"
            yield Problem(WARNING, f"{resolved.where(setting)} is not an `experiment` key", hint)


def _unknown_server_key(name: str) -> bool:
    """Not an option of the installed `mlflow server`; nothing is, where its options could not be read."""
    options = server_options.installed()
    return bool(options) and name not in options


def _no_ops(resolved: Resolved, settings: Iterable[Setting]) -> Iterator[Problem]:
    """`server.mlflow_*` left after kedro-mlflow's shape is translated: a variable in the wrong place."""
    for setting in settings:
        if setting.key[0] != "server" or len(setting.key) != 2 or not setting.key[1].startswith("mlflow_"):
            continue
        variable = setting.key[1].upper()
        if precedence.kind(setting.layer).spells_variables:
            hint = f"set {variable} itself"
        else:
            hint = shape.misplaced_hint(setting.key[1]) or f"write {setting.key[1]} at the top level"
        yield Problem(WARNING, f"{resolved.where(setting)} does nothing: it is not a `server` key", hint)


def _values(resolved: Resolved, environ: Mapping[str, str], settings: Iterable[Setting]) -> Iterator[Problem]:
    http, secrets = _talks_http(resolved), None
    # MLflow reads its private limits in the command's environment: what `run` sets, else what it inherits.
    limits = {
        name: value
        for name in value_rules.LIMITS
        if (value := resolved.variables.get(name, environ.get(name))) is not None
    }
    for setting in settings:
        name = variable_name(setting.key)
        if name is None or not name.startswith("MLFLOW_") or not isinstance(setting.value, str):
            continue
        if is_reference(setting.value):
            continue  # fetched when needed; its value is not known here
        refused = value_rules.refusal(name, setting.value, limits, http)
        if refused is not None:  # rare: what is secret is worked out only to quote a refused value
            secrets = secrets_of(resolved) if secrets is None else secrets
            shown = secrets.mask(name, setting.value)
            yield Problem(ERROR, f"{resolved.where(setting)} = {shown!r} {refused.reason}", refused.hint)


def _talks_http(resolved: Resolved) -> bool:
    stores = (resolved.variables.get("MLFLOW_TRACKING_URI", ""), resolved.variables.get("MLFLOW_REGISTRY_URI", ""))
    return any(uri.split(":", 1)[0].lower() in _HTTP_SCHEMES for uri in stores)


def _combinations(resolved: Resolved) -> Iterator[Problem]:
    def get(key: str) -> Setting | None:
        return resolved.settings.get(key)

    insecure, cert = get("mlflow_tracking_insecure_tls"), get("mlflow_tracking_server_cert_path")
    if insecure and cert and _talks_http(resolved) and mlflow_vars.boolean(str(insecure.value)):
        yield Problem(
            ERROR, f"{resolved.where(insecure)} is true while {resolved.where(cert)} is set; MLflow refuses both"
        )
    token, user, password = (
        get("mlflow_tracking_token"),
        get("mlflow_tracking_username"),
        get("mlflow_tracking_password"),
    )
    if token and user and password:
        yield Problem(
            WARNING,
            f"{resolved.where(token)} is ignored: MLflow uses {resolved.where(user)} and its password first",
        )


def _uris(resolved: Resolved, settings: Iterable[Setting]) -> Iterator[Problem]:
    for setting in settings:
        if setting.key not in keys.URI_KEYS or not isinstance(setting.value, str) or is_reference(setting.value):
            continue
        kind = _store_kind(setting.key)
        scheme = setting.value.split(":", 1)[0].lower() if ":" in setting.value else setting.value
        if not schemes.is_known(setting.value, kind):
            yield _unknown_scheme(resolved, setting, kind, scheme)
        elif kind != schemes.ARTIFACTS and scheme == "postgresql":
            yield Problem(
                WARNING,
                f"{resolved.where(setting)} names no driver: SQLAlchemy 2.1 then wants psycopg 3",
                "write postgresql+psycopg2:// (or install psycopg)",
            )
        elif setting.key == ("mlflow_tracking_uri",) and uris.is_file_store(setting.value):
            yield Problem(
                NOTE,
                f"{resolved.where(setting)} is a file store, which MLflow keeps in maintenance mode",
                "sqlite:///mlflow.db is a drop-in local store",
            )


def _store_kind(key: Key) -> str:
    if key in _AUTH_DATABASE_KEYS:
        return schemes.DATABASE  # basic-auth's users: a SQLAlchemy database
    if key in _REGISTRY_KEYS:
        return schemes.REGISTRY
    return schemes.TRACKING if key in keys.DATABASE_KEYS else schemes.ARTIFACTS


def _unknown_scheme(resolved: Resolved, setting: Setting, kind: str, scheme: str) -> Problem:
    """A managed MLflow's URI without its plugin is a warning naming the plugin; any other scheme an error."""
    package = schemes.managed_plugin(str(setting.value))
    if package is not None:
        return Problem(
            WARNING,
            f"{resolved.where(setting)} is a managed MLflow's URI, served by the {package} plugin, "
            "which is not installed: MLflow cannot open it",
            f"pip install {package}",
        )
    known = sorted({*schemes.mlflow_schemes(kind), *schemes.plugin_schemes(kind)} - {""})
    served = "the SQLAlchemy databases" if kind == schemes.DATABASE else "MLflow and its installed plugins"
    return Problem(
        ERROR, f"{resolved.where(setting)} has an unknown scheme {scheme!r}", f"{served} know {', '.join(known)}"
    )


def _allowed_hosts(resolved: Resolved) -> Iterator[Problem]:
    """The server's Host check, offline: the Host header the tracking URI sends must be in `server.allowed_hosts`.

    As MLflow's security middleware matches it: `*` allows every host, a pattern with `*` is a glob,
    anything else the header itself (with its port, unless the scheme's default).
    """
    tracking = resolved.settings.get("mlflow_tracking_uri")
    allowed = server_settings.text_of(resolved, "allowed_hosts")
    if tracking is None or allowed is None or server_settings.is_on(resolved, "disable_security_middleware"):
        return
    host = _host_header(str(tracking.value))
    patterns = [pattern.strip() for pattern in allowed.split(",") if pattern.strip()]
    if host is None or "*" in patterns:
        return
    if not any(fnmatch.fnmatchcase(host, pattern) if "*" in pattern else host == pattern for pattern in patterns):
        setting = resolved.settings["server.allowed_hosts"]
        yield Problem(
            WARNING,
            f"{resolved.where(tracking)} sends the Host header {host!r}, which {resolved.where(setting)} "
            "does not allow: the server answers 403 to every API call",
            f"add {host} to server.allowed_hosts",
        )


def _host_header(uri: str) -> str | None:
    """The Host header an HTTP client sends to ``uri``; None for a store that is no HTTP server."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:  # not a port: `check` says so where it reaches the server
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return host if port in (None, 80 if parts.scheme == "http" else 443) else f"{host}:{port}"


def _artifact_root(resolved: Resolved) -> Iterator[Problem]:
    """A sqlite: store's artifacts stay in the project only while MLflow reads its private variable (SPEC §6)."""
    tracking = resolved.settings.get("mlflow_tracking_uri")
    if tracking is None or not artifact_root.applies(str(tracking.value)):
        return
    if artifact_root.read_by_installed_mlflow() is False:
        yield Problem(
            WARNING,
            f"{resolved.where(tracking)} is a sqlite: store, but the installed MLflow no longer reads "
            f"{artifact_root.VARIABLE} ({artifact_root.SOURCE}): new experiments keep their artifacts in "
            "./mlruns of the working directory",
            "run from the project root, or give each experiment an artifact_location",
        )


def _interpolations(resolved: Resolved) -> Iterator[Problem]:
    """``${…}`` outside a URI (where it is an error) reaches the command as written: a run named ``${km…}``."""
    for setting in resolved.settings.values():
        if precedence.kind(setting.layer).is_file and isinstance(setting.value, str) and "${" in setting.value:
            yield Problem(
                WARNING,
                f"{resolved.where(setting)} holds a ${{…}} interpolation, which settings files do not evaluate; "
                "the command gets it as written",
                "write the value itself, or use Dynaconf's '@format {env[NAME]}'",
            )


def _spelling(setting: Setting) -> Callable[[str], str]:
    """How a suggested variable name is written in ``setting``'s layer: as a variable, or as a key."""
    return str if precedence.kind(setting.layer).spells_variables else str.lower
