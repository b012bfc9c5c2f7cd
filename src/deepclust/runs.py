"""Finishing a run directory: labels.npy, metrics.json and run.json (the run's key, params and
tags: dataset, method, seed, config hash, git commit and whether tracked files differ from it,
machine, torch version), then the MLflow mirror."""

import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from deepclust import io, tracking
from deepclust.metrics import evaluate
from deepclust.provenance import config_hash, machine


@lru_cache(maxsize=None)  # one `git` call per process, not one per run (baselines write 15 runs)
def git_state(cwd=".") -> tuple:
    """(commit, dirty): HEAD's hash and "yes" when tracked files differ from it, so a run made
    from uncommitted edits does not pass for the commit ("unknown", "unknown" outside a repo)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown", "unknown"
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                                 capture_output=True, text=True, timeout=30)
        dirty = "unknown" if changes.returncode != 0 else ("yes" if changes.stdout.strip() else "no")
        return head.stdout.strip(), dirty
    except (OSError, subprocess.SubprocessError):
        return "unknown", "unknown"


def write_run_json(run_dir, *, key: str, params: dict, tags: dict, seconds: float,
                   metrics_files=("metrics.json",), history_file=None, artifacts=()) -> None:
    commit, dirty = git_state()
    io.save_json(Path(run_dir) / "run.json", {
        "key": key,
        "params": params,
        "seconds": seconds,
        "tags": {**{k: str(v) for k, v in tags.items()}, "config_hash": config_hash(params),
                 "git_commit": commit, "git_dirty": dirty, "machine": machine(),
                 "torch": getattr(sys.modules.get("torch"), "__version__", "not used")},
        "metrics_files": list(metrics_files),
        "history_file": history_file,
        "artifacts": list(artifacts),
    })


def identity(dataset: str, method: str, seed: int, stage: str) -> dict:
    """The key and tags that name a run in run.json and MLflow (``finish_run(**identity(...))``)."""
    return {"key": f"{dataset}/{method}/seed{seed}",
            "tags": {"dataset": dataset, "method": method, "seed": seed, "stage": stage}}


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
