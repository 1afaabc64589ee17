"""A small training job that knows nothing about where MLflow logs.

    layered-mlflow run -- python examples/train.py

It fits a linear model by gradient descent, then logs its parameters, the loss
curve, a metric and the fitted weights (an artifact). The tracking URI, the
experiment and the run tags all come from layered-mlflow's settings.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import tempfile
from pathlib import Path

import mlflow


def make_data(n: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not cryptography)
    return [(x, 3.0 * x + 0.5 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(n))]


def train(data: list[tuple[float, float]], lr: float, epochs: int) -> tuple[float, float, list[float]]:
    w = b = 0.0
    losses = []
    for _ in range(epochs):
        grad_w = sum(2 * (w * x + b - y) * x for x, y in data) / len(data)
        grad_b = sum(2 * (w * x + b - y) for x, y in data) / len(data)
        w, b = w - lr * grad_w, b - lr * grad_b
        losses.append(sum((w * x + b - y) ** 2 for x, y in data) / len(data))
    return w, b, losses


def end_on_sigterm() -> None:
    """Let SIGTERM (`docker stop`, a Job's deletion) end the run, as FAILED rather than left RUNNING.

    In a container this script is PID 1 (layered-mlflow execs it), and PID 1
    receives only the signals it handles: without this, SIGTERM is ignored and
    the runtime resorts to SIGKILL after its grace period.
    """
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def main() -> None:
    end_on_sigterm()
    params = {"lr": 0.1, "epochs": 50, "n": 200, "seed": 7}
    with mlflow.start_run() as run:
        mlflow.log_params(params)
        w, b, losses = train(make_data(params["n"], params["seed"]), params["lr"], params["epochs"])
        for step, loss in enumerate(losses):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metric("final_loss", losses[-1])
        with tempfile.TemporaryDirectory() as folder:
            weights = Path(folder) / "weights.json"
            weights.write_text(json.dumps({"w": w, "b": b}))
            mlflow.log_artifact(str(weights))
        print(f"run {run.info.run_id}: w={w:.3f} b={b:.3f} loss={losses[-1]:.5f}")
        print(f"logged to {mlflow.get_tracking_uri()}")


if __name__ == "__main__":
    main()
