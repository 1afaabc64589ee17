"""SPEC §8: bad input is one line on stderr, `layered-mlflow: error: …`, exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from layered_mlflow import LayeredMlflowError, resolve
from tests.conftest import COMMAND, Project
from tests.test_kedro_layout import PYPROJECT

BASE = "settings/mlflow.yml"
DEEP_JSON = '{"a": ' * 5000 + "1" + "}" * 5000  # past what any JSON reader in Python (MLflow's too) can nest

# (files to write, extra arguments, process environment, exit code, text the one line must contain)
CASES = [
    pytest.param({BASE: "a: b: c\n"}, (), {}, 2, "mlflow.yml:1:5: invalid YAML", id="yaml-mapping-in-scalar"),
    pytest.param(
        {BASE: "a: 1\na: 2\n"}, (), {}, 2, 'mlflow.yml:2:1: invalid YAML: found duplicate key "a"', id="duplicate-key"
    ),
    pytest.param({BASE: "tags:\n\tteam: a\n"}, (), {}, 2, "mlflow.yml:2:1: invalid YAML", id="tab-indent"),
    pytest.param({BASE: "a: 'open\n"}, (), {}, 2, "mlflow.yml:2:1: invalid YAML", id="unclosed-quote"),
    pytest.param({BASE: "a: [1, 2\n"}, (), {}, 2, "invalid YAML", id="unclosed-bracket"),
    pytest.param({BASE: "a: *nowhere\n"}, (), {}, 2, "invalid YAML", id="undefined-alias"),
    pytest.param({BASE: "a: !!python/object:os.system x\n"}, (), {}, 2, "invalid YAML", id="python-tag"),
    pytest.param({BASE: "- a\n- b\n"}, (), {}, 2, "the top level is a list", id="top-level-list"),
    pytest.param({BASE: "just text\n"}, (), {}, 2, "the top level is a single value", id="top-level-scalar"),
    pytest.param({BASE: "env: [A, B]\n"}, (), {}, 2, "`env` must be a mapping", id="env-is-a-list"),
    pytest.param({BASE: "tags: team\n"}, (), {}, 2, "`tags` must be a mapping", id="tags-is-a-string"),
    pytest.param({BASE: "server: 5000\n"}, (), {}, 2, "`server` must be a mapping", id="server-is-a-number"),
    pytest.param(
        {BASE: "mlflow_tracking_uri: [a, b]\n"}, (), {}, 2, "`mlflow_tracking_uri` is a list", id="mlflow-list"
    ),
    pytest.param(
        {BASE: "mlflow_tracking_uri:\n  a: 1\n"}, (), {}, 2, "`mlflow_tracking_uri` is a mapping", id="mlflow-mapping"
    ),
    pytest.param({BASE: "env:\n  AWS_X: [1]\n"}, (), {}, 2, "`env.AWS_X` is a list", id="env-value-list"),
    pytest.param({BASE: "tags:\n  team: {a: 1}\n"}, (), {}, 2, "`tags.team` is a mapping", id="tag-value-mapping"),
    pytest.param(
        {BASE: "env:\n  1BAD: x\n"}, (), {}, 2, "`env` entry '1BAD' is not a variable name", id="env-name-digit"
    ),
    pytest.param({BASE: "env:\n  BAD-NAME: x\n"}, (), {}, 2, "'BAD-NAME' is not a variable name", id="env-name-dash"),
    pytest.param({BASE: "server:\n  allowed_hosts: {a: 1}\n"}, (), {}, 2, "must be a list", id="list-key-mapping"),
    pytest.param({}, ("--set", "novalue"), {}, 2, "--set: an argument without '='", id="set-without-equals"),
    pytest.param({}, ("--set", "=x"), {}, 2, "expected KEY=VALUE", id="set-empty-key"),
    pytest.param({}, ("--set", "tags.=x"), {}, 2, "expected KEY=VALUE", id="set-empty-tag"),
    pytest.param({}, ("--set", "env.1X=y"), {}, 2, "expected KEY=VALUE", id="set-bad-env-name"),
    pytest.param({}, ("--set", "a b=c"), {}, 2, "expected KEY=VALUE", id="set-space-in-key"),
    pytest.param(
        {},
        ("--project-dir", "/nonexistent/dir"),
        {},
        2,
        "--project-dir /nonexistent/dir: no such directory",
        id="project-dir-missing",
    ),
    pytest.param(
        {},
        (),
        {"LAYERED_MLFLOW_PROJECT_DIR": "/nonexistent"},
        2,
        "LAYERED_MLFLOW_PROJECT_DIR /nonexistent",
        id="project-dir-variable-missing",
    ),
    pytest.param({}, ("--project-dir", "~nosuchuser"), {}, 2, "~nosuchuser: no such user", id="project-dir-no-user"),
    pytest.param({}, ("--project-dir", "d" * 300), {}, 2, "(File name too long)", id="project-dir-name-too-long"),
    pytest.param({}, ("--env-file", "missing.env"), {}, 2, "--env-file", id="env-file-missing"),
    pytest.param(
        {BASE: 'mlflow_experiment_name: "a\\0b"\n'},
        (),
        {},
        2,
        "MLFLOW_EXPERIMENT_NAME holds a NUL character",
        id="nul-escape-in-a-value",
    ),
    pytest.param(
        {".env": "GOOD=1\nthis is not a line\n"}, (), {}, 2, ".env:2: not a python-dotenv line", id="dotenv-garbage"
    ),
    pytest.param({}, ("--env", "prodution"), {}, 2, "unknown environment 'prodution'", id="unknown-environment"),
    pytest.param({}, ("--env", "../../etc"), {}, 2, "unknown environment '../../etc'", id="path-like-environment"),
    pytest.param({}, ("--env", "prod\nuction"), {}, 2, "'prod\\nuction'", id="newline-in-environment"),
    pytest.param({}, (), {"ENV_FOR_DYNACONF": "a\nb\x1b[2J"}, 2, "'a\\nb\\x1b[2j'", id="control-in-environment"),
    pytest.param({".env": 'ENV_FOR_DYNACONF="x\\ny"\n'}, (), {}, 2, "'x\\ny' (from", id="newline-from-dotenv"),
    pytest.param({}, ("--project-dir", "/no\nsuch"), {}, 2, "'/no\\nsuch': no such", id="newline-in-project-dir"),
    pytest.param({}, ("--env-file", "a\nb"), {}, 2, "b': no such file", id="newline-in-env-file"),
    pytest.param(
        {}, (), {"MLFLOW_TRACKING_PASSWORD_FILE": "/no\nfile"}, 2, "FILE=/no\\nfile': no such", id="newline-x-file"
    ),
    pytest.param(
        {"settings/mlflow.yaml": "a: 1\n"},
        (),
        {},
        2,
        "mlflow.yaml and mlflow.yml are the same layer",
        id="yml-and-yaml",
    ),
    pytest.param({}, ("--nope",), {}, 2, "No such option '--nope'", id="unknown-option"),
    pytest.param(
        {BASE: "mlflow_tracking_uri: '@format http://{env[NO_SUCH_HOST_VARIABLE]}:5000'\n"},
        (),
        {},
        2,
        "`mlflow_tracking_uri`: Dynaconf could not evaluate its value",
        id="format-unknown-variable",
    ),
    pytest.param(
        {BASE: "mlflow_experiment_name: '@jinja {{ x ~ }}'\n"}, (), {}, 2, "could not evaluate", id="jinja-syntax"
    ),
    pytest.param({BASE: "mlflow_experiment_name: '@int CANARY'\n"}, (), {}, 2, "@ converter", id="int-converter"),
    pytest.param({BASE: "env:\n  S: '@del'\n"}, (), {}, 2, "markers (@del, @reset, @merge)", id="dynaconf-del-marker"),
    pytest.param({BASE: "server:\n  port: 1\n  PORT: 2\n"}, (), {}, 2, "names a key twice", id="server-key-twice"),
    pytest.param(
        {BASE: "mlflow_tracking_password: !!timestamp CANARY\n"}, (), {}, 2, 'from "…"', id="yaml-quotes-no-value"
    ),
    pytest.param({}, ("frobnicate",), {}, 2, "No such command 'frobnicate'", id="unknown-command"),
    pytest.param(
        {BASE: "".join(f"key_{i}: v\n" for i in range(1001))},
        (),
        {},
        2,
        "mlflow.yml: more than 1,000 top-level keys (1,001)",
        id="too-many-top-level-keys",
    ),
    pytest.param(
        {}, (), {"MLFLOW_RUN_CONTEXT": DEEP_JSON}, 2, "(from the environment): its JSON nests too deeply", id="deep-ctx"
    ),
    pytest.param(
        {".env": f"MLFLOW_RUN_CONTEXT='{DEEP_JSON}'\n"},
        (),
        {},
        2,
        "MLFLOW_RUN_CONTEXT (from /",
        id="deep-run-context-dotenv",
    ),
    pytest.param(
        {}, ("--set", f"mlflow_run_context={DEEP_JSON}"), {}, 2, "(from --set): its JSON nests", id="deep-ctx-set"
    ),
]


@pytest.mark.parametrize(
    ("args", "code"),
    [(("show",), 0), (("show", "--format", "json"), 0), (("env",), 0), (("explain", "mlflow_experiment_name"), 0)],
    ids=["show", "show-json", "env", "explain"],
)
def test_a_value_nested_too_deep_to_read_as_json_is_only_text(
    project: Project, args: tuple[str, ...], code: int
) -> None:
    """A value that looks like JSON nested 5,000 deep (issue 26 §4: `show` exited 70 with RecursionError) is text:
    printed masked, since what it holds cannot be looked into; no command fails on it."""
    project.write(".env", f"MLFLOW_EXPERIMENT_NAME='{DEEP_JSON}'\n")
    result = project.cli(*args)
    assert (result.returncode, "internal error" in result.stderr) == (0, False), result


@pytest.mark.parametrize(("files", "args", "env", "code", "message"), CASES)
def test_bad_input(
    project: Project, files: dict[str, str], args: tuple[str, ...], env: dict[str, str], code: int, message: str
) -> None:
    """Each bad input gives its exit code and a one-line message that names the problem."""
    project.write(BASE, "mlflow_experiment_name: ok\n")
    for relative, text in files.items():
        project.write(relative, text)
    command = () if "frobnicate" in args else ("run", "--", "true")
    result = project.cli(*args, *command, env=env)
    assert result.returncode == code, result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert len(result.stderr.splitlines()) == 1, result
    assert message in result.stderr, result
    assert "Traceback" not in result.stderr


BYTES_CASES = [
    pytest.param(b"\xef\xbb\xbfmlflow_experiment_name: bom\r\n", 0, "", id="bom-and-crlf-are-fine"),
    pytest.param(b"", 0, "", id="empty-file-is-fine"),
    pytest.param(b"# only a comment\n", 0, "", id="comment-only-is-fine"),
    pytest.param(b"a: 1\nb: caf\xe9\n", 2, "mlflow.yml:2: not UTF-8 text", id="latin-1"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00", 2, "not UTF-8 text", id="binary-png"),
    pytest.param(b"a: 1\n\x00\x00\n", 2, "a binary file", id="nul-bytes"),
    pytest.param(
        b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        b"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
        2,
        "aliases expand to more than",
        id="alias-bomb",
    ),
    pytest.param(b"a: &a [x, *a]\n", 2, "mlflow.yml: a YAML alias refers to itself", id="recursive-alias"),
    pytest.param(
        b"s: &s '" + b"x" * 1_000_000 + b"'\na: [[" + b"*s, " * 10 + b"]]\n",
        2,
        "or 4 MiB of text",
        id="alias-repeats-a-big-value",
    ),
    pytest.param(
        b"a: 1\nb: \x1f\n", 2, "mlflow.yml:2:4: invalid YAML: character 0x1f is not allowed", id="control-char"
    ),
    pytest.param(
        b'tags:\n  "\\ud800": x\n',
        2,
        {"settings": "lone surrogate", "kedro": "mlflow.yml:2:6: invalid YAML"},  # PyYAML refuses it, as Kedro does
        id="lone-surrogate-escape",
    ),
    pytest.param(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", 2, "mlflow.yml:1: the YAML is nested", id="deep-nesting"),
    pytest.param(b"a: [\n" + b"  [\n" * 150 + b"]\n", 2, "mlflow.yml:101: the YAML is nested", id="deep-multi-line"),
    pytest.param(b"a:\n  " + b"- " * 150 + b"x\n", 2, "nest more than 100 levels", id="deep-block-nesting"),
    pytest.param(b"a:\n  " + b"- " * 900 + b"x\n", 2, "nest", id="900-deep-block-list"),
    pytest.param(b"a: &a\n  b: *a\n", 2, "mlflow.yml: a YAML alias refers to itself", id="self-referencing-anchor"),
    pytest.param(b"server:\n  1: x\n", 0, "server.1 (", id="a-number-as-a-key-is-its-text"),
    pytest.param(
        b"tags:\n  team: !!binary aGVsbG8=\n", 2, "mlflow.yml: `tags.team` is binary data (!!binary)", id="binary-value"
    ),
    pytest.param(b"a: " + b"[" * 40 + b"]" * 40 + b"\n", 0, "", id="84-byte-nested-list"),
    pytest.param(b"mlflow_experiment_name: '" + b"x" * 100_000 + b"'\n", 0, "", id="100kB-value"),
]


# The file each layout reads first. A layout added here inherits the whole table of hostile files.
LAYOUTS = {"settings": BASE, "kedro": "conf/base/mlflow.yml"}


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest, project: Project) -> str:
    """The project as one layout: a `settings/` folder, or a Kedro project as `kedro new` leaves it."""
    if request.param == "kedro":
        (project.root / "settings").rmdir()
        project.write("pyproject.toml", PYPROJECT)
        project.write("conf/local/credentials.yml", "# here go your credentials\n")
    name: str = request.param
    return name


@pytest.mark.parametrize(("data", "code", "message"), BYTES_CASES)
def test_bad_bytes(project: Project, layout: str, data: bytes, code: int, message: str | dict[str, str]) -> None:
    """Encodings, binary files and alias bombs: a clear error (or success), never a hang or a traceback.

    In every layout: a Kedro project's `conf/` is bounded as a `settings/` folder is.
    """
    project.write_bytes(LAYOUTS[layout], data)
    result = project.cli("run", "--", "true", timeout=30)
    assert result.returncode == code, result
    assert (message if isinstance(message, str) else message[layout]) in result.stderr, result
    assert "Traceback" not in result.stderr
    if code == 2:
        assert result.stderr.startswith("layered-mlflow: error: "), result
        assert len(result.stderr.splitlines()) == 1, result


@pytest.mark.parametrize(("data", "code", "message"), [case for case in BYTES_CASES if case.values[1] == 2])
def test_bad_bytes_through_the_api(project: Project, layout: str, data: bytes, code: int, message: object) -> None:
    """``resolve()`` raises LayeredMlflowError with the message the command prints (in-process)."""
    project.write_bytes(LAYOUTS[layout], data)
    with pytest.raises(LayeredMlflowError) as raised:
        resolve(project_dir=project.root, environ={})
    assert (message if isinstance(message, str) else message[layout]) in str(raised.value)  # type: ignore[index]


def test_bom_does_not_become_part_of_the_first_key(project: Project) -> None:
    """A UTF-8 BOM and CRLF line ends: the first key is read as written."""
    project.write_bytes(BASE, b"\xef\xbb\xbfmlflow_experiment_name: bom\r\ntags:\r\n  team: a\r\n")
    child = project.child_env()
    assert (child["MLFLOW_EXPERIMENT_NAME"], child["MLFLOW_RUN_CONTEXT"].count("team")) == ("bom", 1)


@pytest.mark.parametrize("kind", ["directory", "dangling-symlink", "unreadable"])
@pytest.mark.parametrize("relative", [BASE, "settings/mlflow.local.yml", ".env"])
def test_unreadable_paths(project: Project, tmp_path: Path, kind: str, relative: str) -> None:
    """A settings path that is a directory, a dangling link or unreadable: exit 2 naming it."""
    if relative != BASE:
        project.write(BASE, "mlflow_experiment_name: ok\n")
    path = project.root / relative
    if kind == "directory":
        path.mkdir()
    elif kind == "dangling-symlink":
        path.symlink_to(tmp_path / "nowhere")
    else:
        path.write_text("a: 1\n")
        path.chmod(0)
    result = project.cli("run", "--", "true", unprivileged=True)
    assert result.returncode == 2, result
    assert str(path) in result.stderr, result
    assert len(result.stderr.splitlines()) == 1, result


def test_secret_in_a_yaml_error_is_not_printed(project: Project) -> None:
    """The YAML parser's snippet would quote the line: `mlflow_tracking_password: s3cr3t: oops`."""
    project.write(BASE, "mlflow_tracking_password: s3cr3t: oops\n")
    result = project.cli("show")
    assert result.returncode == 2, result
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "mlflow.yml:1:" in result.stderr


