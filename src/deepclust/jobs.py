"""Plumbing shared by the workflow's scripts (log file, feature files), so they stay a few lines.

Every script imports this module first and calls ``start`` once its imports are done. In a job
(a Snakemake script: its ``__main__`` holds the ``snakemake`` object) Python's cyclic garbage
collector is off from here to ``start``, which then freezes what the imports made: otherwise the
collector walks torch's and scikit-learn's objects over and over while they load and once more
at exit, about a second of every job (measured in docs/performance.md).
"""

import gc
import sys

COLLECTOR_HELD = "snakemake" in vars(sys.modules["__main__"]) and gc.isenabled()
if COLLECTOR_HELD:
    gc.disable()

import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402

from deepclust import io  # noqa: E402

CHECKPOINT_EVERY = 10  # epochs; $DEEPCLUST_CHECKPOINT_EVERY overrides (it reruns nothing)


def start(snakemake) -> None:
    """Send this job's stdout and stderr (progress, warnings, tracebacks) to its log file."""
    log = open(snakemake.log[0], "w", buffering=1)
    sys.stdout = sys.stderr = log
    if COLLECTOR_HELD:  # the imports are done: what they made is never garbage, so never walked again
        gc.freeze()
        gc.enable()


def load_features(path) -> np.ndarray:
    """A feature space: the dataset's X from a .npz, or an embedding .npy."""
    return io.load_dataset(path)[0] if str(path).endswith(".npz") else np.load(path)


def figure_sample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted indexes of the samples a figure draws: all of them, or a fixed random subset."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))


def read_input(read, path, *args):
    """``read(path, *args)`` for an input another job wrote (a pretrained model). A file that
    cannot be read (``read`` raises ValueError) is set aside before the job fails: its producer's
    output is then missing, so the next snakemake writes it again."""
    try:
        return read(path, *args)
    except ValueError as error:
        aside = io.set_aside(path, "unreadable")
        where = f"set aside as {aside.name}" if aside else "already set aside by another job"
        raise RuntimeError(f"{error}\n{path} is {where}: run snakemake again and it remakes the file") from error


def checkpoint(snakemake, device):
    """The training job's checkpoint (``params.checkpoint``, outside the job's outputs, so that a
    failed or preempted job's retry still finds it). Keyed by the job's params (settings and code
    fingerprint) and the kind of device it trains on: a checkpoint of other settings, or one
    written on the CPU when the retry got a GPU (``device: auto``) or the reverse, is not resumed
    but set aside, and the run starts afresh."""
    from deepclust import engine  # torch: only training jobs pay for the import

    params = dict(snakemake.params.items(), device_type=str(device).split(":")[0])
    params = json.dumps(params, sort_keys=True, default=str)
    every = int(os.environ.get("DEEPCLUST_CHECKPOINT_EVERY", CHECKPOINT_EVERY))
    return engine.Checkpoint(snakemake.params["checkpoint"], key=hashlib.sha256(params.encode()).hexdigest(),
                             every=every)
