"""Where a problem of `check` is: the key, its layer, the file and line, for programs (`check --format json|github`).

A problem names the setting it is about as ``Resolved.where`` writes it (``mlflow_x (settings/mlflow.yml)``,
``MLFLOW_X (environment)``); an error about a file starts with ``path:line:`` (a YAML error, a `.env` line).
Both are read back here, so that no check has to say twice where its problem is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from layered_mlflow.keys import Key, variable_name
from layered_mlflow.problems import Problem
from layered_mlflow.resolution import precedence
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import Secrets
from layered_mlflow.sources import kedro_mlflow_shape as kedro
from layered_mlflow.sources.dotenv_files import first_written_line
from layered_mlflow.sources.layers import Setting

# After the file of a message that starts with `path:line:` or `path:line:column:` (bad YAML, a `.env` line).
_LINE = re.compile(r":(?P<line>[0-9]+)(?::[0-9]+)?: ")
# Our key -> kedro-mlflow's, to find a translated key's line in a kedro-mlflow file.
_KEDRO_SPELLING: Mapping[Key, Key] = {ours: theirs for theirs, ours in kedro.MAPPING.items()}


class Located(NamedTuple):
    """A problem as programs read it: secrets masked, and where it is, as far as is known (else None)."""

    level: str
    message: str
    hint: str | None
    key: str | None
    layer: str | None
    file: str | None  # absolute
    line: int | None

    def document(self) -> dict[str, Any]:
        return self._asdict()


def located(problem: Problem, resolved: Resolved | None, root: Path, secrets: Secrets | None) -> Located:
    """``problem`` with its key, layer, file and line; ``resolved`` is None where the settings did not load."""
    scrub = secrets.scrub_values if secrets is not None else str
    hint = scrub(problem.hint) if problem.hint is not None else None
    setting = _named_setting(problem.message, resolved) if resolved is not None else None
    if setting is not None:
        file = setting.source if _is_file(setting) else None
        line = _line(Path(file), setting) if file is not None else None
        return Located(problem.level, scrub(problem.message), hint, setting.name, setting.layer, file, line)
    file, line = _file_line(problem.message, root)
    return Located(problem.level, scrub(problem.message), hint, None, None, file, line)


def _file_line(message: str, root: Path) -> tuple[str | None, int | None]:
    """The file and line a message starts with (``path:line:`` or ``path:line:column:``), if that file exists."""
    for found in _LINE.finditer(message):
        path = root / message[: found.start()]  # an absolute path stays as it is
        if found.start() and path.is_file():
            return str(path), int(found["line"])
    return None, None


def _named_setting(message: str, resolved: Resolved) -> Setting | None:
    """The setting the message names first (the longest spelling where two start at one place)."""
    best: tuple[int, int, Setting] | None = None
    for said in resolved.history.values():
        for setting in said:
            spelled = resolved.where(setting)
            at = message.find(spelled)
            if at >= 0 and (best is None or (at, -len(spelled)) < (best[0], -best[1])):
                best = (at, len(spelled), setting)
    return best[2] if best is not None else None


def _is_file(setting: Setting) -> bool:
    return setting.layer == "dotenv" or (
        setting.layer in {k.name for k in precedence.LAYERS if k.is_file} and Path(setting.source).is_absolute()
    )


def _line(path: Path, setting: Setting) -> int | None:
    """The line of ``path`` where ``setting`` is written: a `.env` variable, or a YAML/JSON key (nested ones too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if setting.layer == "dotenv":
        name = variable_name(setting.key)
        return _dotenv_line(text, name) if name is not None else None
    return _yaml_line(text, setting.key)


def _dotenv_line(text: str, name: str) -> int | None:
    """The last line that binds ``name`` (the last binding is the file's word), as python-dotenv parses it."""
    import io

    from dotenv.parser import parse_stream

    lines = [first_written_line(b.original) for b in parse_stream(io.StringIO(text)) if b.key == name]
    return lines[-1] if lines else None


def _yaml_line(text: str, key: Key) -> int | None:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    lines = dict(_key_lines(node, ()))
    for spelled in (key, _KEDRO_SPELLING.get(key)):
        if spelled is not None and spelled in lines:
            return lines[spelled]
    return None


def _key_lines(node: Any, path: Key) -> Iterator[tuple[Key, int]]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            here = (*path, str(key_node.value))
            yield here, key_node.start_mark.line + 1
            yield from _key_lines(value_node, here)