def test_duplicate_key_error_does_not_print_values(project: Project) -> None:
    """ruamel's duplicate-key message quotes both values; ours names the key only."""
    project.write(BASE, "mlflow_tracking_password: first-canary\nmlflow_tracking_password: second-canary\n")
    result = project.cli("show")
    assert result.returncode == 2, result
    assert "canary" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("show",), id="show-plain-path"),
        pytest.param(("-v", "show"), id="show-through-click"),
        pytest.param(("run", "--", "true"), id="run"),
        pytest.param(("experiment",), id="experiment"),
    ],
)
def test_debug_variable_adds_the_traceback_and_changes_nothing_else(project: Project, args: tuple[str, ...]) -> None:
    """LAYERED_MLFLOW_DEBUG=1 is the one way to get a traceback; the error line and the exit code stay the same."""
    project.write(BASE, "- a\n")
    plain = project.cli(*args)
    debugging = project.cli(*args, env={"LAYERED_MLFLOW_DEBUG": "1"})
    assert "Traceback" in debugging.stderr
    assert (debugging.returncode, debugging.stderr.splitlines()[-1]) == (plain.returncode, plain.stderr.strip()), (
        plain,
        debugging,
    )


def test_dotenv_not_utf8(project: Project) -> None:
    """A .env in Latin-1: exit 2 naming the file and line."""
    project.write_bytes(".env", b"A=1\nB=caf\xe9\n")
    result = project.cli("run", "--", "true")
    assert result.returncode == 2, result
    assert ".env:2: not UTF-8 text" in result.stderr


