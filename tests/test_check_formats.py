"""`check --format json|github` and `explain --format json` (SPEC §15): the text forms' facts, for programs.

The JSON is read back with json.loads, the annotations with a small parser of GitHub's workflow-command syntax
(actions/toolkit's command.ts), and both are compared with what the text forms say.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from layered_mlflow.checks.located import Located
from layered_mlflow.cli.check_output import annotation, escape_property
from tests.conftest import Project

SETTINGS = """\
mlflow_traking_uri: x
server:
  portt: 5
mlflow_http_request_timeout: abc
"""
DOTENV = "# a comment\n\nMLFLOW_HTTP_REQUEST_MAX_RETRIES=many\n"
_COMMAND = re.compile(r"::(?P<command>error|warning|notice)(?: (?P<properties>[^:]*))?::(?P<data>.*)")


def _unescape(text: str, *, property_value: bool = False) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if property_value else [])
    for written, meant in [*pairs, ("%25", "%")]:
        text = text.replace(written, meant)
    return text


def parse_annotations(stdout: str) -> list[dict[str, str]]:
    """Each workflow command of ``stdout`` as GitHub's runner reads it: command, properties and message."""
    found = []
    for line in stdout.splitlines():
        command = _COMMAND.fullmatch(line)
        assert command is not None, f"not a workflow command: {line!r}"
        parsed = {"command": command["command"], "message": _unescape(command["data"])}
        for pair in (command["properties"] or "").split(","):
            name, _, value = pair.partition("=")
            parsed[name] = _unescape(value, property_value=True)
        found.append(parsed)
    return found


def _text_problems(stdout: str) -> list[str]:
    """The problem lines of `check`'s text form (the indented ones)."""
    return [line.strip() for line in stdout.splitlines() if line.startswith("  ")]


def _as_text(problem: dict[str, Any]) -> str:
    hint = f" (hint: {problem['hint']})" if problem["hint"] else ""
    return f"{problem['level']}: {problem['message']}{hint}"


def test_check_json_holds_every_problem_of_the_text_form_with_where_it_is(project: Project) -> None:
    """Each problem's level, message and hint are the text form's line; key, layer, file and line say where."""
    project.write("settings/mlflow.yml", SETTINGS)
    project.write(".env", DOTENV)
    env = {"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "slow"}
    text = project.cli("check", env=env)
    result = project.cli("check", "--format", "json", env=env)
    assert (result.returncode, text.returncode) == (1, 1), result
    document = result.json()
    assert document["exit_code"] == 1
    [environment] = document["environments"]
    assert environment["environment"] == "development"
    assert environment["loads"] is True
    problems = environment["problems"]
    assert [_as_text(p) for p in problems] == _text_problems(text.stdout)
    assert (environment["errors"], environment["warnings"]) == (
        sum(p["level"] == "error" for p in problems),
        sum(p["level"] == "warning" for p in problems),
    )
    where = {p["key"]: (p["layer"], p["file"], p["line"]) for p in problems if p["key"]}
    settings_file = str(project.root / "settings" / "mlflow.yml")
    assert where["mlflow_traking_uri"] == ("base_file", settings_file, 1)
    assert where["server.portt"] == ("base_file", settings_file, 3)
    assert where["mlflow_http_request_timeout"] == ("base_file", settings_file, 4)
    assert where["mlflow_http_request_max_retries"] == ("dotenv", str(project.root / ".env"), 3)
    assert where["mlflow_http_request_backoff_factor"] == ("process_env", None, None)


def test_check_json_of_settings_that_do_not_load_names_the_file_and_line(project: Project) -> None:
    """Bad YAML: exit 2, the error on stderr as ever, and in the JSON with the file and line it names."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: ok\nmlflow_experiment_name: [x\n")
    result = project.cli("check", "--format", "json")
    assert result.returncode == 2, result
    assert "invalid YAML" in result.stderr
    [environment] = result.json()["environments"]
    assert environment["loads"] is False
    [problem] = environment["problems"]
    assert problem["level"] == "error"
    assert "invalid YAML" in problem["message"]
    assert (problem["file"], problem["line"]) == (str(project.root / "settings" / "mlflow.yml"), 3)


def test_check_github_gives_one_annotation_a_problem_that_github_reads_back(tmp_path: Path) -> None:
    """Each problem one `::error`/`::warning` line; a file name with `,` `:` `%` and a message with `%` survive."""
    project = Project(tmp_path / "odd,name:100%")
    project.write("settings/mlflow.yml", "mlflow_100%_done: 1\n" + SETTINGS)
    project.write("settings/mlflow.production.yml", "mlflow_tracking_uri: [x\n")  # ends on line 2, unclosed
    text = project.cli("check", "--all-envs")
    result = project.cli("check", "--all-envs", "--format", "github", env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert (result.returncode, text.returncode) == (2, 2), result
    annotations = parse_annotations(result.stdout)
    development = [a for a in annotations if a["title"] == "layered-mlflow check (development)"]
    levels = {"error": "error", "warning": "warning", "notice": "note"}
    assert [f"{levels[a['command']]}: {a['message']}" for a in development] == _text_problems(text.stdout)
    assert {a["file"] for a in annotations if "file" in a} == {
        "odd,name:100%/settings/mlflow.yml",
        "odd,name:100%/settings/mlflow.production.yml",
    }
    lines = {a["message"].partition(" ")[0]: a.get("line") for a in development}
    assert lines["mlflow_100%_done"] == "1"
    assert lines["server.portt"] == "4"
    [broken] = [a for a in annotations if a["title"] == "layered-mlflow check (production)"]
    assert (broken["command"], broken["line"]) == ("error", "2")
    assert "invalid YAML" in broken["message"]


def test_check_github_is_empty_for_clean_settings(project: Project) -> None:
    """No problem, no annotation (a note is a `::notice`): exit 0 and nothing on stdout."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: sqlite:///mlflow.db\n")
    result = project.cli("check", "--format", "github")
    assert (result.returncode, result.stdout) == (0, ""), result


