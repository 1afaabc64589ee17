"""Reading one settings file through Dynaconf, sealed off from the environment.

This is the only module that touches Dynaconf. Dynaconf parses the YAML and
evaluates its value language (``@int``, ``@json``, ``@format``, ``@jinja``);
the layering itself is ours (SPEC §3), so each file is read on its own.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from layered_mlflow.errors import ConfigError, shown
from layered_mlflow.sources import kedro_mlflow_shape as shape
from layered_mlflow.sources import reading, yaml_limits

# Every Dynaconf setting that reading a file consults, given explicitly: Dynaconf
# would otherwise take each from a `*_FOR_DYNACONF` variable of the environment.
_SEALED: Mapping[str, Any] = {
    "SETTINGS_FILE_FOR_DYNACONF": [],
    "INCLUDES_FOR_DYNACONF": [],
    "PRELOAD_FOR_DYNACONF": [],
    "SECRETS_FOR_DYNACONF": None,
    "SKIP_FILES_FOR_DYNACONF": [],
    "LOADERS_FOR_DYNACONF": [],
    "CORE_LOADERS_FOR_DYNACONF": ["YAML"],
    "ENVIRONMENTS_FOR_DYNACONF": False,
    "ENVVAR_PREFIX_FOR_DYNACONF": False,
    "YAML_LOADER_FOR_DYNACONF": "safe_load",
    "ENCODING_FOR_DYNACONF": "utf-8",
    "AUTO_CAST_FOR_DYNACONF": True,
    "MERGE_ENABLED_FOR_DYNACONF": False,
    "DOTTED_LOOKUP_FOR_DYNACONF": False,
    "LOWERCASE_READ_FOR_DYNACONF": True,
    "APPLY_DEFAULT_ON_NONE_FOR_DYNACONF": None,
    "SYSENV_FALLBACK_FOR_DYNACONF": False,
    "FRESH_VARS_FOR_DYNACONF": [],
    "VALIDATE_ON_UPDATE_FOR_DYNACONF": False,
    "REDIS_ENABLED_FOR_DYNACONF": False,
    "VAULT_ENABLED_FOR_DYNACONF": False,
    "COMMENTJSON_ENABLED_FOR_DYNACONF": False,
    # Dynaconf's defaults, given too: looked up on every key set, a missing one is a search of every key
    # so far (case-insensitively), and a file of N top-level keys cost N² (2,000 keys took 20 s).
    "NESTED_SEPARATOR_FOR_DYNACONF": "__",
    "INDEX_SEPARATOR_FOR_DYNACONF": None,
    "DYNABOXIFY": True,
    "dynaconf_skip_loaders": True,
    "dynaconf_skip_validators": True,
}


# Dynaconf's package imports its Flask and Django integrations whenever they are installed (as
# they are beside MLflow), and jinja2 for `@jinja`: some 80 ms that reading YAML never uses. The
# command line keeps them out while Dynaconf loads (within ``lean_dynaconf()``); the Python API does
# not, since the process that calls it may use Dynaconf with Flask itself.
_lean = False


@contextlib.contextmanager
def lean_dynaconf() -> Iterator[None]:
    """Within it, Dynaconf loads without its Flask, Django and (unless a settings file asks) Jinja parts.

    The console script's own step: the flag is set for the command it runs and restored after, so a
    program that imports layered_mlflow never finds it changed.
    """
    global _lean
    before, _lean = _lean, True
    try:
        yield
    finally:
        _lean = before


class _Skip:
    """Makes ``import NAME`` fail for the packages named, as if they were not installed."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is kept out while Dynaconf loads", name=fullname)


def _import_dynaconf(folder: Path) -> None:
    if not _lean or "dynaconf" in sys.modules:
        return
    skipped = {"flask", "django"}
    if not any("jinja" in _peek(path) for path in folder.glob("mlflow*.y*ml")):  # "\x40jinja" too
        skipped.add("jinja2")
    finder = _Skip(skipped - set(sys.modules))
    sys.meta_path.insert(0, finder)
    try:
        import dynaconf.base  # noqa: F401 (imported for its side effect: loading the package lean)
    finally:
        sys.meta_path.remove(finder)


def _peek(path: Path) -> str:
    try:  # any file of the folder, even another environment's: never one that would block
        return reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT).decode("utf-8", errors="replace")
    except ConfigError:
        return ""  # reading it for real reports the problem


