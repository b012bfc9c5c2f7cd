"""Feature scaling choices used by the papers."""

import numpy as np


def minmax(X, meta):
    """Divide by the data's known maximum (255 for pixels, 16 for digits): values in [0, 1]."""
    return X / meta.get("max_value", X.max())


def standard(X, meta):
    """Zero mean, unit variance per feature (constant features stay 0)."""
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def dec(X, meta):
    """DEC's scaling: one global factor so that (1/d) * ||x_i||^2 is 1 on average."""
    return X / np.sqrt(np.mean(np.sum(X**2, axis=1)) / X.shape[1])


PREPROCESSORS = {"minmax": minmax, "standard": standard, "dec": dec, "none": lambda X, meta: X}


def apply(name: str, X, meta):
    if name not in PREPROCESSORS:
        raise ValueError(f"unknown preprocessing {name!r}; valid choices: {', '.join(PREPROCESSORS)}")
    return PREPROCESSORS[name](np.asarray(X, dtype=np.float64), meta)
