"""One run across processes (SPEC §14): the run tagged with a key, found or created in the resolved experiment.

`run --shared-run KEY` hands the command that run's ``MLFLOW_RUN_ID``; `run --parent-run KEY` hands it the
tag ``mlflow.parentRunId`` (in ``MLFLOW_RUN_CONTEXT``), so that the command's own run is nested under it. Never
both: with ``MLFLOW_RUN_ID`` set, MLflow resumes that run and ignores the parent (mlflow #15713).

Many processes may start with one key at the same moment (the ranks of `torchrun`, the nodes of a workflow).
MLflow has no "create unless it exists", so each may create a run. How they still end with one:

- A run is ordered by (start time, run id); the creator stamps the start time just before it creates the run.
- Assumption: a run is visible to every search that begins ``SETTLE`` seconds after its start time or later
  (its creation commits within that time, and the processes' clocks agree within a small part of it).
- A process decides only on a search that began at least ``SETTLE`` after the start time of the earliest run
  it found; until then it waits and searches again. That search sees every run that started no later than
  the earliest one it found, so the earliest of all the runs ever created with the key, M, is among them:
  every process decides M (a run earlier than M does not exist; M visible, it is the earliest found).
- A process marks each run it created (its creator tag says which), other than M, deleted before its command
  starts. Nobody else can be using one: whoever decided, decided M. M is never deleted: only its creator
  could, and its creator decided M.
  So the duplicates go before anything is logged into them, and exactly one run stays active.
- A process that comes later finds M (the duplicates are deleted or later than M) and uses it at once, as does
  a retried step: a finished run with the key is reused.

The cost: the process that creates a run waits ``SETTLE`` seconds once; finding an older run costs one search.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from layered_mlflow.errors import ConfigError, UsageError, escaped
from layered_mlflow.integrations import experiment_setup
from layered_mlflow.keys import RUN_CONTEXT
from layered_mlflow.problems import ERROR
from layered_mlflow.resolution.resolve import Resolved
from layered_mlflow.secrets.masking import printable, secrets_of

KEY_TAG = "layered_mlflow.run_key"
PARENT_TAG = "mlflow.parentRunId"
CREATOR_TAG = "layered_mlflow.run_key.creator"  # which process created a run: see _run_of
_ATTEMPTS = 3  # creations tried when the store's answer is lost
_NAME_TAG = "mlflow.runName"  # a run name the settings give (tags.mlflow.runName) names the run; else the key
SETTLE = 2.0  # seconds: the time within which a created run is visible to every process (see above)
REACH_WITHIN = 10.0  # seconds for the first answer (`check --online`'s probe); ranks starting at once share a server
BOUND = 30.0  # seconds for the store's answers and the settling together; MLflow's client would retry for minutes


def assignment(
    resolved: Resolved, environ: Mapping[str, str], shared_run: str | None, parent_run: str | None
) -> str | None:
    """The run of ``shared_run``'s key as a ``--set`` assignment (``mlflow_run_id=…``), or of ``parent_run``'s as
    the parent of new runs (``tags.mlflow.parentRunId=…``); None when neither is given.

    ``resolved`` has its secret references fetched (the store is reached with them); ``environ`` is what the
    command inherits. An error (exit 2) for both keys, a key that cannot be one, settings that already name a
    run or a parent, or a store that refuses or does not answer within BOUND seconds.
    """
    if shared_run is None and parent_run is None:
        return None
    if shared_run is not None and parent_run is not None:
        raise UsageError(
            "--shared-run and --parent-run (shared_run, parent_run) exclude each other",
            hint="--shared-run: every process logs into one run; --parent-run: each its own run, nested under one",
        )
    nested = parent_run is not None
    key = parent_run or shared_run or ""
    option = "--parent-run" if nested else "--shared-run"
    _refuse_unusable(key, option)
    context = _context(resolved.variables)
    given_run = resolved.variables.get("MLFLOW_RUN_ID")
    named = (("MLFLOW_RUN_ID", given_run), (f"tags.{PARENT_TAG}", context.get(PARENT_TAG)))
    for name, given in named:
        if given:
            raise ConfigError(
                f"{option} names the run, and the settings already give {name} ({printable(given, 100)!r})",
                hint=f"drop {name} from the settings or the environment (`layered-mlflow explain {name}` shows "
                f"where it is set), or leave out {option}",
            )
    _refuse_unreachable(resolved, option)
    with _client_environment(resolved, environ):
        import mlflow  # here, outside the bound: importing it is local work, seconds on a busy machine

        client = mlflow.MlflowClient(resolved.variables["MLFLOW_TRACKING_URI"])
        run_id = _within(lambda: _run_of(client, resolved, key, context), resolved, option)
    return f"tags.{PARENT_TAG}={run_id}" if nested else f"mlflow_run_id={run_id}"


def _refuse_unusable(key: str, option: str) -> None:
    if not key.strip():
        raise UsageError(
            f"{option} was given an empty key",
            hint="the key usually comes from the orchestrator: is $ARGO_WORKFLOW_NAME, $SLURM_JOB_ID or "
            "$TORCHELASTIC_RUN_ID set in this process?",
        )
    if not key.isprintable() or any(quote in key for quote in "'\"`\\"):
        raise UsageError(
            f"{option} '{escaped(key)}': a key holds no quote, backslash or control character "
            "(MLflow's search cannot match it)",
            hint="use letters, digits and - _ . : + / (an Argo workflow name, a Slurm job id, an Airflow run_id)",
        )


def _context(variables: Mapping[str, str]) -> dict[str, str]:
    """The tags of every new run: MLFLOW_RUN_CONTEXT's object (`check` reports one that is not an object)."""
    try:
        context = json.loads(variables.get(RUN_CONTEXT) or "{}")
    except ValueError:
        context = None
    return {str(k): str(v) for k, v in context.items()} if isinstance(context, dict) else {}