def read_settings_file(path: Path, environ: Mapping[str, str], outside: list[str] | None = None) -> dict[str, Any]:
    """The top-level mapping of ``path``, keys lower-cased, Dynaconf's values evaluated.

    ``@format``'s and ``@jinja``'s ``env`` is ``environ``, the environment resolution
    was given, never ``os.environ`` behind its back. ``outside`` gets the converter of
    each value so evaluated (it may read the environment, or another file).
    """
    return parse_settings_file(path, reading.read_bytes(path, str(path), reading.SETTINGS_LIMIT), environ, outside)


def parse_settings_file(
    path: Path, raw: bytes, environ: Mapping[str, str], outside: list[str] | None = None
) -> dict[str, Any]:
    """``read_settings_file`` of ``raw``, the bytes of ``path`` as read once (the cache keys an entry by them)."""
    text = decoded(path, raw)
    yaml_limits.refuse_deep_nesting(path, text)  # first: refused, it needs no Dynaconf (some 45 ms to import)
    _import_dynaconf(path.parent)
    # Only aliases (`*name`) can make a document grow; a document that may have many keys is counted.
    if "*" in text or yaml_limits.may_have_many_keys(text):
        root = _compose(path, text)
        yaml_limits.refuse_many_keys(path, root)  # first: past the limit, it is all the message needs to say
        yaml_limits.refuse_expansion(path, root)
    from dynaconf.base import Settings
    from dynaconf.loaders import yaml_loader
    from dynaconf.utils.parse_conf import Lazy, MetaValue

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices about stray variables
        settings = Settings(ROOT_PATH_FOR_DYNACONF=str(path.parent), **_SEALED)
        try:
            # The text, never the path: Dynaconf splits a path on commas (`/a.yml,b/…`) and reads other files.
            yaml_loader.load(settings, env="_envless", filename=[_as_source(text)], silent=False, identifier=_LOADER)
        except Exception as exc:
            raise _load_error(path, text, exc) from None
        keys = next(
            (list(data) for source, data in settings.loaded_by_loaders.items() if source.loader == _LOADER),
            [],
        )

        def plain(value: Any, name: str, as_written: bool = True, depth: int = 0) -> Any:
            if isinstance(value, Lazy):  # '@jinja {{ ... }}' and the like: rendered, braces and all
                if outside is not None:
                    outside.append(str(value)[: str(value).find(" ")])  # the converter: @format, @jinja …
                value, as_written = _evaluate(value, settings, environ), False
            if isinstance(value, (Mapping, list)) and depth == yaml_limits.MAX_DEPTH:  # block nesting, aliases
                raise ConfigError(
                    f"{path}: lists and mappings nest more than {yaml_limits.MAX_DEPTH} levels deep",
                    hint="flatten the structure",
                )
            # Through dict's and list's own methods: Dynaconf's containers would evaluate a Lazy value on
            # access, with os.environ as its `env`.
            if isinstance(value, dict):
                return {
                    _text(path, str(k)): plain(v, f"{name}.{k}", as_written, depth + 1) for k, v in dict.items(value)
                }
            if isinstance(value, list):
                return [plain(item, name, as_written, depth + 1) for item in list.__iter__(value)]
            if isinstance(value, bytes):  # YAML's !!binary: no variable holds bytes, and str() would be "b'…'"
                raise ConfigError(
                    f"{path}: `{shown(name)}` is binary data (!!binary), which no environment variable can hold",
                    hint="write the value as text, without !!binary",
                )
            if isinstance(value, MetaValue):  # @del, @reset, @merge: Dynaconf's merging, not ours
                raise ConfigError(
                    f"{path}: {value.__class__.__name__.lower()} markers (@del, @reset, @merge) do not apply here",
                    hint="layers merge key by key already; write null to say nothing",
                )
            if isinstance(value, str) and as_written and (found := shape.PLACEHOLDER.search(value)):
                raise shape.placeholder_error(path, text, found.group())
            return _text(path, value) if isinstance(value, str) else value

        def evaluated(key: Any) -> Any:
            try:
                return plain(dict.get(settings.store, key), str(key).lower())
            except ConfigError:
                raise
            except Exception as exc:  # Dynaconf's value language: @format, @jinja, @int … that fail
                raise ConfigError(
                    f"{path}: `{str(key).lower()}`: Dynaconf could not evaluate its value ({type(exc).__name__})",
                    hint="check its @format, @jinja or other @ converter (their env is the process environment)",
                ) from None

        return {str(key).lower(): evaluated(key) for key in keys}


_LOADER = "layered_mlflow"


def _evaluate(lazy: Any, settings: Any, environ: Mapping[str, str]) -> Any:
    """A Dynaconf ``Lazy`` value, as ``Lazy.__call__`` evaluates it but with our ``env`` (it reads ``os.environ``)."""
    result = lazy.formatter(lazy.value, env=environ, this=settings)
    return result if lazy.casting is None else lazy.casting(result)


