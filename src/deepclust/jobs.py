"""Plumbing shared by the workflow's scripts: logging to the rule's log file and finishing a run
(metrics, run.json, MLflow). Kept here so the scripts stay a few lines each."""

import sys
from pathlib import Path

import numpy as np

from deepclust import io, tracking
from deepclust.metrics import evaluate
from deepclust.runs import write_run_json


def start(snakemake) -> None:
    """Send this job's stdout and stderr (progress, warnings, tracebacks) to its log file."""
    log = open(snakemake.log[0], "w", buffering=1)
    sys.stdout = sys.stderr = log


def load_features(path) -> np.ndarray:
    """A feature space: the dataset's X from a .npz, or an embedding .npy."""
    return io.load_dataset(path)[0] if str(path).endswith(".npz") else np.load(path)


def finish_run(run_dir, tracking_file=None, *, key: str, params: dict, tags: dict, seconds: float, labels=None,
               X=None, y=None, embedding=None, history_file=None, artifacts=()) -> dict:
    """Write labels.npy and metrics.json (when labels are given) and run.json into ``run_dir``,
    then mirror the run to MLflow when a tracking file is given."""
    run_dir = Path(run_dir)
    metrics_files = []
    metrics = {}
    if labels is not None:
        io.save_array(run_dir / "labels.npy", np.asarray(labels, dtype=np.int64))
        metrics = {**evaluate(labels, y, X, embedding), "seconds": seconds}
        io.save_json(run_dir / "metrics.json", metrics)
        metrics_files = ["metrics.json"]
    write_run_json(run_dir, key=key, params=params, tags=tags, seconds=seconds, metrics_files=metrics_files,
                   history_file=history_file, artifacts=artifacts)
    if tracking_file:
        tracking.log_run_dir(run_dir, io.load_json(tracking_file))
    print(f"finished {key} in {seconds:.1f}s {metrics}", flush=True)
    return metrics
