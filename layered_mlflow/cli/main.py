"""The command line: parse, call, print, exit. Behaviour lives in the modules it calls.

Each command imports what it alone needs when it runs (the server's modules, `check`'s, `init`'s), so that
`--help`, completion and every other command start without them.
"""

from __future__ import annotations

import math
import sys
from typing import Any, NoReturn

import click

from layered_mlflow import keys
from layered_mlflow._version import __version__
from layered_mlflow.cli import commands, completion, output
from layered_mlflow.cli.formats import FORMATS
from layered_mlflow.cli.options import Options, checked, joined, start
from layered_mlflow.cli.process import PROG, failed, prepare, say
from layered_mlflow.cli.runner import inherited_environment
from layered_mlflow.distributed.targets import TARGETS
from layered_mlflow.mlflow_names.variables import mlflow_variables
from layered_mlflow.resolution.exports import child_environment
from layered_mlflow.sources.layers import malformed_assignment
from layered_mlflow.sources.settings_file import lean_dynaconf


class Seconds(click.FloatRange):
    """A bounded number of seconds; click's FloatRange lets `nan` through (it compares false with either bound)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return seconds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
@click.option(
    "--env",
    "env",
    metavar="NAME",
    help="Environment to use (default: ENV_FOR_DYNACONF, else development).",
    shell_complete=completion.environments,
)
@click.option(
    "--project-dir", metavar="PATH", help="Project root (default: the nearest folder with settings/mlflow.yml)."
)
@click.option(
    "--env-file", "env_files", metavar="PATH", multiple=True, help="Read PATH instead of .env (repeatable; later wins)."
)
@click.option(
    "--set",
    "assignments",
    metavar="KEY=VALUE",
    multiple=True,
    help="Set a key, highest layer (repeatable): tags.team=vision.",
    shell_complete=completion.assignments,
)
@click.option("-v", "--verbose", is_flag=True, help="Say what is resolved, on stderr (secrets masked).")
@click.option("-q", "--quiet", is_flag=True, help="Print no warnings.")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Resolve MLflow settings from layered files and the environment, and apply them.

    Layers, lowest first: built-in defaults, settings/mlflow.yml,
    settings/mlflow.<env>.yml, settings/mlflow.local.yml, .env, the process
    environment, --set.
    """
    ctx.obj = Options(environ=inherited_environment(), **options)


