"""GPU slots: each job claims a different free GPU and holds it until it exits. The GPUs are
faked (a device count); the locks are real, taken by real processes."""

import os
import signal
import subprocess
import sys
import time

import pytest

from deepclust import devices

HOLD = """
import sys, time
from deepclust import devices
print(devices.claim(sys.argv[1], int(sys.argv[2]), wait_seconds=float(sys.argv[3]), poll_seconds=0.05), flush=True)
time.sleep(60)
"""


@pytest.fixture()
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCLUST_GPU_LOCKS", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    yield tmp_path
    devices.release_all()


def start_holder(device="cuda", count=2, wait=0.0, env=None):
    process = subprocess.Popen([sys.executable, "-c", HOLD, device, str(count), str(wait)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    return process


def claimed(process, timeout=30):
    line = process.stdout.readline().strip()
    if not line:
        process.wait(timeout)
        pytest.fail(f"holder failed: {process.stderr.read()}")
    return line


def test_cpu_and_auto_without_gpus_need_no_lock(locks):
    assert devices.claim("cpu") == "cpu"
    assert devices.claim("auto", 0) == "cpu"
    assert list(locks.iterdir()) == []


def test_cuda_without_gpus_is_refused(locks):
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        devices.claim("cuda", 0)


def test_two_jobs_get_two_different_gpus_and_a_third_waits_then_fails(locks):
    first, second = start_holder(), start_holder()
    try:
        assert {claimed(first), claimed(second)} == {"cuda:0", "cuda:1"}
        with pytest.raises(RuntimeError, match="no free GPU among cuda:0, cuda:1 after 0 s"):
            devices.claim("cuda", 2, wait_seconds=0.2, poll_seconds=0.05)
    finally:
        for p in (first, second):
            p.kill()
            p.wait()


def test_a_killed_job_frees_its_gpu_for_the_next(locks):
    first, second = start_holder(), start_holder()
    try:
        devices_of = {claimed(first): first, claimed(second): second}
        victim = devices_of["cuda:1"]
        victim.send_signal(signal.SIGKILL)   # no cleanup runs: the kernel drops the lock
        victim.wait()
        assert devices.claim("cuda", 2, wait_seconds=5, poll_seconds=0.05) == "cuda:1"
    finally:
        for p in (first, second):
            p.kill()
            p.wait()


def test_a_waiting_job_starts_when_a_gpu_frees(locks):
    holder = start_holder(count=1)
    try:
        assert claimed(holder) == "cuda:0"
        waiter = start_holder(count=1, wait=30)
        time.sleep(0.5)
        assert waiter.poll() is None            # still waiting
        holder.kill()
        holder.wait()
        assert claimed(waiter) == "cuda:0"
        waiter.kill()
        waiter.wait()
    finally:
        holder.kill()


def test_an_explicit_gpu_is_locked_too(locks):
    assert devices.claim("cuda:1", 2) == "cuda:1"
    with pytest.raises(RuntimeError, match="no free GPU among cuda:1"):
        devices.claim("cuda:1", 2, wait_seconds=0)
    assert devices.claim("cuda", 2) == "cuda:0"
    with pytest.raises(RuntimeError, match="only 2 CUDA device"):
        devices.claim("cuda:2", 2)


def test_locks_follow_the_physical_ids_slurm_gives(locks):
    """Two SLURM jobs on one node each see their GPU as cuda:0; different physical GPUs, no conflict."""
    first = start_holder(count=1, env={"CUDA_VISIBLE_DEVICES": "2"})
    second = start_holder(count=1, env={"CUDA_VISIBLE_DEVICES": "3"})
    try:
        assert claimed(first) == claimed(second) == "cuda:0"
        assert sorted(p.name for p in locks.iterdir()) == ["gpu-2.lock", "gpu-3.lock"]
    finally:
        for p in (first, second):
            p.kill()
            p.wait()
