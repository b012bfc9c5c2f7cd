"""Which GPU a training job trains on.

Snakemake's `--resources gpu=N` only counts: it starts at most N jobs that declare gpu=1, but never
says which GPU each should use, so two jobs asking for "cuda" would both land on cuda:0. A job
therefore claims a free device itself: an exclusive lock file per GPU (fcntl.flock), taken
without waiting on the first free one and held until the process exits, so it is released even
when the job is killed.

Locks are named by each device's UUID, not by its index or by what CUDA_VISIBLE_DEVICES lists:
under SLURM's cgroup device constraint every job sees its own GPU as device 0, so names taken
from the index would make one-GPU jobs on different GPUs of a node wait for each other. The
UUID is the same GPU whatever a job's view numbers it. Locking stays on under a scheduler:
an allocation of several GPUs that runs several jobs at once still needs one GPU per job.
"""

import fcntl
import os
import sys
import tempfile
import time
from pathlib import Path

_held = []  # open lock files: closing one (or exiting) releases its GPU


def lock_directory() -> Path:
    """Shared by every job of a user on this machine: $DEEPCLUST_GPU_LOCKS, else a folder in /tmp."""
    path = os.environ.get("DEEPCLUST_GPU_LOCKS") or Path(tempfile.gettempdir()) / f"deepclust-gpu-locks-{os.getuid()}"
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def physical_ids() -> list[str]:
    """The UUID of each visible CUDA device, by index."""
    import torch

    return [str(torch.cuda.get_device_properties(i).uuid) for i in range(torch.cuda.device_count())]


def _try_lock(path: Path):
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def claim(device: str, *, wait_seconds: float = 3600.0, poll_seconds: float = 1.0) -> str:
    """The device this process trains on, with its lock held until exit.

    ``device``: "cpu" (returned as is), "cuda:N" (that GPU, waiting for its lock), or "cuda" /
    "auto" (the first free GPU among the visible ones; "auto" without a GPU is "cpu"). Waits up
    to ``wait_seconds`` when every GPU is taken, e.g. by a job of another workflow, then raises."""
    if device == "cpu":
        return "cpu"
    ids = physical_ids()
    print(f"[devices] {device!r} asked for; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}, "
          f"{len(ids)} CUDA device(s) visible", file=sys.stderr, flush=True)
    if not ids:
        if device == "auto":
            return "cpu"
        raise RuntimeError(f"device {device!r} was asked for but no CUDA device is visible; use 'cpu' or 'auto'")
    if device.startswith("cuda:"):
        index = int(device.split(":", 1)[1])
        if not 0 <= index < len(ids):
            raise RuntimeError(f"device {device!r}: only {len(ids)} CUDA device(s) are visible")
        candidates = [index]
    else:
        candidates = list(range(len(ids)))
    directory = lock_directory()
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        for index in candidates:
            handle = _try_lock(directory / f"gpu-{ids[index]}.lock")
            if handle is not None:
                _held.append(handle)
                print(f"[devices] cuda:{index} is GPU {ids[index]}", file=sys.stderr, flush=True)
                return f"cuda:{index}"
        if time.monotonic() >= deadline:
            raise RuntimeError(f"no free GPU among {', '.join(f'cuda:{i}' for i in candidates)} after "
                               f"{wait_seconds:.0f} s (locks in {directory})")
        if not announced:
            print(f"[devices] every GPU is in use ({directory}); waiting", file=sys.stderr, flush=True)
            announced = True
        time.sleep(poll_seconds)


def release_all() -> None:
    """Give back every GPU this process holds (tests; jobs simply exit)."""
    while _held:
        _held.pop().close()
