"""In-process: the edges of each rule that a mutation test found untested (docs/development.md: mutmut).

Each test names the rule; tests/MUTANTS.md lists the mutants that no test can kill, and why.
"""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest

from layered_mlflow import Resolved, resolve
from layered_mlflow.errors import ConfigError, UsageError
from layered_mlflow.keys import key_of_variable
from layered_mlflow.resolution import uris


def project(root: Path, **files: str) -> Path:
    """``root`` with ``settings/mlflow.yml`` and ``files`` (``dotenv`` is `.env`, ``__`` a slash)."""
    for name, text in {"settings__mlflow.yml": "", **files}.items():
        path = root / (".env" if name == "dotenv" else name.replace("__", "/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def at(root: Path, environ: dict[str, str] | None = None, **kwargs: object) -> Resolved:
    return resolve(cwd=root, environ=environ or {}, **kwargs)  # type: ignore[arg-type]


def test_default_tracking_uri(tmp_path: Path) -> None:
    """With no layer saying anything, the built-in default `mlruns` is anchored to the root."""
    setting = at(project(tmp_path)).settings["mlflow_tracking_uri"]
    assert (setting.value, setting.layer) == ((tmp_path / "mlruns").as_uri(), "default")


def test_no_settings_folder(tmp_path: Path) -> None:
    """A folder without `settings/` is its own root with only the default environment and source."""
    result = at(tmp_path)
    assert (result.root, result.environments, result.environment_source) == (tmp_path, ("development",), "default")


def test_environment_chosen_by_the_option(tmp_path: Path) -> None:
    """`--env` (the command line's name for the argument) is named as the source of the environment it chose."""
    result = at(project(tmp_path, **{"settings__mlflow.prod.yml": ""}), env="prod", env_given_as="--env")
    assert (result.environment, result.environment_source) == ("prod", "--env")
    from_python = at(project(tmp_path, **{"settings__mlflow.prod.yml": ""}), env="prod")
    assert from_python.environment_source == "the env argument"


def test_lists_from_variables_and_set_are_comma_separated(tmp_path: Path) -> None:
    """`server.allowed_hosts` from the environment or `--set` is a list, split on commas."""
    environ = {"LAYERED_MLFLOW_SERVER__ALLOWED_HOSTS": "a, b"}
    assert at(tmp_path, environ).settings["server.allowed_hosts"].value == ("a", "b")
    assert at(tmp_path, overrides=["server.allowed_hosts=c,d"]).settings["server.allowed_hosts"].value == ("c", "d")


def test_set_splits_at_the_first_equals_sign(tmp_path: Path) -> None:
    """`--set KEY=a=b` sets KEY to `a=b`: a value may hold `=`, a key may not."""
    assert at(tmp_path, overrides=["mlflow_experiment_name=a=b"]).variables["MLFLOW_EXPERIMENT_NAME"] == "a=b"


def test_malformed_set_message(tmp_path: Path) -> None:
    """A malformed `--set` gives an example; without `=` the argument may be a value, so it is not echoed."""
    with pytest.raises(UsageError) as raised:
        at(tmp_path, overrides=["nonsense"])
    assert (raised.value.message, raised.value.hint) == (
        "--set: an argument without '=' (not shown: it may be a value)",
        "write --set KEY=VALUE as one argument, for example --set tags.team=vision",
    )


def test_unknown_keys_nest_and_keep_their_file(tmp_path: Path) -> None:
    """Unknown keys are kept at any depth (for `check` to name), each with the file it came from."""
    base = tmp_path / "settings/mlflow.yml"
    result = at(project(tmp_path, **{"settings__mlflow.yml": "extra:\n  a:\n    b: 1\nplain: 2\n"}))
    assert {n: (s.value, s.source) for n, s in result.settings.items() if n in ("extra.a.b", "plain")} == {
        "extra.a.b": ("1", str(base)),
        "plain": ("2", str(base)),
    }


def test_an_empty_value_does_not_end_its_layer(tmp_path: Path) -> None:
    """After a key that says nothing, the same layer's later keys still count."""
    result = at(project(tmp_path, **{"settings__mlflow.yml": "tags:\n  a: ''\n  b: kept\n"}))
    assert result.settings["tags.b"].value == "kept"


@pytest.mark.parametrize(
    ("tracking", "environ", "allowed"),
    [
        pytest.param("mlruns", {}, "true", id="file-store-derived"),
        pytest.param("mlruns", {"MLFLOW_ALLOW_FILE_STORE": "false"}, "false", id="explicit-kept"),
        pytest.param("sqlite:///m.db", {}, None, id="sqlite-needs-none"),
    ],
)
def test_allow_file_store(tmp_path: Path, tracking: str, environ: dict[str, str], allowed: str | None) -> None:
    """A `file:` tracking store gets MLFLOW_ALLOW_FILE_STORE=true, recorded as derived, unless it is set."""
    result = at(project(tmp_path, **{"settings__mlflow.yml": f"mlflow_tracking_uri: {tracking}\n"}), environ)
    assert result.variables.get("MLFLOW_ALLOW_FILE_STORE") == allowed
    if allowed == "true":
        derived = result.history["mlflow_allow_file_store"][0]
        assert (derived.layer, derived.source, derived.value) == ("derived", "file: tracking store", "true")


def test_tilde_in_a_settings_file_uses_the_given_home(tmp_path: Path) -> None:
    """`~` in any URI key is the HOME of the environ that resolve() was given."""
    root = project(tmp_path, **{"settings__mlflow.yml": "mlflow_tracking_uri: ~/runs\n"})
    assert at(root, {"HOME": "/given"}).variables["MLFLOW_TRACKING_URI"] == "file:///given/runs"


def test_process_environment_beats_names_from_the_env_section_and_dotenv(tmp_path: Path) -> None:
    """A variable named only in a file's `env` section, or only in `.env`, is taken from the process.

    A tag's name names no variable.
    """
    base = "env:\n  AWS_PROFILE: dev\ntags:\n  ELSE: t\n"
    root = project(tmp_path, **{"settings__mlflow.yml": base}, dotenv="ONLY_DOTENV=d\n")
    result = at(root, {"AWS_PROFILE": "prod", "ONLY_DOTENV": "p", "ELSE": "x"})
    assert (result.variables["AWS_PROFILE"], result.variables["ONLY_DOTENV"]) == ("prod", "p")
    assert "ELSE" not in result.variables


def test_file_variables_in_dotenv_and_for_env_entries(tmp_path: Path) -> None:
    """`X_FILE` in `.env` is read from the root; `X_FILE` works for a variable the env section names."""
    root = project(
        tmp_path,
        **{"settings__mlflow.yml": "env:\n  MY_TOKEN:\n", "token": "t\n", "secret": "s\n"},
        dotenv="MLFLOW_TRACKING_PASSWORD_FILE=secret\n",
    )
    (root / "sub").mkdir()
    result = resolve(cwd=root / "sub", environ={"MY_TOKEN_FILE": str(root / "token")})
    assert (result.variables["MLFLOW_TRACKING_PASSWORD"], result.variables["MY_TOKEN"]) == ("s", "t")


def test_dotenv_comments_do_not_end_the_file(tmp_path: Path) -> None:
    """A comment or blank line in `.env` is skipped, and the lines after it still count."""
    assert at(project(tmp_path, dotenv="# c\n\nA=1\n")).variables["A"] == "1"


def test_symlink_loops_cannot_be_read(tmp_path: Path) -> None:
    """A `.env`, an `X_FILE` or a `settings/` that is a symbolic-link loop: exit 2 naming it and the reason."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    (tmp_path / ".env").symlink_to(loop)
    with pytest.raises(ConfigError, match=r"/\.env: cannot read it \(Too many levels of symbolic links\)$"):
        at(tmp_path)
    (tmp_path / ".env").unlink()
    with pytest.raises(ConfigError, match=r"^X_FILE=loop: cannot read it \(Too many levels of symbolic links\)$"):
        at(project(tmp_path, **{"settings__mlflow.yml": "env:\n  X: a\n"}), {"X_FILE": "loop"})
    other = tmp_path / "other"
    other.mkdir()
    (other / "settings").symlink_to(other / "settings")
    with pytest.raises(ConfigError, match=r"/settings: cannot list the folder \(Too many levels of symbolic links\)$"):
        at(other, project_dir=other)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("mlflow.staging.txt", id="not-yaml"),
        pytest.param("notes.staging.yml", id="not-mlflow"),
    ],
)
def test_other_files_in_settings_are_ignored(tmp_path: Path, name: str) -> None:
    """Only `mlflow*.yml`/`.yaml` files in `settings/` are layers; others neither clash nor add environments."""
    result = at(project(tmp_path, **{f"settings__{name}": "", "settings__mlflow.txt": ""}))
    assert (result.environments, result.files) == (("development",), (tmp_path / "settings/mlflow.yml",))


def test_environment_names_with_a_backslash_get_no_file_hint(tmp_path: Path) -> None:
    """A name that cannot be a file name (`a\\b`) gets no `create settings/mlflow.NAME.yml` hint."""
    with pytest.raises(ConfigError) as raised:
        at(tmp_path, env="a\\b")
    assert raised.value.hint is None


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("file://localhost/abs/runs", "file://localhost/abs/runs", id="file-with-authority"),
        pytest.param("sqlite:////abs/./m.db", "sqlite:////abs/./m.db", id="sqlite-absolute-as-written"),
        pytest.param("sqlite:///m.db?vfs=a//b", "sqlite:////p/m.db?vfs=a//b", id="sqlite-query-as-written"),
    ],
)
def test_uris_left_as_written(written: str, expected: str) -> None:
    """What is not a relative path is not normalised: authorities, absolute paths, query strings."""
    assert uris.anchor(written, Path("/p"), {}) == expected


def test_home_without_a_home_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without HOME, `~` is the user's passwd home; without a passwd entry (a container user), `/`."""
    assert uris.anchor("~/r", Path("/p"), {}) == Path(pwd.getpwuid(os.getuid()).pw_dir, "r").as_uri()
    assert uris.anchor("~/r", Path("/p"), {"HOME": "/"}) == "file:///r", "a container's HOME=/ gives no `//`"

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert uris.anchor("~/r", Path("/p"), {}) == "file:///r"


def test_file_uri_path() -> None:
    """The local path of a `file:` URI, percent-decoded."""
    assert uris.file_uri_path("file:///p/a%20b") == "/p/a b"


def test_single_letter_mlflow_variable() -> None:
    """`MLFLOW_X` is a key like any other MLflow variable; only the bare prefix spells nothing."""
    assert key_of_variable("MLFLOW_X", set()) == ("mlflow_x",)


def test_run_context_keeps_non_ascii_tags_as_text(tmp_path: Path) -> None:
    """Tags reach MLflow as written: `ü`, not `\\u00fc`, with or without an explicit run context."""
    root = project(tmp_path, **{"settings__mlflow.yml": "tags:\n  team: ü\n"})
    for environ in ({}, {"MLFLOW_RUN_CONTEXT": '{"x": "ß"}'}):
        context = at(root, environ).variables["MLFLOW_RUN_CONTEXT"]
        assert "ü" in context
        assert json.loads(context)["team"] == "ü"
    assert "ß" in at(root, {"MLFLOW_RUN_CONTEXT": '{"x": "ß"}'}).variables["MLFLOW_RUN_CONTEXT"]
