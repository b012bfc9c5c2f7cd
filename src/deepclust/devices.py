"""Which GPU a training job trains on.

Snakemake's `--resources gpu=N` only counts: it starts at most N jobs that declare gpu=1, but never
says which GPU each should use, so two jobs asking for "cuda" would both land on cuda:0. A job
therefore claims a free device itself: an exclusive lock file per GPU (fcntl.flock), taken
without waiting on the first free one and held until the process exits, so it is released even
when the job is killed. Under SLURM, CUDA_VISIBLE_DEVICES already narrows a job to its own GPUs;
locks are keyed by the physical id that variable names, so jobs of different allocations on one
node never block each other.
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


def visible_ids(count: int) -> list[str]:
    """The physical id of each visible device, by index: what CUDA_VISIBLE_DEVICES lists, or 0..count-1."""
    listed = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return listed[:count] if len(listed) >= count else [str(i) for i in range(count)]


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


def claim(device: str, count: int | None = None, *, wait_seconds: float = 3600.0, poll_seconds: float = 1.0) -> str:
    """The device this process trains on, with its lock held until exit.

    ``device``: "cpu" (returned as is), "cuda:N" (that GPU, waiting for its lock), or "cuda" /
    "auto" (the first free GPU among the ``count`` visible ones; torch.cuda.device_count() when
    None; "auto" without a GPU is "cpu"). Waits up to ``wait_seconds`` when every GPU is taken,
    e.g. by a job of another workflow, then raises."""
    if device == "cpu":
        return "cpu"
    if count is None:
        import torch
        count = torch.cuda.device_count()
    print(f"[devices] {device!r} asked for; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}, "
          f"{count} CUDA device(s) visible", file=sys.stderr, flush=True)
    if count == 0:
        if device == "auto":
            return "cpu"
        raise RuntimeError(f"device {device!r} was asked for but no CUDA device is visible; use 'cpu' or 'auto'")
    ids = visible_ids(count)
    if device.startswith("cuda:"):
        index = int(device.split(":", 1)[1])
        if not 0 <= index < count:
            raise RuntimeError(f"device {device!r}: only {count} CUDA device(s) are visible")
        candidates = [index]
    else:
        candidates = list(range(count))
    directory = lock_directory()
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        for index in candidates:
            handle = _try_lock(directory / f"gpu-{ids[index]}.lock")
            if handle is not None:
                _held.append(handle)
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
