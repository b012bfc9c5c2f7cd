"""Shared fixtures for the unit tests: tiny, fast, single-threaded."""

import os

# Keep OpenMP/BLAS (k-means, numpy) single-threaded; must be set before those libraries load.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits, make_blobs  # noqa: E402

torch.set_num_threads(1)

from .helpers import (DEEP_CASES, DIGITS_CLUSTERS, DIGITS_SAMPLES, EMBEDDING, HIDDEN, N_CLUSTERS,  # noqa: E402
                      N_FEATURES, N_SAMPLES, TINY_CAE)


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


@pytest.fixture(scope="session")
def digits():
    """The first 300 of scikit-learn's 8x8 digits, flattened, in [0, 1] (float32 X, int64 y)."""
    X, y = load_digits(return_X_y=True)
    return (X[:DIGITS_SAMPLES] / 16).astype(np.float32), y[:DIGITS_SAMPLES].astype(np.int64)


@pytest.fixture(scope="session")
def digits_cae(digits):
    """A tiny convolutional autoencoder pretrained on the digits (shared; tests must not modify it)."""
    from deepclust.pretrain import pretrain_autoencoder

    model, _ = pretrain_autoencoder(digits[0], **TINY_CAE, epochs=1, batch_size=50, device="cpu", random_state=0,
                                    verbose=False)
    return model


@pytest.fixture(scope="session")
def deep_case(blobs, digits, pretrained, digits_cae):
    """``deep_case(name, **settings)`` -> (estimator, X, y): the registered deep method ``name``,
    unfitted, with its tiny settings (helpers.DEEP_CASES; ``settings`` override them, seed 0 and
    the CPU unless given), starting from the shared network it takes, and its data set."""
    from deepclust import methods

    datasets = {"blobs": blobs, "digits": digits}
    networks = {"mlp": pretrained[0], "cae": digits_cae, None: None}

    def make(name, **settings):
        data, network, tiny = DEEP_CASES[name]
        X, y = datasets[data]
        settings = {"autoencoder": networks[network], "device": "cpu", "random_state": 0, **tiny, **settings}
        n_clusters = N_CLUSTERS if data == "blobs" else DIGITS_CLUSTERS
        return methods.get(name)(n_clusters, **settings), X, y

    return make


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
