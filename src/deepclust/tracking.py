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
    sqlite store fails), and write what jobs need to find it to ``path``.

    An unreachable or locked store is not an error: ``experiment_id`` is then None, the jobs
    skip live logging, and sync_tracking creates the experiment and mirrors every run later."""
    info = {"uri": uri, "experiment": experiment, "artifact_root": artifact_root, "experiment_id": None}
    try:
        info["experiment_id"] = _experiment_id(info, create=True)
    except Exception as error:  # tracking must never block the training jobs
        print(f"warning: MLflow store {uri} is not available ({type(error).__name__}: {str(error)[:300]}); "
              "the jobs run without live logging and sync_tracking mirrors their runs later", file=sys.stderr)
    save_json(path, info)
    return info


def _experiment_id(info: dict, create: bool) -> str | None:
    import mlflow

    if info.get("experiment_id") is not None:
        return info["experiment_id"]
    client = mlflow.MlflowClient(info["uri"])
    found = client.get_experiment_by_name(info["experiment"])
    if found is not None:
        return found.experiment_id
    if not create:
        return None
    artifact_root = info.get("artifact_root") or "results/mlflow/artifacts"
    artifact_location = Path(artifact_root).resolve().as_uri() if "://" not in artifact_root else artifact_root
    return client.create_experiment(info["experiment"], artifact_location=artifact_location)


def result_hash(run_dir: Path, run: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(run.get("metrics_files", [])):
        digest.update((run_dir / name).read_bytes())
    digest.update(repr(sorted(run.get("params", {}).items())).encode())
    return digest.hexdigest()[:16]


def log_run_dir(run_dir, info: dict, create_experiment: bool = False) -> str | None:
    """Mirror one run directory into MLflow; return the run id, or None when tracking failed.

    ``create_experiment`` is for sync_tracking only (one job): live jobs run concurrently and
    must not race to create the experiment when init_tracking found the store unavailable."""
    try:
        experiment_id = _experiment_id(info, create=create_experiment)
        if experiment_id is None:
            print(f"warning: MLflow experiment {info['experiment']!r} does not exist yet; {run_dir} is "
                  "logged by the sync rule", file=sys.stderr)
            return None
        return _log_run_dir(Path(run_dir), info["uri"], experiment_id)
    except Exception:  # tracking must never fail a job
        print(f"warning: MLflow logging of {run_dir} failed; the files are complete and "
              f"the sync rule will retry:\n{traceback.format_exc()}", file=sys.stderr)
        return None


def _log_run_dir(run_dir: Path, uri: str, experiment_id: str) -> str:
    import mlflow

    run = load_json(run_dir / "run.json")
    client = mlflow.MlflowClient(uri)
    digest = result_hash(run_dir, run)
    same_key = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{run['key']}'")
    for found in same_key:
        if found.info.status == "FINISHED" and found.data.tags.get(RESULT_HASH_TAG) == digest:
            return found.info.run_id
    for found in same_key:  # left by a logger that was killed or lost the store half-way
        if found.info.status != "FINISHED":
            client.delete_run(found.info.run_id)

    tags = {**run.get("tags", {}), RUN_KEY_TAG: run["key"], RESULT_HASH_TAG: digest,
            "mlflow.runName": run["key"]}
    run_id = client.create_run(experiment_id, tags=tags).info.run_id
    try:
        _log_contents(client, run_id, run_dir, run)
    except Exception:
        client.delete_run(run_id)  # best effort; a leftover is deleted by the next attempt
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _log_contents(client, run_id: str, run_dir: Path, run: dict) -> None:
    from mlflow.entities import Metric, Param

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


def _flatten(value: dict, prefix: str = "") -> dict:
    flat = {}
    for key, item in value.items():
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat
