"""Plumbing shared by the workflow's scripts (log file, feature files), so they stay a few lines."""

import sys

import numpy as np

from deepclust import io


def start(snakemake) -> None:
    """Send this job's stdout and stderr (progress, warnings, tracebacks) to its log file."""
    log = open(snakemake.log[0], "w", buffering=1)
    sys.stdout = sys.stderr = log


def load_features(path) -> np.ndarray:
    """A feature space: the dataset's X from a .npz, or an embedding .npy."""
    return io.load_dataset(path)[0] if str(path).endswith(".npz") else np.load(path)


def figure_sample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted indexes of the samples a figure draws: all of them, or a fixed random subset."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
