"""A resolved result with its secret references fetched (SPEC §11): only what starts a command needs it.

A reference is resolved after merging, for the winning value only; the commands that only print (`show`,
`explain`, `env`, `--dry-run`) never call ``fetched``.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from types import MappingProxyType

from layered_mlflow.resolution import exports
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets import references
from layered_mlflow.secrets.references import BOUND

_VALUE = operator.attrgetter("value")


def fetched(resolved: Resolved, environ: Mapping[str, str], bound: float = BOUND) -> Resolved:
    """``resolved`` with every reference replaced by what it refers to; ``environ`` is what the command inherits.

    ``bound`` is the seconds for every fetch together (`check --online --timeout 2`: less than BOUND).

    AWS is reached with the command's own variables (the `env` section, `.env`, the
    environment), so that AWS_DEFAULT_REGION or AWS_ENDPOINT_URL in the settings work.
    """
    if not references.any_may_be(map(_VALUE, resolved.settings.values())):
        return resolved
    wanted = {name: s.value for name, s in resolved.settings.items() if references.is_reference(s.value)}
    where = {
        ref: resolved.where(resolved.settings[name]) for name, ref in reversed(wanted.items()) if isinstance(ref, str)
    }
    environment = exports.child_environment(environ, resolved)
    from layered_mlflow.secrets.fetching import fetch_all  # here: its fetchers (json, subprocess) only for a reference

    values = fetch_all(where, environment, bound, resolved.root)
    settings = {
        name: s._replace(value=values[s.value]) if name in wanted and isinstance(s.value, str) else s
        for name, s in resolved.settings.items()
    }
    named = (resolved.layout, resolved.environment, resolved.environment_source)
    return resolved._replace(
        settings=MappingProxyType(settings),
        variables=MappingProxyType(exports.child_variables(settings, exports.environment_variables(*named))),
        fetched=frozenset(wanted),
    )
