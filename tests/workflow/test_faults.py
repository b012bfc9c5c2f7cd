"""Faults the workflow survives, on a private small config: a SIGKILLed training job, a
diverging method under --keep-going, and an MLflow store locked by another process.

One uninterrupted run (``reference``) is the yardstick: each fault is played on a copy of it
whose affected outputs are deleted, and the recovered results must equal the reference's.
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import (SNAKEMAKE, built_in_background, copy_tree, copy_workflow, parse_dry_run, run_snakemake,
                      snakemake_env, tiny_config, write_config)

from deepclust import io

pytestmark = pytest.mark.slow

RUNS = "results/runs/digits"
METHODS = ["dec", "idec", "kmeans-raw"]
TARGETS = [f"{RUNS}/{method}/seed0/metrics.json" for method in METHODS]
RUN_TIMEOUT = 900


def small_config() -> dict:
    config = tiny_config()
    config["seeds"] = [0]
    config["datasets"]["digits"]["subsample"] = 600
    config["nets"] = {"ae": {"hidden_dims": [32, 32], "embedding_dim": 6, "epochs": 10, "batch_size": 64}}
    config["methods"] = {
        # tol 0: DEC runs all its epochs, long enough (a few seconds) to be killed in the middle
        "dec": {"algorithm": "dec", "net": "ae",
                "params": {"max_epochs": 150, "update_interval": 20, "batch_size": 64, "tol": 0.0}},
        "idec": {"algorithm": "idec", "net": "ae", "params": {"max_epochs": 3, "update_interval": 10,
                                                               "batch_size": 64, "gamma": 0.1}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
    }
    config["figures"]["draw"] = []  # the sync (a target) waits for every figure asked for: none here
    config["tracking"]["live"] = True  # jobs log as they finish, so a locked store meets them
    return config


def run(workdir: Path, *targets: str, env: dict | None = None, keep_going: bool = False):
    args = [*targets, "--keep-going"] if keep_going else list(targets)
    return run_snakemake(workdir, *args, timeout=RUN_TIMEOUT, env=env)


def results_of(workdir: Path, method: str) -> tuple[np.ndarray, dict]:
    run_dir = workdir / RUNS / method / "seed0"
    metrics = io.load_json(run_dir / "metrics.json")
    return np.load(run_dir / "labels.npy"), {k: metrics[k] for k in ("acc", "nmi", "ari")}


@built_in_background
def reference(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("faults") / "reference")
    write_config(workdir, small_config())
    result = run(workdir, *TARGETS, "results/mlflow/synced.json")
    assert result.returncode == 0, result.tail()
    return workdir


def methods_run(result) -> set[str]:
    """The methods whose clustering jobs a run (or dry run) printed."""
    return {dict(wildcards)["method"] for _, wildcards in parse_dry_run(result.output).of_rule("cluster_deep")}


def copy_without(reference: Path, dest: Path, *paths: str) -> Path:
    workdir = copy_tree(reference, dest)
    for path in paths:
        target = workdir / path
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return workdir


def job_processes(workdir: Path, script: str) -> list[int]:
    """PIDs of the job processes running ``script`` (snakemake's copy of it) in ``workdir``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if script in cmdline and "snakemake " not in cmdline and Path(cwd) == workdir:
            found.append(int(proc.name))
    return found


def test_a_sigkilled_training_job_reruns_to_the_uninterrupted_result(reference, tmp_path):
    workdir = copy_without(reference, tmp_path / "killed", f"{RUNS}/dec")
    checkpoint = workdir / "results/checkpoints/runs/digits/dec/seed0/checkpoint.pt"
    env = {**snakemake_env(workdir), "DEEPCLUST_CHECKPOINT_EVERY": "5"}
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen([str(SNAKEMAKE), "--cores", "2", TARGETS[0]], cwd=workdir, env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + RUN_TIMEOUT
    while not checkpoint.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    victims = job_processes(workdir, "cluster_deep.py")
    assert checkpoint.exists() and victims, f"DEC ended before it could be killed:\n{(tmp_path / 'first.log').read_text()}"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)  # no handler runs: what the OOM killer or a node crash does
    assert first.wait(timeout=120) != 0
    assert not (workdir / RUNS / "dec/seed0/metrics.json").exists()
    assert checkpoint.exists()  # the periodic checkpoint outlives the job

    again = run(workdir, TARGETS[0], env={"DEEPCLUST_CHECKPOINT_EVERY": "5"})

    assert again.returncode == 0, again.tail()
    log = (workdir / "results/logs/cluster/digits/dec/seed0.log").read_text()
    assert "[checkpoint] resuming after epoch" in log, log[-2000:]
    labels, metrics = results_of(workdir, "dec")
    reference_labels, reference_metrics = results_of(reference, "dec")
    assert np.array_equal(labels, reference_labels)
    assert metrics == reference_metrics
    assert not checkpoint.exists()  # removed once the run finished


def test_an_unreadable_checkpoint_is_set_aside_and_the_run_starts_afresh(reference, tmp_path):
    workdir = copy_without(reference, tmp_path / "truncated", f"{RUNS}/dec")
    checkpoint = workdir / "results/checkpoints/runs/digits/dec/seed0/checkpoint.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.write_bytes(b"PK\x03\x04" + bytes(500))  # a torch zip cut short, as a full disk leaves it

    result = run(workdir, TARGETS[0])

    assert result.returncode == 0, result.tail()
    [aside] = checkpoint.parent.glob("checkpoint.pt.unreadable-*")
    log = (workdir / "results/logs/cluster/digits/dec/seed0.log").read_text()
    assert "[checkpoint] results/checkpoints/runs/digits/dec/seed0/checkpoint.pt cannot be read (" in log, log[-2000:]
    assert f"set aside as {aside.name}, starting afresh" in log
    labels, metrics = results_of(workdir, "dec")
    reference_labels, reference_metrics = results_of(reference, "dec")
    assert np.array_equal(labels, reference_labels) and metrics == reference_metrics


def test_an_unreadable_pretrained_model_is_pretrained_again_by_the_next_run(reference, tmp_path):
    workdir = copy_tree(reference, tmp_path / "model")
    model = workdir / "results/pretrain/digits/ae/seed0/model.pt"
    model.write_bytes(model.read_bytes()[:1000])  # newer than the runs that read it: they rerun
    idec = TARGETS[METHODS.index("idec")]  # IDEC's few epochs: DEC's many are the SIGKILL test's

    failed = run(workdir, idec)

    assert failed.returncode != 0
    log = (workdir / "results/logs/cluster/digits/idec/seed0.log").read_text()
    assert "results/pretrain/digits/ae/seed0/model.pt is not a deepclust model file" in log, log[-2000:]
    assert "run snakemake again and it remakes the file" in log
    assert not model.exists() and list(model.parent.glob("model.pt.unreadable-*"))
    planned = run_snakemake(workdir, "-n", *TARGETS)
    assert "rule pretrain_autoencoder:" in planned.output, planned.tail()
    assert {"dec", "idec"} <= methods_run(planned), planned.tail()

    again = run(workdir, idec)

    assert again.returncode == 0, again.tail()
    # pretrained again bit for bit, so the run equals the reference's
    labels, metrics = results_of(workdir, "idec")
    reference_labels, reference_metrics = results_of(reference, "idec")
    assert np.array_equal(labels, reference_labels) and metrics == reference_metrics


INJECTED_NAN = '''
_check = Progress.check


def _nan_from_epoch_3_in_dec(self, epoch, loss):  # injected by tests/workflow/test_faults.py
    return _check(self, epoch, float("nan") if self.name == "DEC" and epoch >= 3 else loss)


Progress.check = _nan_from_epoch_3_in_dec
'''


def test_a_diverging_method_fails_naming_the_epoch_while_the_others_finish(reference, tmp_path):
    workdir = copy_without(reference, tmp_path / "nan", RUNS)
    with open(workdir / "src/deepclust/engine.py", "a") as engine_file:
        engine_file.write(INJECTED_NAN)

    result = run(workdir, *TARGETS, keep_going=True)

    assert result.returncode != 0, result.tail()
    log = (workdir / "results/logs/cluster/digits/dec/seed0.log").read_text()
    assert re.search(r"DEC: loss became nan at epoch 3; last finite loss was \d", log), log[-2000:]
    assert "results/logs/cluster/digits/dec/seed0.log" in result.output  # the user is pointed to it
    assert not (workdir / RUNS / "dec").exists() or not any((workdir / RUNS / "dec").rglob("*.json"))
    for method in ("idec", "kmeans-raw"):  # the other jobs finished, with the reference's results
        labels, metrics = results_of(workdir, method)
        reference_labels, reference_metrics = results_of(reference, method)
        assert np.array_equal(labels, reference_labels) and metrics == reference_metrics, method


def test_jobs_log_live_and_the_sync_logs_no_run_again(reference):
    """The reference run: each training job logged its run as it finished (pretraining before the
    clustering that starts from it), and the sync then found those runs instead of adding any."""
    import mlflow

    synced = io.load_json(reference / "results/mlflow/synced.json")
    client = mlflow.MlflowClient(f"sqlite:///{reference}/results/mlflow.db")
    found = {r.data.tags["deepclust.run_key"]: r for r in
             client.search_runs([e.experiment_id for e in client.search_experiments()])}
    assert len(found) == len(METHODS) + 1 and synced["failed"] == []
    assert {r.info.run_id for r in found.values()} == set(synced["runs"].values())
    pretrained = found["digits/pretrain-ae/seed0"].info.end_time / 1000
    assert pretrained < (reference / RUNS / "dec/seed0/labels.npy").stat().st_mtime  # logged live


def test_jobs_complete_while_mlflow_is_locked_and_the_sync_fills_it_in_later(reference, tmp_path):
    rerun = ["idec", "kmeans-raw"]  # DEC's run is kept: its many epochs would only wait longer
    workdir = copy_without(reference, tmp_path / "locked", *(f"{RUNS}/{m}" for m in rerun), "results/mlflow",
                           "results/mlflow.db")
    init = run(workdir, "results/mlflow/tracking.json")
    assert init.returncode == 0, init.tail()
    store = sqlite3.connect(workdir / "results/mlflow.db", isolation_level=None)
    store.execute("BEGIN EXCLUSIVE")  # another process holds the store's write lock throughout
    try:
        locked = run(workdir, *TARGETS, "results/mlflow/synced.json", keep_going=True)
    finally:
        store.execute("COMMIT")
        store.close()
    assert locked.returncode != 0  # only the sync failed
    sync_log = (workdir / "results/logs/sync_tracking.log").read_text()
    assert "MLflow store sqlite:///results/mlflow.db is not available" in sync_log and "locked" in sync_log
    assert "idec" in methods_run(locked) and "dec" not in methods_run(locked), locked.tail()
    for method in rerun:
        labels, metrics = results_of(workdir, method)
        assert np.array_equal(labels, results_of(reference, method)[0]), method

    later = run(workdir, "results/mlflow/synced.json")

    assert later.returncode == 0, later.tail()
    assert "rule sync_tracking" in later.output and "rule cluster" not in later.output
    import mlflow
    client = mlflow.MlflowClient(f"sqlite:///{workdir}/results/mlflow.db")
    found = client.search_runs([e.experiment_id for e in client.search_experiments()])
    keys = sorted(r.data.tags["deepclust.run_key"] for r in found)
    assert keys == sorted({*keys}) and len(keys) == len(METHODS) + 1  # three runs + pretraining, once each
    assert {r.info.status for r in found} == {"FINISHED"}
