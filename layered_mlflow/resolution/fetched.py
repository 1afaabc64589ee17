"""A resolved result with its secret references fetched (SPEC §11): only what starts a command needs it.

A reference is resolved after merging, for the winning value only; the commands that only print (`show`,
`explain`, `env`, `--dry-run`) never call ``fetched``.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from types import MappingProxyType

from layered_mlflow import keys
from layered_mlflow.keys import Value
from layered_mlflow.resolution import exports
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets import references
from layered_mlflow.secrets.references import BOUND
from layered_mlflow.sources.layers import Setting

_VALUE = operator.attrgetter("value")


def fetched(resolved: Resolved, environ: Mapping[str, str], bound: float = BOUND) -> Resolved:
    """``resolved`` with every reference replaced by what it refers to, and every secret as a file by the path of
    a memory file that holds it (secrets/files.py); ``environ`` is what the command inherits.

    ``bound`` is the seconds for every fetch together (`check --online --timeout 2`: less than BOUND).

    AWS is reached with the command's own variables (the `env` section, `.env`, the
    environment), so that AWS_DEFAULT_REGION or AWS_ENDPOINT_URL in the settings work.
    """
    if not references.any_may_be(map(_VALUE, resolved.settings.values())):
        return resolved
    wanted = {name: s.value for name, s in resolved.settings.items() if references.is_reference(s.value)}
    # A secret as a file: its content, or the reference to fetch it from.
    as_files = {name: held for name, s in resolved.settings.items() if (held := references.file_content(s.value))}
    wanted.update((name, held) for name, held in as_files.items() if references.is_reference(held))
    where = {
        ref: resolved.where(resolved.settings[name]) for name, ref in reversed(wanted.items()) if isinstance(ref, str)
    }
    values: dict[str, str] = {}
    if where:
        from layered_mlflow.secrets.fetching import fetch_all  # here: its fetchers (json, subprocess) for a reference

        values = fetch_all(where, exports.child_environment(environ, resolved), bound, resolved.root)
    settings = {
        name: s._replace(value=_value(name, s, wanted, as_files, values)) if name in wanted or name in as_files else s
        for name, s in resolved.settings.items()
    }
    named = (resolved.layout, resolved.environment, resolved.environment_source)
    return resolved._replace(
        settings=MappingProxyType(settings),
        variables=MappingProxyType(exports.child_variables(settings, exports.environment_variables(*named))),
        fetched=frozenset(wanted) | frozenset(as_files),
    )


def _value(
    name: str, setting: Setting, wanted: Mapping[str, Value], files: Mapping[str, str], values: Mapping[str, str]
) -> str:
    """The value the command gets: what a reference names, or the path of a file that holds a secret."""
    reference = wanted.get(name)
    value = values[reference] if isinstance(reference, str) else files[name]
    if name not in files:
        return value
    from layered_mlflow.secrets import files as memory_files

    return memory_files.held(value, keys.variable_name(setting.key) or name)
