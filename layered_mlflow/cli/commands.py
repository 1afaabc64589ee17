"""`show` and `env`: what they print, for click's commands and the console script's plain path alike.

The console script parses their common forms itself (``launch``), as it does
`run`'s, so that printing the settings costs no click; both parsers call these.
"""

from __future__ import annotations

import os

from layered_mlflow.cli import output
from layered_mlflow.cli.options import Options
from layered_mlflow.cli.process import say
from layered_mlflow.secrets import masking


def show(options: Options, fmt: str = "text", show_secrets: bool = False) -> None:
    """The resolved settings: environment, root, files, and each key with where it came from."""
    from layered_mlflow.cli import report

    resolved = options.resolve()
    render = report.show_json if fmt == "json" else report.show_text
    output.write(render(resolved, show_secrets))


def env(
    options: Options, fmt: str = "dotenv", show_secrets: bool = False, github_env: bool = False, name: str | None = None
) -> None:
    """The variables `run` sets, quoted for ``fmt``; with ``github_env``, appended to $GITHUB_ENV instead.

    An engine's format (SPEC §13) keeps secret references unresolved; ``name`` names its Kubernetes objects.
    """
    from layered_mlflow.cli import formats
    from layered_mlflow.distributed import targets

    resolved = options.ready()
    if github_env:
        from layered_mlflow.cli import github

        output.write(github.write_env(options.fetched(resolved), options.environ))
        return
    if fmt in targets.TARGETS or name is not None:
        output.write(os.fsencode(targets.render(fmt, resolved, show_secrets, options.environ, name)), nl=False)
        return
    if show_secrets:
        resolved = options.fetched(resolved)
    secrets = masking.secrets_of(resolved)
    text = formats.render(fmt, resolved, secrets, show_secrets)
    hidden = [] if show_secrets or options.quiet else secrets.hidden(resolved.variables)
    if hidden:
        say(f"warning: {', '.join(hidden)} printed as *** (pass --show-secrets to print the values)")
    # Bytes: a value that is not UTF-8 (an environment may hold any bytes) is written exactly.
    output.write(os.fsencode(text))