@pytest.mark.parametrize(
    ("written", "escaped"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("a,b:c", "a%2Cb%3Ac", id="comma-colon"),
        pytest.param("100%", "100%25", id="percent"),
        pytest.param("%2C", "%252C", id="percent-first"),
        pytest.param("one\r\ntwo", "one%0D%0Atwo", id="line-breaks"),
    ],
)
def test_property_values_are_escaped_as_github_reads_them(written: str, escaped: str) -> None:
    """A property value escapes `%` (first), CR, LF, `:` and `,`; GitHub's unescaping gives the value back."""
    assert escape_property(written) == escaped
    assert _unescape(escaped, property_value=True) == written


def test_an_annotation_message_keeps_its_colons_and_escapes_line_breaks() -> None:
    """The message after `::` keeps `:` and `,` (GitHub reads them as text there) and escapes `%`, CR, LF."""
    problem = Located("warning", "a: b, 50%\nnext", "h", None, None, "/w/x.yml", 2)
    line = annotation(problem, "t", "/w")
    assert line == "::warning file=x.yml,line=2,title=t::a: b, 50%25%0Anext (hint: h)"
    [parsed] = parse_annotations(line)
    assert parsed["message"] == "a: b, 50%\nnext (hint: h)"


def test_explain_json_says_what_the_text_form_says(project: Project) -> None:
    """Every layer's word, highest first, the winner marked, as `explain` prints them; secrets masked."""
    project.write("settings/mlflow.yml", "mlflow_tracking_uri: http://u:CANARY-pw@h\n")
    project.write(".env", "MLFLOW_TRACKING_URI=\n")
    env = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    text = project.cli("explain", "MLFLOW_TRACKING_URI", env=env)
    result = project.cli("explain", "MLFLOW_TRACKING_URI", "--format", "json", env=env)
    assert result.returncode == 0, result
    document = result.json()
    assert (document["key"], document["value"], document["set"]) == (
        "mlflow_tracking_uri",
        "http://127.0.0.1:5000",
        True,
    )
    assert document["use"] == "exported as MLFLOW_TRACKING_URI"
    layers = document["layers"]
    assert [layer["layer"] for layer in layers] == ["process_env", "dotenv", "base_file", "default"]
    assert [layer["wins"] for layer in layers] == [True, False, False, False]
    assert layers[1]["empty"] is True
    assert layers[2]["value"] == "http://u:***@h"
    rows = text.stdout.splitlines()[2:]
    assert [row.startswith("  *") for row in rows] == [layer["wins"] for layer in layers]
    assert "CANARY" not in result.stdout


def test_explain_json_of_a_key_no_layer_sets(project: Project) -> None:
    """Unset: value null, `set` false and no layer; a server default of ours: `default` true, the default wins."""
    unset = project.cli("explain", "mlflow_experiment_name", "--format", "json").json()
    assert (unset["value"], unset["set"], unset["default"], unset["layers"]) == (None, False, False, [])
    port = project.cli("explain", "server.port", "--format", "json").json()
    assert (port["value"], port["set"], port["default"]) == ("5000", True, True)
    assert [(layer["layer"], layer["wins"]) for layer in port["layers"]] == [("default", True)]