@pytest.mark.parametrize("section", ["tags", "env", "server", "TAGS"])
def test_set_a_whole_section_is_refused(project: Project, section: str) -> None:
    """--set tags=x would make a tag with no name (which breaks every MLflow run): exit 2."""
    result = project.cli("--set", f"{section}=x", "run", "--", "true")
    assert result.returncode == 2, result
    assert f"--set {section!r}: expected KEY=VALUE" in result.stderr


def test_no_canary_in_dynaconf_errors(project: Project) -> None:
    """Converter and constructor errors name the key, never the value."""
    for text in ("mlflow_tracking_password: '@int CANARY'\n", "mlflow_tracking_password: !!timestamp CANARY\n"):
        project.write(BASE, text)
        result = project.cli("show")
        assert result.returncode == 2, result
        assert "CANARY" not in result.stderr + result.stdout


def test_escaped_jinja_marker_works_from_the_command_line(project: Project) -> None:
    """ "\\x40jinja" is `@jinja` to YAML: jinja2 must still be there when Dynaconf evaluates it."""
    project.write(BASE, 'mlflow_experiment_name: "\\x40jinja {{ 1 + 2 }}"\n')
    assert project.child_env()["MLFLOW_EXPERIMENT_NAME"] == "3"


def test_no_command_prints_the_help(project: Project) -> None:
    """`layered-mlflow` alone: the help, readable (not one squashed error line), exit 2."""
    result = project.cli()
    assert result.returncode == 2, result
    assert result.stderr.startswith("Usage: layered-mlflow [OPTIONS] COMMAND")
    assert len(result.stderr.splitlines()) > 5


