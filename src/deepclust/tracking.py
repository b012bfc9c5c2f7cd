"""MLflow mirror of the result files. Files are the source of truth; tracking is best effort.

Every run directory holds a run.json (key, params, tags, which files are metrics, history and
artifacts). ``log_run_dir`` turns one into an MLflow run, unless a finished run with the same
key and the same result hash already exists, so logging live from a job and syncing
everything again at the end never duplicates a run. A tracking failure is reported on stderr
and never raised: a training job must not fail or lose its results because of MLflow.

A store that is down costs seconds, not minutes: an HTTP(S) store is probed once with a short
timeout before it is used, and every MLflow call made here retries a few times only (MLflow's
own client retries an unreachable server for minutes per call). ``init_store`` records what it
found in tracking.json; the jobs trust that record and make no call when it says the store was
not available; the sync (``reopen``) asks once more and fails at once, naming the store.
"""

import hashlib
import http.client
import os
import ssl
import sys
import traceback
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from deepclust.io import load_json, save_json

RUN_KEY_TAG = "deepclust.run_key"
RESULT_HASH_TAG = "deepclust.result_hash"
PROBE_SECONDS = 5  # an MLflow server answers /health in milliseconds
# MLflow's defaults (7 retries, backoff factor 2, 120 s per request) retry a dead server for
# about 4 minutes per call; these bound each of our calls to seconds. A variable set by the user wins.
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
               "MLFLOW_HTTP_REQUEST_TIMEOUT": "15"}


class StoreUnavailable(RuntimeError):
    """The MLflow store cannot be opened; the message names it and says why."""


class StoreUnreachable(StoreUnavailable):
    """An HTTP(S) store that does not answer."""


def tracking_uri(configured: str) -> str:
    """MLFLOW_TRACKING_URI wins (clusters point jobs at a server), then ``configured`` (the
    config's tracking.uri, else the workflow's sqlite store in its results folder)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or configured


def unreachable(uri: str, timeout: float = PROBE_SECONDS) -> str | None:
    """Why an HTTP(S) store does not answer within ``timeout`` seconds, or None when it answers
    (any HTTP status) or is not an HTTP store (sqlite, files: nothing to probe)."""
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout).close()
    except urllib.error.HTTPError:  # it answered; MLflow's own calls say whether they are allowed
        return None
    except urllib.error.URLError as error:
        if isinstance(error.reason, ssl.SSLError):  # it answered over TLS; MLflow's settings verify it
            return None
        return f"{type(error.reason).__name__}: {error.reason}"
    except (OSError, http.client.HTTPException) as error:  # a read timeout, a dropped connection
        return f"{type(error).__name__}: {str(error) or 'no answer'}"
    return None


@contextmanager
def bounded_http():
    """MLflow calls inside this block give up after a few short retries (see HTTP_LIMITS)."""
    added = {name: value for name, value in HTTP_LIMITS.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def open_experiment(uri: str, experiment: str, artifact_root: str) -> str:
    """The experiment's id in the store, created if missing; StoreUnavailable when the store
    does not answer or cannot be opened."""
    reason = unreachable(uri)
    if reason:
        raise StoreUnreachable(f"MLflow store {uri} is unreachable ({reason})")
    try:
        with bounded_http():
            import mlflow

            client = mlflow.MlflowClient(uri)
            found = client.get_experiment_by_name(experiment)
            if found is not None:
                return found.experiment_id
            location = Path(artifact_root).resolve().as_uri() if "://" not in artifact_root else artifact_root
            return client.create_experiment(experiment, artifact_location=location)
    except Exception as error:
        raise StoreUnavailable(f"MLflow store {uri} is not available "
                               f"({type(error).__name__}: {str(error)[:300]})") from error


def init_store(path, uri: str, experiment: str, artifact_root: str) -> dict:
    """Create the store and experiment once, before any job logs (concurrent creation of a new
    sqlite store fails), and write what jobs need to find it to ``path``.

    An unreachable or locked store is not an error: ``status`` then says so, ``experiment_id``
    is None, the jobs make no MLflow call, and sync_tracking mirrors every run later."""
    info = {"uri": uri, "experiment": experiment, "artifact_root": artifact_root, "experiment_id": None,
            "status": "ready", "error": None}
    try:
        info["experiment_id"] = open_experiment(uri, experiment, artifact_root)
    except StoreUnavailable as error:  # tracking must never block the training jobs
        info["status"] = "unreachable" if isinstance(error, StoreUnreachable) else "unavailable"
        info["error"] = str(error)
        print(f"warning: {error}; the jobs run without live logging and sync_tracking mirrors their "
              "runs at the end", file=sys.stderr)
    save_json(path, info)
    return info


def reopen(info: dict) -> dict:
    """For the sync: ``info`` with the experiment found (or created) in the store now, whatever
    init found; StoreUnavailable, saying what to do, when the store is still not available."""
    try:
        experiment_id = open_experiment(info["uri"], info["experiment"], info["artifact_root"])
    except StoreUnavailable as error:
        raise StoreUnavailable(f"{error}. Every run's files are complete; rerun once the store answers (or "
                               "point $MLFLOW_TRACKING_URI or tracking.uri at another): only the MLflow rules "
                               "rerun") from None
    return {**info, "experiment_id": experiment_id, "status": "ready", "error": None}


def result_hash(run_dir: Path, run: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(run.get("metrics_files", [])):
        digest.update((run_dir / name).read_bytes())
    digest.update(repr(sorted(run.get("params", {}).items())).encode())
    return digest.hexdigest()[:16]


def log_run_dir(run_dir, info: dict) -> str | None:
    """Mirror one run directory into MLflow; return the run id, or None when tracking failed.

    A live job trusts init_store's record: when it found the store unavailable (no experiment
    id) the job makes no MLflow call, and the sync logs the run later."""
    if info.get("experiment_id") is None:
        print(f"note: MLflow store {info['uri']} was {info.get('status') or 'not available'} when the "
              f"workflow started; {run_dir} is logged by the sync rule", file=sys.stderr)
        return None
    try:
        reason = unreachable(info["uri"])
        if reason:
            print(f"warning: MLflow store {info['uri']} is unreachable ({reason}); {run_dir} is "
                  "complete and the sync rule will retry", file=sys.stderr)
            return None
        with bounded_http():
            return _log_run_dir(Path(run_dir), info["uri"], info["experiment_id"])
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
