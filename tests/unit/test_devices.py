"""GPU slots: each job claims a different free GPU and holds it until it exits. The GPUs are
faked (torch.cuda's device count and device UUIDs); the locks are real, taken by real processes."""

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import torch

from deepclust import devices

# a job's GPUs as torch sees them, faked (a stand-in torch module, quick to start): FAKE_GPUS
# lists the UUID of each visible device
FAKE_GPUS = """
import os, sys, types
uuids = os.environ["FAKE_GPUS"].split(",")
sys.modules["torch"] = types.SimpleNamespace(cuda=types.SimpleNamespace(
    device_count=lambda: len(uuids), get_device_properties=lambda i: types.SimpleNamespace(uuid=uuids[i])))
"""
HOLD = FAKE_GPUS + """
import sys, time
from deepclust import devices
print(devices.claim(sys.argv[1], wait_seconds=float(sys.argv[2]), poll_seconds=0.05), flush=True)
time.sleep(60)
"""
TWO_GPUS = "GPU-aaaa,GPU-bbbb"


def fake_gpus(monkeypatch, uuids: str) -> None:
    """This process sees the GPUs ``uuids`` (comma-separated), as the holders do."""
    listed = [u for u in uuids.split(",") if u]
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(listed))
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: types.SimpleNamespace(uuid=listed[i]))


@pytest.fixture()
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCLUST_GPU_LOCKS", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    yield tmp_path
    devices.release_all()


def start_holder(device="cuda", gpus=TWO_GPUS, wait=0.0, env=None):
    return subprocess.Popen([sys.executable, "-c", HOLD, device, str(wait)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "FAKE_GPUS": gpus, **(env or {})})


def claimed(process, timeout=30):
    line = process.stdout.readline().strip()
    if not line:
        process.wait(timeout)
        pytest.fail(f"holder failed: {process.stderr.read()}")
    return line


def stop(*processes):
    for p in processes:
        p.kill()
        p.wait()


def test_cpu_and_auto_without_gpus_need_no_lock(locks, monkeypatch):
    fake_gpus(monkeypatch, "")
    assert devices.claim("cpu") == "cpu"
    assert devices.claim("auto") == "cpu"
    assert list(locks.iterdir()) == []


def test_cuda_without_gpus_is_refused(locks, monkeypatch):
    fake_gpus(monkeypatch, "")
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        devices.claim("cuda")


def test_two_jobs_get_two_different_gpus_and_a_third_waits_then_fails(locks, monkeypatch):
    fake_gpus(monkeypatch, TWO_GPUS)
    first, second = start_holder(), start_holder()
    try:
        assert {claimed(first), claimed(second)} == {"cuda:0", "cuda:1"}
        with pytest.raises(RuntimeError, match="no free GPU among cuda:0, cuda:1 after 0 s"):
            devices.claim("cuda", wait_seconds=0.2, poll_seconds=0.05)
    finally:
        stop(first, second)


def test_a_killed_job_frees_its_gpu_for_the_next(locks, monkeypatch):
    fake_gpus(monkeypatch, TWO_GPUS)
    first, second = start_holder(), start_holder()
    try:
        devices_of = {claimed(first): first, claimed(second): second}
        victim = devices_of["cuda:1"]
        victim.send_signal(signal.SIGKILL)   # no cleanup runs: the kernel drops the lock
        victim.wait()
        assert devices.claim("cuda", wait_seconds=5, poll_seconds=0.05) == "cuda:1"
    finally:
        stop(first, second)


def test_a_waiting_job_starts_when_a_gpu_frees(locks):
    holder = start_holder(gpus="GPU-aaaa")
    try:
        assert claimed(holder) == "cuda:0"
        waiter = start_holder(gpus="GPU-aaaa", wait=30)
        time.sleep(0.5)
        assert waiter.poll() is None            # still waiting
        stop(holder)
        assert claimed(waiter) == "cuda:0"
        stop(waiter)
    finally:
        stop(holder)


