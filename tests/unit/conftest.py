"""Shared fixtures for the unit tests: tiny, fast, single-threaded."""

import os

# Keep OpenMP/BLAS (k-means, numpy) single-threaded; must be set before those libraries load.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

torch.set_num_threads(1)

from .helpers import EMBEDDING, HIDDEN, N_CLUSTERS, N_FEATURES, N_SAMPLES  # noqa: E402


@pytest.fixture(scope="session")
def blobs():
    """Three well-separated Gaussian blobs in 10-D, scaled to [0, 1] (float32 X, int64 y)."""
    X, y = make_blobs(N_SAMPLES, n_features=N_FEATURES, centers=N_CLUSTERS, cluster_std=1.0, random_state=0)
    X = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
    return X.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="session")
def pretrained(blobs):
    """A tiny autoencoder pretrained on the blobs (shared; tests must not modify it)."""
    from deepclust.pretrain import pretrain_autoencoder

    X, _ = blobs
    model, history = pretrain_autoencoder(X, HIDDEN, EMBEDDING, epochs=30, batch_size=32, device="cpu",
                                          random_state=0, verbose=False)
    return model, history


@pytest.fixture
def restore_precision():
    """engine.set_precision is process-wide: put torch's TF32 flags, the autocast setting and
    the denormal flag (off, torch's default; it has no getter) back."""
    from deepclust import engine

    flags = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    dtype = engine._autocast_dtype
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = flags
    engine._autocast_dtype = dtype
    torch.set_flush_denormal(False)
