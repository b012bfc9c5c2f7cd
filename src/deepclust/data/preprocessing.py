"""Feature scaling choices used by the papers. Computed in float32 (raw STL-10 is 13,000 x 27,648:
float64 would need 2.9 GB more), with float64 accumulators for the statistics."""

import numpy as np


def minmax(X, meta):
    """Divide by the data's known maximum (255 for pixels, 16 for digits): values in [0, 1]."""
    return X / np.float32(meta.get("max_value", X.max()))


def standard(X, meta):
    """Zero mean, unit variance per feature (constant features stay 0)."""
    mean = X.mean(axis=0, dtype=np.float64)
    std = X.std(axis=0, dtype=np.float64)
    return (X - mean.astype(np.float32)) / np.where(std > 0, std, 1.0).astype(np.float32)


def dec(X, meta):
    """DEC's scaling: one global factor so that (1/d) * ||x_i||^2 is 1 on average."""
    mean_square = np.mean(np.einsum("ij,ij->i", X, X, dtype=np.float64)) / X.shape[1]
    return X / np.float32(np.sqrt(mean_square))


PREPROCESSORS = {"minmax": minmax, "standard": standard, "dec": dec, "none": lambda X, meta: X}


def auto(meta: dict) -> str:
    """The loader's choice (``default_preprocess``), else [0, 1] pixels where the maximum is known
    (images), else z-scores (features of any other scale: ResNet-50 outputs, user tables)."""
    return meta.get("default_preprocess") or ("minmax" if "max_value" in meta else "standard")


def apply(name: str, X, meta):
    if name not in PREPROCESSORS:
        raise ValueError(f"unknown preprocessing {name!r}; valid choices: auto, {', '.join(PREPROCESSORS)}")
    return PREPROCESSORS[name](np.asarray(X, dtype=np.float32), meta)
