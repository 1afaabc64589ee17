"""The seven layers are one ordered list (`precedence.LAYERS`), and resolution is a function of its inputs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import layered_mlflow
from layered_mlflow.resolution import precedence

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize("page", ["README.md", "docs/settings.md"])
def test_the_docs_list_the_layers_in_their_order(page: str) -> None:
    """Each precedence table (the README's, the settings page's) names the layers as `show` does, in the order
    resolution applies them."""
    text = (REPO / page).read_text(encoding="utf-8")
    documented = re.findall(r"^\| \d \| .*? \| `(\w+)` \|", text, flags=re.MULTILINE)
    assert documented == [kind.name for kind in precedence.LAYERS]


def test_every_origin_is_a_layer_of_the_list(tmp_path: Path) -> None:
    """Every value `resolve` returns names a layer of the list (or `derived`), with that layer's title."""
    root = tmp_path / "p"
    (root / "settings").mkdir(parents=True)
    (root / "settings" / "mlflow.yml").write_text("mlflow_experiment_name: base\ntags: {a: '1'}\n")
    (root / "settings" / "mlflow.staging.yml").write_text("tags: {b: '2'}\n")
    (root / "settings" / "mlflow.local.yml").write_text("tags: {c: '3'}\n")
    (root / ".env").write_text("MLFLOW_EXPERIMENT_ID=7\n")
    environ = {"ENV_FOR_DYNACONF": "staging", "LAYERED_MLFLOW_TAGS__d": "4"}
    resolved = layered_mlflow.resolve(project_dir=root, overrides=["tags.e=5"], environ=environ)
    layers = {setting.layer for setting in resolved.settings.values()}
    assert layers == {kind.name for kind in (*precedence.LAYERS, precedence.DERIVED)}
    assert {precedence.kind(name).title for name in layers} >= {".env", "command line", "local settings file"}


@pytest.mark.parametrize("converter", ["@format {env[WHO]}", "@jinja {{ env.WHO }}"])
def test_converters_see_the_environ_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, converter: str) -> None:
    """`@format`/`@jinja` read `env` from `resolve(environ=…)`, not os.environ, which stays as it was."""
    monkeypatch.setenv("WHO", "process")
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "mlflow.yml").write_text(f'mlflow_experiment_name: "{converter}"\n')
    before = dict(os.environ)
    resolved = layered_mlflow.resolve(project_dir=tmp_path, environ={"WHO": "given"})
    assert resolved.settings["mlflow_experiment_name"].value == "given"
    assert dict(os.environ) == before