def _refuse_unreachable(resolved: Resolved, option: str) -> None:
    """`check --online`'s probe first: a store that does not answer is its one line, without importing mlflow."""
    from layered_mlflow.checks.online.tracking import reach

    problem = reach(resolved.variables, REACH_WITHIN, secrets_of(resolved))
    if problem.level == ERROR:
        raise ConfigError(f"{option}: {problem.message}", problem.hint)


def _within(lookup: Callable[[], str], resolved: Resolved, option: str) -> str:
    """``lookup()``, bounded as `check --online` is; what it raises or a silence, as one line (exit 2)."""
    from layered_mlflow.checks.online.tracking import within

    secrets = secrets_of(resolved)
    shown = secrets.mask("MLFLOW_TRACKING_URI", resolved.variables["MLFLOW_TRACKING_URI"])
    answer = within(lookup, BOUND)
    hint = "`layered-mlflow check --online` says whether the tracking store answers"
    if answer is None:
        raise ConfigError(f"{option}: the tracking store {shown} did not answer within {BOUND:g} s", hint)
    if isinstance(answer, ConfigError):
        raise answer
    if isinstance(answer, Exception):
        refused = experiment_setup.refusal(answer, resolved, secrets)
        raise ConfigError(f"{option}: the tracking store {shown} refused: {refused}", hint)
    return answer


def _run_of(client: Any, resolved: Resolved, key: str, context: Mapping[str, str]) -> str:
    """The id of the run of ``key``, found or created in the resolved experiment (the module's docstring)."""
    experiment_id = _experiment(client, resolved)
    # The creator's mark: a creation whose answer was lost (a server resetting the connection under load) may
    # still have made the run; the next search shows it as ours, so that it is deleted like any duplicate.
    mark = uuid.uuid4().hex
    tags = {**context, KEY_TAG: key, CREATOR_TAG: mark}
    mine: set[str] = set()
    attempts = 0
    while True:
        began = _now()
        runs = _search(client, experiment_id, key)
        mine.update(run.info.run_id for run in runs if run.data.tags.get(CREATOR_TAG) == mark)
        if not runs and not mine:
            attempts += 1
            try:
                run = client.create_run(experiment_id, start_time=_now(), tags=tags, run_name=tags.get(_NAME_TAG, key))
            except Exception:
                if attempts >= _ATTEMPTS:
                    raise
                continue
            mine.add(run.info.run_id)
            continue
        if not runs:  # our own run is not visible yet, or someone deleted every one: search again
            time.sleep(SETTLE / 10)
            continue
        first = min(runs, key=lambda run: (run.info.start_time, run.info.run_id))
        wait = first.info.start_time + SETTLE * 1000 - began
        if wait <= 0:
            break
        time.sleep(wait / 1000)
    for duplicate in mine - {first.info.run_id}:
        client.delete_run(duplicate)
    return str(first.info.run_id)


def _now() -> int:
    return time.time_ns() // 1_000_000  # milliseconds, as MLflow's start times


def _search(client: Any, experiment_id: str, key: str) -> list[Any]:
    from mlflow.entities import ViewType

    return list(
        client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{KEY_TAG}` = '{key}'",
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=100,
            order_by=["attributes.start_time ASC"],
        )
    )


def _experiment(client: Any, resolved: Resolved) -> str:
    """The id of the resolved experiment, created (with its `experiment` section) when it does not exist."""
    variables = resolved.variables
    if "MLFLOW_EXPERIMENT_ID" in variables:
        return variables["MLFLOW_EXPERIMENT_ID"]
    name = variables.get("MLFLOW_EXPERIMENT_NAME")
    if not name:
        return "0"  # MLflow's default experiment, where the command's runs go too
    experiment_setup.refuse_unusable(resolved)
    if experiment_setup.described(resolved):
        experiment_setup.apply(client, experiment_setup.wanted(resolved), secrets_of(resolved))
    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            return str(client.create_experiment(name))
        except Exception:  # another process created it first (MLflow's RESOURCE_ALREADY_EXISTS)
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        raise ConfigError(
            f"experiment {printable(name, 100)!r} is deleted",
            hint="`layered-mlflow experiment` restores it, or pick another mlflow_experiment_name",
        )
    return str(found.experiment_id)


@contextmanager
def _client_environment(resolved: Resolved, environ: Mapping[str, str]) -> Iterator[None]:
    """MLflow's client reads its credentials, endpoint and certificates from os.environ: the command's, for now."""
    before = dict(os.environ)
    # MLflow's own retries: a server that resets a connection under load (8 ranks at once) is asked again;
    # the whole lookup is bounded here (BOUND), not by capping them.
    experiment_setup.use_environment(resolved, environ, bounds={})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)
