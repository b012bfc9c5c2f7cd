"""Dataset registry: name -> loader returning (X, y or None), then the configured preprocessing.

Adding a dataset is one loader function here (or a module it imports) and a config entry.
"""

import numpy as np

from deepclust.data import preprocessing


def load_digits():
    """scikit-learn's bundled 8x8 digits: 1797 x 64, values 0..16, 10 classes. No download."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64), {"image_shape": [1, 8, 8], "max_value": 16.0}


LOADERS = {"digits": load_digits}


def load(name: str, preprocess: str = "minmax", subsample: int | None = None, seed: int = 0):
    """(X, y, meta) of dataset ``name`` after preprocessing; ``subsample`` keeps a stratified-free
    random subset of that many samples (for tiny test configs)."""
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {', '.join(sorted(LOADERS))}")
    X, y, meta = LOADERS[name]()
    if subsample is not None and subsample < len(X):
        keep = np.sort(np.random.default_rng(seed).choice(len(X), subsample, replace=False))
        X, y = X[keep], (None if y is None else y[keep])
    X = preprocessing.apply(preprocess, X, meta)
    meta = {**meta, "name": name, "preprocess": preprocess, "n_samples": int(len(X)), "n_features": int(X.shape[1])}
    if y is not None:
        meta["n_classes"] = int(len(np.unique(y)))
    return X.astype(np.float32), y, meta
