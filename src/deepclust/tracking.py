"""MLflow mirror of the result files. Files are the source of truth; tracking is best effort.

Every run directory holds a run.json (key, params, tags, which files are metrics, history and
artifacts). ``log_run_dir`` turns one into an MLflow run, unless a finished run with the same
key and the same result hash already exists, so logging live from a job and syncing
everything again at the end never duplicates a run. A tracking failure is reported on stderr
and never raised: a training job must not fail or lose its results because of MLflow.
"""

import hashlib
import os
import sys
import traceback
from pathlib import Path

from deepclust.io import load_json, save_json

RUN_KEY_TAG = "deepclust.run_key"
RESULT_HASH_TAG = "deepclust.result_hash"


def tracking_uri(configured: str | None) -> str:
    """MLFLOW_TRACKING_URI wins (clusters point jobs at a server), then the config, then sqlite."""
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or "sqlite:///results/mlflow.db"


def init_store(path, uri: str, experiment: str, artifact_root: str) -> dict:
    """Create the store and experiment once, before any job logs (concurrent creation of a new
    sqlite store fails), and write what jobs need to find it to ``path``."""
    import mlflow

    client = mlflow.MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        artifact_location = Path(artifact_root).resolve().as_uri() if "://" not in artifact_root else artifact_root
        experiment_id = client.create_experiment(experiment, artifact_location=artifact_location)
    else:
        experiment_id = found.experiment_id
    info = {"uri": uri, "experiment": experiment, "experiment_id": experiment_id}
    save_json(path, info)
    return info


def result_hash(run_dir: Path, run: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(run.get("metrics_files", [])):
        digest.update((run_dir / name).read_bytes())
    digest.update(repr(sorted(run.get("params", {}).items())).encode())
    return digest.hexdigest()[:16]


def log_run_dir(run_dir, info: dict) -> str | None:
    """Mirror one run directory into MLflow; return the run id, or None when tracking failed."""
    try:
        return _log_run_dir(Path(run_dir), info)
    except Exception:  # tracking must never fail a job
        print(f"warning: MLflow logging of {run_dir} failed; the files are complete and "
              f"the sync rule will retry:\n{traceback.format_exc()}", file=sys.stderr)
        return None


def _log_run_dir(run_dir: Path, info: dict) -> str:
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    run = load_json(run_dir / "run.json")
    client = mlflow.MlflowClient(info["uri"])
    digest = result_hash(run_dir, run)
    existing = client.search_runs(
        [info["experiment_id"]],
        filter_string=f"tags.`{RUN_KEY_TAG}` = '{run['key']}' and tags.`{RESULT_HASH_TAG}` = '{digest}' "
                      "and attributes.status = 'FINISHED'",
        max_results=1)
    if existing:
        return existing[0].info.run_id

    tags = {**run.get("tags", {}), RUN_KEY_TAG: run["key"], RESULT_HASH_TAG: digest,
            "mlflow.runName": run["key"]}
    created = client.create_run(info["experiment_id"], tags=tags)
    run_id = created.info.run_id
    params = [Param(k, str(v)[:6000]) for k, v in sorted(_flatten(run.get("params", {})).items())]
    metrics = []
    for name in run.get("metrics_files", []):
        for key, value in load_json(run_dir / name).items():
            if isinstance(value, (int, float)) and value == value:  # MLflow refuses NaN in some stores
                metrics.append(Metric(key, float(value), 0, 0))
    if run.get("history_file") and (run_dir / run["history_file"]).exists():
        for row in load_json(run_dir / run["history_file"]):
            step = int(round(float(row.get("iteration", row.get("epoch", 0)))))
            for key, value in row.items():
                if key not in ("epoch", "iteration") and isinstance(value, (int, float)) and value == value:
                    metrics.append(Metric(f"history.{key}", float(value), 0, step))
    for start in range(0, len(params), 100):  # MLflow's log_batch limits: 100 params, 1000 metrics
        client.log_batch(run_id, params=params[start:start + 100])
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start:start + 1000])
    for name in run.get("artifacts", []):
        if (run_dir / name).exists():
            client.log_artifact(run_id, str(run_dir / name))
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _flatten(value: dict, prefix: str = "") -> dict:
    flat = {}
    for key, item in value.items():
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat
