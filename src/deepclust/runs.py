"""What every run directory holds besides its results: run.json with the run's key, params and
tags (dataset, method, seed, config hash, git commit). Tracking and tables read it."""

import subprocess
from pathlib import Path

from deepclust.io import save_json
from deepclust.provenance import config_hash


def git_commit(cwd=".") -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_run_json(run_dir, *, key: str, params: dict, tags: dict, seconds: float,
                   metrics_files=("metrics.json",), history_file=None, artifacts=()) -> None:
    save_json(Path(run_dir) / "run.json", {
        "key": key,
        "params": params,
        "seconds": seconds,
        "tags": {**{k: str(v) for k, v in tags.items()}, "config_hash": config_hash(params),
                 "git_commit": git_commit()},
        "metrics_files": list(metrics_files),
        "history_file": history_file,
        "artifacts": list(artifacts),
    })
