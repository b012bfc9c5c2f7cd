"""The workflow through a real SLURM: tests/slurm/bringup.sh starts munge, slurmctld and slurmd
on this machine (Debian packages, root) with two fake GPUs, and a small config runs through
profiles/slurm unchanged, one gpu-tagged training job included. Needs root and apt; skipped
with the reason elsewhere. Every snakemake call is bounded by a hard timeout (a SLURM status
loop that never ends cannot hang the suite)."""

import concurrent.futures
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import SNAKEMAKE, copy_workflow, snakemake_env, write_config

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent.parent / "slurm"
STATE = "/tmp/deepclust-slurm-test"
TIMEOUT = 900  # seconds for the whole workflow; it takes ~2-4 min on two cores

CONFIG = {
    "device": "auto",       # not cpu: training rules declare gpu=1 -> --gpus=1; no CUDA here -> CPU
    "seeds": [0],
    "threads": {"train": 1},
    "datasets": {"digits": {"n_clusters": 10, "preprocess": "minmax", "subsample": 300}},
    "nets": {"ae": {"hidden_dims": [32], "embedding_dim": 4, "epochs": 2, "batch_size": 64}},
    "methods": {
        "dec": {"algorithm": "dec", "net": "ae", "params": {"max_epochs": 2, "update_interval": 5, "batch_size": 64}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
    },
    "figures": {"elbow_k": [2, 4]},
    "tracking": {"enabled": False},
}


def why_not():
    if os.geteuid() != 0:
        return "needs root (starts slurmctld, slurmd and munged)"
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        return "needs apt-get (Debian) to install SLURM"
    return None


def bring_up_and_run() -> tuple:
    """SLURM brought up and the small config run through profiles/slurm: ("ok", workdir, output,
    its SLURM jobs), ("skip", reason) or ("fail", message). The jobs are read at once: slurmctld
    forgets a finished job MinJobAge seconds later, and the tests may come long after."""
    reason = why_not()
    if reason:
        return "skip", reason
    try:
        up = subprocess.run(["bash", str(HERE / "bringup.sh")], env=slurm_state_env(), capture_output=True,
                            text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return "fail", "SLURM bring-up ran over 600 s"
    if up.returncode != 0:
        return "fail", f"SLURM bring-up failed:\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}"
    workdir = copy_workflow(Path(tempfile.mkdtemp(prefix="deepclust-slurm-")) / "wf")
    write_config(workdir, CONFIG)
    # this test cluster has no accounting: squeue for job status, and a short first wait
    command = ["timeout", "-s", "KILL", str(TIMEOUT), str(SNAKEMAKE), "--profile", "profiles/slurm",
               "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2"]
    env = snakemake_env(workdir, slurm=True)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir}/results/mlflow-unused.db"
    done = subprocess.run(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-1500:]}" for p in sorted(workdir.rglob("*.log"))
                         if "slurm_logs" in str(p) or "results/logs" in str(p))
        return "fail", (f"snakemake --profile profiles/slurm exited {done.returncode} "
                        f"({'killed at the timeout' if done.returncode == 137 else 'failed'}):\n"
                        f"{done.stdout[-5000:]}\n{logs}")
    return "ok", workdir, done.stdout, [j for j in sbatch_jobs() if j.get("WorkDir", "").startswith(str(workdir))]


def slurm_state_env() -> dict:
    return {**os.environ, "STATE": STATE, "NGPU": "2"}


# The run mostly waits on SLURM's status checks, so it goes on in a thread while the other tests
# run: conftest starts it right after collection and stops SLURM when the session ends.
_background: concurrent.futures.Future | None = None


def start_in_background() -> None:
    global _background
    _background = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="slurm").submit(bring_up_and_run)


def stop_background() -> None:
    if _background is None:
        return
    try:
        outcome = _background.result(timeout=TIMEOUT + 700)
    except concurrent.futures.TimeoutError:
        outcome = ("fail",)
    if outcome[0] != "skip":
        subprocess.run(["bash", str(HERE / "teardown.sh")], env=slurm_state_env(), capture_output=True, timeout=120)
    if outcome[0] == "ok":
        shutil.rmtree(outcome[1].parent, ignore_errors=True)


@pytest.fixture(scope="module")
def slurm_run():
    if _background is None:  # conftest did not start it (this module imported some other way)
        start_in_background()
    outcome = _background.result()
    if outcome[0] == "skip":
        pytest.skip(outcome[1])
    if outcome[0] == "fail":
        pytest.fail(outcome[1])
    return outcome[1:]


def sbatch_jobs():
    """Every job slurmctld still remembers (MinJobAge 600 s): name, state, GPUs asked for."""
    shown = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, timeout=30).stdout
    return [dict(field.split("=", 1) for field in line.split() if "=" in field) for line in shown.splitlines()
            if line.strip()]


def test_outputs_are_complete(slurm_run):
    workdir, _, _ = slurm_run
    runs = pd.read_csv(workdir / "results" / "tables" / "runs.csv")
    assert set(runs["method"]) == {"dec", "kmeans-raw"}
    assert runs["acc"].between(0, 1).all()
    assert (workdir / "results" / "figures" / "digits" / "confusion.png").stat().st_size > 0


def test_training_went_to_slurm_with_a_gpu_and_light_rules_stayed_local(slurm_run):
    workdir, output, jobs = slurm_run
    assert "executor: slurm" in output.lower() or "slurm" in output.lower()
    assert jobs, "no SLURM job ran in the workflow's directory"
    assert all(j["JobState"] == "COMPLETED" for j in jobs), [(j.get("JobName"), j["JobState"]) for j in jobs]
    gpu_jobs = [j for j in jobs if "gpu" in j.get("TresPerJob", "") + j.get("TresPerNode", "")]
    # pretraining and DEC are training rules: two gpu-tagged jobs
    assert len(gpu_jobs) == 2, [(j.get("JobName"), j.get("TresPerJob"), j.get("TresPerNode")) for j in jobs]
    log = (workdir / "results" / "logs" / "cluster" / "digits" / "dec" / "seed0.log").read_text()
    assert "CUDA_VISIBLE_DEVICES=" in log     # SLURM gave the job a GPU of its own


def test_a_second_run_plans_nothing(slurm_run):
    """...also without MLFLOW_TRACKING_URI: the profile must not require it."""
    workdir, _, _ = slurm_run
    dry = subprocess.run(["timeout", "-s", "KILL", "300", str(SNAKEMAKE), "--profile", "profiles/slurm", "-n"],
                         cwd=workdir, env=snakemake_env(workdir, slurm=True), capture_output=True, text=True)
    assert "Nothing to be done" in dry.stdout, dry.stdout[-3000:] + dry.stderr[-2000:]