@pytest.mark.parametrize("named", [True, False])
def test_deleted_working_directory(project: Project, tmp_path: Path, named: bool) -> None:
    """From a deleted folder: works when the project is named by an absolute path, else one clear error."""
    project.write(BASE, "mlflow_experiment_name: ok\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    env = {"LAYERED_MLFLOW_PROJECT_DIR": str(project.root)} if named else {}
    script = f"cd {gone} && rmdir {gone} && exec {COMMAND} run -- true"
    done = subprocess.run(["sh", "-c", script], env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if named:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 2, done.stderr
        assert "the working directory no longer exists" in done.stderr


KEDRO_SETTINGS = "src/demo/settings.py"
LAUGHS = "a0: xxxxxxxxxx\n" + "".join(f"a{i}: " + f"${{a{i - 1}}}" * 10 + "\n" for i in range(1, 30))
CHAIN = "".join(f"a{i}: ${{a{i - 1}}}\n" for i in range(40, 0, -1)) + "a0: x\n"  # 90 in a row exhaust OmegaConf
NESTED = "a: " + "${oc.env:X," * 200 + "d" + "}" * 200 + "\n"
# (files to write in a Kedro project, the command, text the one line must contain)
KEDRO_CASES = [
    pytest.param(
        {"conf/base/mlflow.yml": LAUGHS},
        ("run", "--", "true"),
        "mlflow.yml:6: `a5`: its ${…} expand to more than",
        id="interpolation-laughs",
    ),
    pytest.param(
        {"conf/base/mlflow.yml": CHAIN}, ("show",), "`a33`: more than 32 references in a row", id="reference-chain"
    ),
    pytest.param(
        {"conf/base/mlflow.yml": NESTED}, ("show",), "mlflow.yml:1: `a`: ${…} nested in one another", id="nested-${"
    ),
    pytest.param(
        {KEDRO_SETTINGS: "X = 1" + " + 1" * 100_000 + "\n"},
        ("show",),
        "settings.py: nested too deeply for Python to read it",
        id="settings-py-operator-chain",
    ),
    pytest.param(
        {KEDRO_SETTINGS: 'CONF_SOURCE = "../../.."\n'},
        ("check", "--all-envs"),
        "settings.py: CONF_SOURCE '../../..' leads outside",
        id="conf-source-outside",
    ),
    pytest.param(
        {KEDRO_SETTINGS: 'CONFIG_LOADER_ARGS = {"base_env": "/etc"}\n'},
        ("show",),
        "settings.py: CONFIG_LOADER_ARGS['base_env'] '/etc' leads outside",
        id="base-env-outside",
    ),
    pytest.param(
        {"pyproject.toml": PYPROJECT + 'source_dir = "s\\u0000rc"\n'},
        ("show",),
        "pyproject.toml: [tool.kedro] source_dir holds a NUL character",
        id="source-dir-nul",
    ),
]


@pytest.mark.parametrize("layout", ["kedro"], indirect=True)
@pytest.mark.parametrize(("files", "args", "message"), KEDRO_CASES)
def test_kedro_bad_input(
    project: Project, layout: str, files: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    """What only a Kedro project has (``${…}``, settings.py, pyproject.toml): one line, exit 2; resolve() agrees."""
    for relative, text in files.items():
        project.write(relative, text)
    result = project.cli(*args, timeout=30)
    assert (result.returncode, len(result.stderr.splitlines())) == (2, 1), result
    assert result.stderr.startswith("layered-mlflow: error: "), result
    assert message in result.stderr, result
    with pytest.raises(LayeredMlflowError) as raised:
        resolve(project_dir=project.root, environ={})
    assert message in str(raised.value)


@pytest.mark.parametrize("layout", ["kedro"], indirect=True)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_kedro_settings_py_that_is_no_file(project: Project, layout: str, kind: str) -> None:
    """settings.py as a FIFO or a link to /dev/zero: refused by name, as a settings file is, not a hang."""
    path = project.root / KEDRO_SETTINGS
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    for args in (("show",), ("init",)):
        result = project.cli(*args, timeout=30)
        assert (result.returncode, len(result.stderr.splitlines())) == (2, 1), result
        assert f"{path}: is a " in result.stderr, result


PATTERNS = [
    pytest.param('"mlflow*"', " is a str, not a mapping", id="a-string"),
    pytest.param('["mlflow*"]', " is a list, not a mapping", id="a-list"),
    pytest.param('{"mlflow": "mlflow*"}', "['mlflow'] is a str, not a list of patterns", id="a-kind-as-a-string"),
    pytest.param('{"mlflow": ["/etc/*"]}', "['mlflow'] holds '/etc/*', which leads outside", id="absolute"),
    pytest.param('{"mlflow": ["../*"]}', "['mlflow'] holds '../*', which leads outside", id="dot-dot"),
    pytest.param('{"mlflow": [""]}', "['mlflow'] holds an empty pattern", id="empty"),
]


@pytest.mark.parametrize("layout", ["kedro"], indirect=True)
@pytest.mark.parametrize(("patterns", "warning"), PATTERNS)
def test_config_patterns_of_a_wrong_shape_are_a_warning(
    project: Project, layout: str, patterns: str, warning: str
) -> None:
    """Kedro fails on these; layered-mlflow reads mlflow*.yml as Kedro's default patterns do, and `check` says so."""
    project.write(KEDRO_SETTINGS, f'CONFIG_LOADER_ARGS = {{"config_patterns": {patterns}}}\n')
    project.write("conf/base/mlflow.yml", "tracking:\n  experiment:\n    name: read\n")
    result = project.cli("check")
    assert result.returncode == 0, result
    assert f"warning: src/demo/settings.py:1: CONFIG_LOADER_ARGS['config_patterns']{warning}" in result.stdout, result
    assert "assumed Kedro's patterns" in result.stdout, result
    assert project.child_env()["MLFLOW_EXPERIMENT_NAME"] == "read"