@cli.command(
    short_help="Run CMD with the resolved settings: run -- CMD [ARGS...].",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--dry-run", is_flag=True, help="Print the variables (masked) and the command instead of running it.")
@click.option("--shared-run", metavar="KEY", help="Log into the run tagged with KEY, found or created.")
@click.option("--parent-run", metavar="KEY", help="Nest the command's run under the run tagged with KEY.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def run(
    options: Options, dry_run: bool, shared_run: str | None, parent_run: str | None, command: tuple[str, ...]
) -> None:
    """Run COMMAND with the resolved settings in its environment: run -- CMD [ARGS...]."""
    resolved = checked(options)
    if shared_run is not None or parent_run is not None:
        options = joined(options, resolved, shared_run, parent_run)
        resolved = options.ready()
    if dry_run:
        from layered_mlflow.cli import report

        output.write(report.dry_run(resolved, command))
        return
    start(options, resolved, command)  # as launch.main does for the plain command line, without click


@cli.command(short_help="Show the resolved settings and where each came from.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ***.")
@click.pass_obj
def show(options: Options, fmt: str, show_secrets: bool) -> None:
    """Show the resolved settings: environment, root, files, and each key with where it came from."""
    commands.show(options, fmt, show_secrets)


@cli.command(short_help="Show every layer's value for KEY, the winner marked.")
@click.argument("key", shell_complete=completion.keys)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ***.")
@click.pass_obj
def explain(options: Options, key: str, fmt: str, show_secrets: bool) -> None:
    """Show every layer's value for KEY, highest first, the winner marked.

    KEY is mlflow_tracking_uri or MLFLOW_TRACKING_URI, tags.NAME, server.NAME,
    or the name of a variable of the env section.
    """
    from layered_mlflow.cli import report

    resolved = options.resolve()
    name = keys.find_key(key, resolved.history.keys(), mlflow_variables().keys())
    render = report.explain_json if fmt == "json" else report.explain_text
    output.write(render(resolved, name, show_secrets))


@cli.command(short_help="Validate the settings: exit 0 clean, 1 problems, 2 broken.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--online", is_flag=True, help="Also reach the tracking store.")
@click.option("--all-envs", is_flag=True, help="Check every known environment.")
@click.option(
    "--timeout", type=Seconds(min=0.1, max=3600), default=5.0, show_default=True, help="Seconds for --online."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: one workflow annotation a problem.",
)
@click.pass_obj
def check(options: Options, strict: bool, online: bool, all_envs: bool, timeout: float, fmt: str) -> None:
    """Validate the settings; exit 0 (clean), 1 (problems) or 2 (they do not load)."""
    from layered_mlflow.checks import command as check_command

    outcome = check_command.check_project(
        lambda name, environ: options._replace(environ=dict(environ)).resolve(name),
        options.project_dir,
        options.env,
        options.environ,
        all_envs,
        strict,
        timeout if online else None,
    )
    for line in outcome.errors:
        say(f"error: {line}")
    text = outcome.text
    if fmt != "text":
        from layered_mlflow.cli import check_output

        text = (
            check_output.check_json(outcome) if fmt == "json" else check_output.check_github(outcome, options.environ)
        )
    if text:
        output.write(text)
    sys.exit(outcome.exit_code)


@cli.command(short_help="Create the experiment with its artifact location and tags.")
@click.pass_obj
def experiment(options: Options) -> None:
    """Create mlflow_experiment_name with experiment.artifact_location and experiment.tags.

    A deleted experiment is restored (unless experiment.restore_if_deleted is
    false); an existing one gets the tags, and a different location is reported,
    not changed. Exit 0 (done), 1 (a problem) or 2 (the settings do not load).
    """
    from layered_mlflow.integrations.experiment_setup import command

    lines, code = command(options.resolve(), options.environ)
    for line in lines:
        output.write(line)
    sys.exit(code)


@cli.command("env", short_help="Print the variables `run` sets, for a shell, Docker or CI.")
@click.option("--format", "fmt", type=click.Choice([*FORMATS, *TARGETS]), default="dotenv", show_default=True)
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ***.")
@click.option("--github-env", is_flag=True, help="Append the variables to $GITHUB_ENV; print ::add-mask:: lines.")
@click.option("--name", help="Name of the ConfigMap and Secret of --format k8s [default: layered-mlflow-ENV].")
@click.option("--shared-run", metavar="KEY", help="Include MLFLOW_RUN_ID of the run tagged with KEY.")
@click.option("--parent-run", metavar="KEY", help="Include the run tagged with KEY as the parent of new runs.")
@click.pass_obj
def env_command(
    options: Options,
    fmt: str,
    show_secrets: bool,
    github_env: bool,
    name: str | None,
    shared_run: str | None,
    parent_run: str | None,
) -> None:
    """Print the variables `run` sets for a command, quoted for a .env file, a shell, JSON, Docker or GitHub Actions,
    or for a distributed job's workers: Ray, Kubernetes, AWS Batch/ECS, Spark.

    \b
      eval "$(layered-mlflow env --format shell)"
      layered-mlflow env --github-env
      layered-mlflow env --format ray > runtime_env.json
    """
    if shared_run is not None or parent_run is not None:
        options = joined(options, options.ready(), shared_run, parent_run)
    commands.env(options, fmt, show_secrets, github_env, name)


@cli.command(short_help="Scaffold settings/, .env.example and .gitignore lines.")
@click.option("--force", is_flag=True, help="Overwrite files that exist; in a Kedro project, switch it to settings/.")
@click.pass_obj
def init(options: Options, force: bool) -> None:
    """Scaffold settings/, .env.example and .gitignore entries in the project root.

    The root is the working directory, or --project-dir. Nothing is
    overwritten without --force; a Kedro project (read from its conf/) is
    switched to settings/ only with --force.
    """
    from layered_mlflow.cli import scaffold

    env = scaffold.environment_name(options.env)
    root = scaffold.project_root(options.project_dir, options.environ, force)
    for line in scaffold.init(root, force, env):
        output.write(line)


@cli.command(short_help="Print the JSON Schema of the settings files, for editors.")
def schema() -> None:
    """Print the JSON Schema of the settings files (for editors), from the installed MLflow."""
    from layered_mlflow.integrations.schema import schema_text

    output.write(schema_text(), nl=False)


@cli.command(
    short_help="Start `mlflow server` from the server section.", context_settings={"allow_interspersed_args": False}
)
@click.option("--dry-run", is_flag=True, help="Print the variables (masked) and the mlflow command instead.")
@click.argument("mlflow_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def server(options: Options, dry_run: bool, mlflow_args: tuple[str, ...]) -> None:
    """Start `mlflow server` from the `server` section: server [-- MLFLOW_ARGS...].

    Arguments after -- go to `mlflow server` as they are, after those of the
    settings (so they win).
    """
    _serve(options, dry_run, mlflow_args, ui=False)


@cli.command(short_help="Serve the local tracking store for a browser.")
@click.option("--dry-run", is_flag=True, help="Print the variables (masked) and the mlflow command instead.")
@click.pass_obj
def ui(options: Options, dry_run: bool) -> None:
    """Serve the local tracking store (mlruns, sqlite) on server.host/server.port, for a browser."""
    _serve(options, dry_run, (), ui=True)


def _serve(options: Options, dry_run: bool, mlflow_args: tuple[str, ...], ui: bool) -> None:
    from layered_mlflow.checks import stores as store_checks
    from layered_mlflow.cli import report
    from layered_mlflow.server.command import describe, server_command
    from layered_mlflow.server.keeper import serve
    from layered_mlflow.server.ports import refuse_unusable

    resolved = options.ready()
    if dry_run:
        command = server_command(resolved, mlflow_args, ui=ui)
        output.write(report.dry_run(command.resolved, command.argv, cwd=command.cwd))
        return
    command = server_command(options.fetched(resolved), mlflow_args, ui=ui)
    plan = report.dry_run(command.resolved, command.argv, cwd=command.cwd)
    refuse_unusable(command.argv, mlflow_args)
    store_checks.refuse_missing(command.stores)
    for line in plan.splitlines() if options.verbose else ():
        say(line)
    if not options.quiet:
        say(describe(command, ui))
    serve(command.argv, child_environment(options.environ, command.resolved), command.cwd, command.auth)


def _unparsed_set(args: list[str]) -> str | None:
    """The first global ``--set`` without ``=`` (``--set KEY VALUE``), before the command."""
    words = iter(args)
    for word in words:
        if word == "--" or word in cli.commands:
            return None
        if word == "--set" or word.startswith("--set="):
            value = next(words, "") if word == "--set" else word.removeprefix("--set=")
            if "=" not in value:
                return value
    return None


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script's full command line: one-line errors, exit codes of SPEC §8, no traceback."""
    prepare()
    try:
        with lean_dynaconf():
            code = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except click.UsageError as exc:
        unparsed = (
            None
            if isinstance(exc, click.exceptions.NoArgsIsHelpError)
            else _unparsed_set(sys.argv[1:] if argv is None else argv)
        )
        if unparsed is not None:  # click would quote what followed it as a command or option: a value
            failed(malformed_assignment(unparsed))
        failed(exc)
    except Exception as exc:
        failed(exc)
    sys.exit(code if isinstance(code, int) else 0)