def _as_source(text: str) -> str:
    """``text`` as Dynaconf's loader takes text: it opens a "source" ending in .yml or .yaml as a file."""
    from dynaconf.constants import YAML_EXTENSIONS

    return f"{text}\n" if text.endswith(YAML_EXTENSIONS) else text


def _text(path: Path, value: str) -> str:
    """``value``, if it is text: a YAML escape such as "\\ud800" can make a lone surrogate, which is not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"{path}: a \\u escape makes half a character (a lone surrogate)",
            hint="write the character itself, or a \\U escape of the whole code point",
        ) from None
    return value


def decoded(path: Path, raw: bytes) -> str:
    """The text of a YAML or JSON file: UTF-8 (``reading.decode``), without the NUL of a binary file."""
    text = reading.decode(raw, str(path))
    if "\x00" in text:
        raise ConfigError(f"{path}: a binary file, not YAML text")
    return text


def _load_error(path: Path, text: str, exc: Exception) -> ConfigError:
    """Why Dynaconf could not load the file: a YAML error, or a top level that is not a mapping."""
    if _isyaml_error(exc):
        return yaml_error(path, text, exc)
    from dynaconf.vendor.ruamel import yaml

    node = _compose(path, text)  # Dynaconf assumes a mapping and fails obscurely on anything else
    if node is not None and not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        return ConfigError(
            f"{path}: the top level is {kind}; it must be a mapping of keys to values",
            hint="write `key: value` lines, for example `mlflow_tracking_uri: mlruns`",
        )
    return ConfigError(
        f"{path}: Dynaconf could not load it ({type(exc).__name__})",
        hint="check the values written with an @ converter (@int, @json, @format …)",
    )


def _compose(path: Path, text: str) -> Any:
    """The document's node graph (aliases shared, not expanded), every failure a ConfigError."""
    from dynaconf.vendor.ruamel import yaml
    from dynaconf.vendor.ruamel.yaml.error import ReusedAnchorWarning

    try:
        with warnings.catch_warnings():
            # YAML lets a later anchor of the same name win, as Dynaconf's own load does; the warning would
            # quote both lines, which may hold a secret.
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            return yaml.compose(text)
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply") from None
    except Exception as exc:
        if _isyaml_error(exc):
            raise yaml_error(path, text, exc) from None
        raise


def _isyaml_error(exc: Exception) -> bool:
    from dynaconf.vendor.ruamel.yaml.error import YAMLError

    # DuplicateKeyError is a warning class in ruamel, but carries the same marks.
    return isinstance(exc, YAMLError) or hasattr(exc, "problem_mark")


def yaml_error(path: Path, text: str, exc: Any) -> ConfigError:
    """Names file, line and column, never the offending text (it may hold a secret).

    ``exc`` is ruamel's error or PyYAML's (a Kedro file): ruamel keeps PyYAML's attributes.
    """
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    lines = text.splitlines()
    # An unquoted `{{ python_package }}` is a flow mapping inside a flow mapping: YAML refuses it.
    if mark is not None and mark.line < len(lines) and (placeholder := shape.placeholder_on(lines[mark.line])):
        return shape.placeholder_error(path, text, placeholder, mark.line + 1)
    if mark is not None:
        where = f"{path}:{mark.line + 1}:{mark.column + 1}"
        problem = str(exc.problem or exc.context or "invalid YAML")
    elif isinstance(getattr(exc, "position", None), int):  # the reader refused a character
        line_start = text.rfind("\n", 0, exc.position) + 1
        where = f"{path}:{text.count(chr(10), 0, exc.position) + 1}:{exc.position - line_start + 1}"
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"character {code:#x} is not allowed"
    else:
        where, problem = str(path), type(exc).__name__
    if problem.startswith("found duplicate key"):
        problem = problem.split(" with value ")[0]  # the key's name, not its values
    else:  # the parser quotes what it could not read: a tag, an alias, a character of a password
        problem = _QUOTED.sub(lambda found: found.group() if _is_syntax(found) else _ELIDED[found.group()[0]], problem)
    return ConfigError(f"{where}: invalid YAML: {problem}", hint="fix the YAML syntax at that line")


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_ELIDED = {"'": "'…'", '"': '"…"'}


def _is_syntax(found: re.Match[str]) -> bool:
    """A quoted token name (`'<stream end>'`), a tab, or what the parser expected (`expected ','`)."""
    quoted = found.group()[1:-1]
    before = found.string[: found.start()]
    expected = len(quoted) == 1 and before.endswith(("expected ", " or "))
    return expected or quoted == "\\t" or re.fullmatch(r"<[a-z ]+>", quoted) is not None
