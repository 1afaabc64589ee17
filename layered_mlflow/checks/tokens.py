"""What `check` says about the `token` section (SPEC §11): conflicts, its values, and the command's Python."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from layered_mlflow import keys
from layered_mlflow.problems import ERROR, NOTE, WARNING, Problem
from layered_mlflow.resolution.exports import child_environment
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets import tokens
from layered_mlflow.sources.layers import Setting

# Run by the command's `python`: whether it finds layered-mlflow's provider, without importing mlflow.
_PROBE = (
    "import importlib.metadata as m, importlib.util as u, sys; "
    f"names = [e.name for e in m.entry_points(group='mlflow.request_auth_provider')]; "
    f"sys.exit(0 if {tokens.PROVIDER!r} in names and u.find_spec('layered_mlflow.integrations.auth_provider') else 3)"
)


def problems(resolved: Resolved, settings: Iterable[Setting]) -> Iterator[Problem]:
    """The section's own rules, for ``settings`` (``resolved``'s, less what cannot be in it); cheap: `run` asks."""
    section = {s.key[1]: s for s in settings if s.key[0] == "token" and len(s.key) == 2}
    if not section:
        return
    file, command, ttl = (section.get(name) for name in ("file", "command", "ttl"))
    for name, setting in section.items():
        if name not in keys.TOKEN_KEYS:
            yield Problem(WARNING, f"{resolved.where(setting)} is not a `token` key", "the keys are file, command, ttl")
    if file and command:
        yield Problem(ERROR, f"{resolved.where(file)} and {resolved.where(command)} are both set", "keep one")
    elif not file and not command:
        yield Problem(ERROR, "the `token` section names neither file nor command", "add token.file or token.command")
    if command and not isinstance(command.value, tuple):
        yield Problem(ERROR, f"{resolved.where(command)} must be a list: an argv, run without a shell")
    if ttl and not (isinstance(ttl.value, str) and ttl.value.isdigit() and int(ttl.value) > 0):
        yield Problem(ERROR, f"{resolved.where(ttl)} must be a whole number of seconds, 1 or more")
    if ttl and file and not command:
        yield Problem(WARNING, f"{resolved.where(ttl)} does nothing with token.file, which is read when it changes")
    # MLflow sends a static token, or a username with a password (alone, either is ignored), over the provider's.
    pair = "mlflow_tracking_username" in resolved.settings and "mlflow_tracking_password" in resolved.settings
    for static in ("mlflow_tracking_token", *(("mlflow_tracking_password",) if pair else ())):
        if static in resolved.settings:
            yield Problem(
                ERROR,
                f"the `token` section and {resolved.where(resolved.settings[static])} are both set: "
                "MLflow would send the static credentials",
                "keep one of them",
            )
    allowed = tokens.allowed(resolved.variables)
    location = resolved.settings.get("experiment.artifact_location")
    if (
        location is not None
        and isinstance(location.value, str)
        and tokens.origin(location.value) not in {None, *allowed}
    ):
        yield Problem(
            NOTE,
            f"{resolved.where(location)} is on another server than the tracking and registry URIs: "
            "the `token` section's token is not sent there",
            "serve artifacts through the tracking server (mlflow-artifacts:/), or give that server its own credentials",
        )
    auth = resolved.settings.get("mlflow_tracking_auth")
    if auth is not None and auth.value != tokens.PROVIDER:
        yield Problem(ERROR, f"{resolved.where(auth)} names another provider than the `token` section's")


def source_problems(resolved: Resolved, environ: Mapping[str, str]) -> Iterator[Problem]:
    """Whether the file or the command the job will read its token from is there (only `check`)."""
    import json
    import os
    import shutil  # here: `run` imports this module for its warnings
    import stat

    from layered_mlflow.secrets.token_sources import RETRY_WITHIN

    file, command = resolved.variables.get(tokens.FILE), resolved.variables.get(tokens.COMMAND)
    if file:
        setting = resolved.settings["token.file"]
        try:
            mode = os.stat(file).st_mode
        except OSError:
            # A sidecar or an init container may write it after `check` runs: the job waits for it at its start.
            yield Problem(
                WARNING,
                f"{resolved.where(setting)}: {file} does not exist (yet)",
                f"the job's first request waits {RETRY_WITHIN:g} s for it, then fails: "
                "check the path, or that something writes it",
            )
            return
        if not stat.S_ISREG(mode):
            yield Problem(ERROR, f"{resolved.where(setting)}: {file} is not a regular file", "name the token's file")
    if command:
        argv = json.loads(command)
        program = str(argv[0]) if argv else ""
        path = child_environment(environ, resolved).get("PATH")
        if not program or shutil.which(program, path=path) is None:
            said = "is not an executable file" if "/" in program else "is not on the command's PATH"
            yield Problem(
                ERROR,
                f"{resolved.where(resolved.settings['token.command'])}: {program or 'an empty argv'} {said}",
                "install it, or name it by its path (a relative one is from the project's root)",
            )


def provider_problem(resolved: Resolved, environ: Mapping[str, str]) -> Iterator[Problem]:
    """Whether `python` on the command's PATH can load the provider (only `check`: it starts a process)."""
    if resolved.variables.get(tokens.AUTH) != tokens.PROVIDER:
        return
    import shutil  # here: `run` imports this module for its warnings, and never starts a process
    import subprocess

    path = child_environment(environ, resolved).get("PATH")
    python = shutil.which("python", path=path) or shutil.which("python3", path=path)
    if python is None:
        yield Problem(WARNING, "the `token` section needs layered-mlflow in the command's Python: no python on PATH")
        return
    try:
        done = subprocess.run([python, "-c", _PROBE], capture_output=True, timeout=30, check=False)  # noqa: S603 (the command's own python)
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is None or done.returncode != 0:
        yield Problem(
            WARNING,
            f"{python} cannot load layered-mlflow's auth provider, so a command it runs sends no token",
            f"install layered-mlflow in that environment: {python} -m pip install layered-mlflow",
        )
