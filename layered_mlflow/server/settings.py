"""The `server` section's values, validated once for `check` and for `server`/`ui` (SPEC §5, §12).

`invalid` is cheap and runs before every `run`; `refused` adds the combinations
`mlflow server` refuses (read from its click command, mlflow/cli/__init__.py),
for `check` and `server`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from layered_mlflow.mlflow_names import server_options
from layered_mlflow.mlflow_names import variables as mlflow_vars
from layered_mlflow.resolution import precedence
from layered_mlflow.resolution.resolve import Resolved

# key: (lowest, highest) of the integers MLflow's click options take as text (or as any integer: a port);
# the ranges of the others are MLflow's own (click.IntRange).
_RANGES = {
    "port": (1, 65535),
    "workers": (1, None),
    "auth.workspace_cache_max_size": (1, None),
    "auth.workspace_cache_ttl_seconds": (0, None),
    "auth.auth_cache_max_size": (1, None),
    "auth.auth_cache_ttl_seconds": (0, None),
}
# The permissions MLflow's basic-auth defines (READ = Permission(name="READ", …)); 3.18 added DENY.
_PERMISSIONS_FILE = "server/auth/permissions.py"
_PERMISSION = re.compile(r'^\w+ = Permission\(\s*name="(?P<name>\w+)"', re.MULTILINE)
_SERVER_OPTS = ("gunicorn_opts", "waitress_opts", "uvicorn_opts")
_SECURITY = ("allowed_hosts", "cors_allowed_origins", "disable_security_middleware")


def invalid(resolved: Resolved) -> list[str]:
    """Why each value of the `server` section that `mlflow server` would refuse is wrong, all at once.

    Each message names the key, the value and where it was set.
    """
    return list(_invalid(resolved))


def _invalid(resolved: Resolved) -> Iterator[str]:
    for key, (low, high) in _ranges().items():
        text = text_of(resolved, key)
        if text is not None and not _in_range(text, low, high):
            yield f"`server.{key}` must be {_integer(low, high)}, not {text!r} ({_origin(resolved, key)})"
    for key in _booleans():
        text = text_of(resolved, key)
        if text is not None and mlflow_vars.boolean(text.strip()) is None:
            yield f"`server.{key}` must be true or false, not {text!r} ({_origin(resolved, key)})"
    prefix = text_of(resolved, "static_prefix")
    if prefix is not None and (not prefix.startswith("/") or prefix.endswith("/") or "{" in prefix or "}" in prefix):
        yield (
            f"`server.static_prefix` must begin with '/', not end with one, and hold no braces, "
            f"not {prefix!r} ({_origin(resolved, 'static_prefix')})"
        )
    permission = text_of(resolved, "auth.default_permission")
    known = permissions() if permission is not None else ()
    if permission is not None and known and permission not in known:
        yield (
            f"`server.auth.default_permission` must be one of {', '.join(known)}, not {permission!r} "
            f"({_origin(resolved, 'auth.default_permission')})"
        )


def refused(resolved: Resolved, apps: tuple[str, ...]) -> Iterator[str]:
    """The combinations `mlflow server` refuses to start with; ``apps`` are the installed ``--app-name``s."""
    booleans = _booleans()
    on = {key for key in booleans if is_on(resolved, key)}
    given = {key for key in server_options.installed() if text_of(resolved, key) is not None}
    app = text_of(resolved, "app_name")
    if app is not None and app not in apps:
        yield f"`server.app_name` is {app!r} ({_origin(resolved, 'app_name')}); installed: {', '.join(apps)}"
    opts = sorted(given & set(_SERVER_OPTS))
    if len(opts) > 1:
        yield f"`server.{opts[0]}` and `server.{opts[1]}` are both set; `mlflow server` takes one server's options"
    flask = [key for key in ("gunicorn_opts", "waitress_opts") if key in given]
    security = [key for key in _SECURITY if key in given and (key in on or key not in booleans)]
    if flask and security:
        yield f"`server.{security[0]}` works only with uvicorn, not with `server.{flask[0]}`"
    if "dev" in on:
        for key in ("gunicorn_opts", "uvicorn_opts", "app_name"):
            if key in given:
                yield f"`server.dev` cannot be used with `server.{key}` (dev mode runs uvicorn --reload)"
    if "artifacts_only" in on:
        yield from _artifacts_only(resolved, on, given)


def _artifacts_only(resolved: Resolved, on: set[str], given: set[str]) -> Iterator[str]:
    if "backend_store_uri" in given:
        yield "`server.artifacts_only` serves artifacts alone: it cannot have a `server.backend_store_uri`"
    if "serve_artifacts" in given and "serve_artifacts" not in on:
        yield "`server.artifacts_only` without `server.serve_artifacts` serves nothing: no artifact destination"
    if "enable_workspaces" in on and "workspace_store_uri" not in given:
        yield "`server.artifacts_only` with `server.enable_workspaces` needs a `server.workspace_store_uri`"
    if "trace_archival_config" in given:
        yield "`server.trace_archival_config` needs a tracking store, which `server.artifacts_only` has not"


def _ranges() -> dict[str, tuple[int | None, int | None]]:
    """Each integer key's range: MLflow's integer options', then ours."""
    options = server_options.installed().items()
    return {**{key: (option.low, option.high) for key, option in options if option.kind == "integer"}, **_RANGES}


def _booleans() -> tuple[str, ...]:
    options = server_options.installed().items()
    return (
        *(key for key, option in options if option.kind in ("flag", "switch")),
        "auth.grant_default_workspace_access",
    )


def permissions() -> tuple[str, ...]:
    """The permissions of the installed MLflow's basic-auth, read by path; none where it cannot be read."""
    folder = mlflow_vars.package()
    source = "" if folder is None else mlflow_vars.read(folder / _PERMISSIONS_FILE)
    return tuple(match["name"] for match in _PERMISSION.finditer(source))


def apps() -> tuple[str, ...]:
    """The ``--app-name``s the installed MLflow offers (its ``mlflow.app`` entry points), without importing it."""
    from importlib.metadata import entry_points

    return tuple(sorted({point.name for point in entry_points(group="mlflow.app")}))


def is_on(resolved: Resolved, key: str) -> bool:
    text = text_of(resolved, key)
    return text is not None and mlflow_vars.boolean(text.strip()) is True


def text_of(resolved: Resolved, key: str) -> str | None:
    """The section's value for ``key`` (``auth.database_uri``) as a string (a list joined with commas)."""
    setting = resolved.settings.get(f"server.{key}")
    if setting is None or setting.value is None:
        return None
    return ",".join(setting.value) if isinstance(setting.value, tuple) else setting.value


def _in_range(text: str, low: int | None, high: int | None) -> bool:
    number = text.strip()
    digits = number[1:] if number[:1] in ("+", "-") else number
    if not (digits.isascii() and digits.isdigit()):
        return False
    return (low is None or int(number) >= low) and (high is None or int(number) <= high)


def _integer(low: int | None, high: int | None) -> str:
    """What an integer key wants, in words."""
    if low is not None and high is not None:
        return f"an integer from {low} to {high}"
    if low is not None:
        return f"an integer of at least {low}"
    return "an integer" if high is None else f"an integer of at most {high}"


def _origin(resolved: Resolved, key: str) -> str:
    setting = resolved.settings[f"server.{key}"]
    where = f"{setting.source} in the environment" if setting.layer == precedence.PROCESS_ENV.name else setting.source
    return "from " + resolved.relative(where)