def test_an_explicit_gpu_is_locked_too(locks, monkeypatch):
    fake_gpus(monkeypatch, TWO_GPUS)
    assert devices.claim("cuda:1") == "cuda:1"
    with pytest.raises(RuntimeError, match="no free GPU among cuda:1"):
        devices.claim("cuda:1", wait_seconds=0)
    assert devices.claim("cuda") == "cuda:0"
    with pytest.raises(RuntimeError, match="only 2 CUDA device"):
        devices.claim("cuda:2")


def test_slurm_jobs_that_each_see_their_gpu_as_0_start_at_once(locks):
    """SLURM's cgroup device constraint shows every job its own GPU as device 0 (and
    CUDA_VISIBLE_DEVICES=0): two such jobs on different GPUs of a node take different locks, at once."""
    slurm = {"CUDA_VISIBLE_DEVICES": "0", "SLURM_JOB_ID": "1"}
    first = start_holder(gpus="GPU-aaaa", env=slurm)
    second = start_holder(gpus="GPU-bbbb", env=slurm)   # wait=0: it fails unless its GPU is free now
    try:
        assert claimed(first) == claimed(second) == "cuda:0"
        assert sorted(p.name for p in locks.iterdir()) == ["gpu-GPU-aaaa.lock", "gpu-GPU-bbbb.lock"]
    finally:
        stop(first, second)


def test_one_gpu_seen_under_two_indexes_is_one_lock(locks):
    """The lock follows the device, not the index: a job that sees the GPU as cuda:1 waits for
    one that sees it as cuda:0."""
    holder = start_holder(gpus="GPU-aaaa,GPU-bbbb")
    try:
        assert claimed(holder) == "cuda:0"
        other = start_holder("cuda:1", gpus="GPU-bbbb,GPU-aaaa", wait=0.3)
        assert other.wait(30) != 0 and "no free GPU among cuda:1" in other.stderr.read()
    finally:
        stop(holder)


# workflow/scripts/prepare_dataset.py run as Snakemake runs it (a `snakemake` object in its
# globals), with the GPUs faked and the feature computation replaced by a note of its device
PREPARE = FAKE_GPUS + """
import runpy, sys, types
import numpy as np
from deepclust import data

def load(*args, device, **kwargs):
    print(device, file=sys.__stdout__, flush=True)
    return np.zeros((4, 2), np.float32), None, {}

data.load = load
out, device = sys.argv[1], sys.argv[2]
snakemake = types.SimpleNamespace(
    threads=1, input=[], output=[out + "/data.npz"], log=[out + "/prepare.log"],
    wildcards=types.SimpleNamespace(dataset="cifar10_resnet50"), config={"data": {"mirror": None}, "device": device},
    params=types.SimpleNamespace(source="cifar10", settings={"preprocess": "standard", "n_clusters": 2},
                                 device=device, models=out + "/models"))
runpy.run_path(sys.argv[3], init_globals={"snakemake": snakemake})
"""
SCRIPT = Path(__file__).resolve().parents[2] / "workflow" / "scripts" / "prepare_dataset.py"


def prepare_on(device, tmp_path) -> str:
    """The device prepare_dataset computes its network features on (two fake GPUs)."""
    result = subprocess.run([sys.executable, "-c", PREPARE, str(tmp_path), device, str(SCRIPT)], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "FAKE_GPUS": TWO_GPUS})
    assert result.returncode == 0, result.stderr + (tmp_path / "prepare.log").read_text()
    return result.stdout.strip()


def test_network_features_are_computed_on_a_claimed_gpu(locks, monkeypatch, tmp_path):
    """prepare_dataset declares gpu=1 for ResNet-50 and MiniLM features: it claims a free GPU as
    training does, instead of computing on cuda:0 beside the training that holds it."""
    fake_gpus(monkeypatch, TWO_GPUS)
    assert devices.claim("cuda") == "cuda:0"  # a training job holds the first GPU
    assert prepare_on("cuda", tmp_path) == "cuda:1"
    assert prepare_on("any", tmp_path) == "cpu"  # no network features: no GPU claimed
