"""Derived feature spaces: UMAP of an embedding (N2D-style), and 2-D projections for figures."""

from contextlib import contextmanager
from functools import lru_cache

import numpy as np


@contextmanager
def numba_disk_cache():
    """Compile with numba's on-disk cache on. umap-learn declares most of its numba functions
    without cache=True (some are compiled at fit time), so every new process recompiled them:
    on a 2-core CPU, import + first fit of digits took 45 s; with the cache, 11 s."""
    import numba

    original = numba.njit

    def cached_njit(*args, **kwargs):
        kwargs.setdefault("cache", True)
        return original(*args, **kwargs)

    numba.njit = cached_njit
    try:
        yield
    finally:
        numba.njit = original


def _euclidean_matrix(X):
    """Every pair's distance, as umap-learn's numba euclidean computes it (same arithmetic, same
    fastmath), into a matrix of X's dtype, as scikit-learn's pairwise_distances fills it."""
    n = X.shape[0]
    out = np.zeros((n, n), dtype=X.dtype)
    for i in range(n):
        for j in range(i + 1, n):
            result = 0.0
            for k in range(X.shape[1]):
                result += (X[i, k] - X[j, k]) ** 2
            out[i, j] = out[j, i] = np.sqrt(result)
    return out


@lru_cache(maxsize=None)
def _compiled_euclidean_matrix():
    import numba

    return numba.njit(fastmath=True, cache=True)(_euclidean_matrix)


@contextmanager
def compiled_small_data_distances():
    """umap-learn computes the exact distance matrix of data under 4,096 samples through
    scikit-learn's pairwise_distances with its numba euclidean as a Python callable: one Python
    call per pair (1.6 million for digits, about half of each UMAP's time there). Within this
    block that matrix comes from the same arithmetic in one compiled loop: the same numbers, bit
    for bit (tests/unit/test_determinism.py), so the same embedding."""
    import umap.umap_ as umap_module
    from umap import distances

    original = umap_module.pairwise_distances
    matrix = _compiled_euclidean_matrix()

    def pairwise_distances(X, Y=None, metric="euclidean", **kwargs):
        if (metric is distances.euclidean and Y is None and not kwargs and isinstance(X, np.ndarray)
                and X.ndim == 2 and X.dtype == np.float32 and X.flags.c_contiguous):
            return matrix(X)
        return original(X, Y, metric=metric, **kwargs)

    umap_module.pairwise_distances = pairwise_distances
    try:
        yield
    finally:
        umap_module.pairwise_distances = original


def umap_embed(X: np.ndarray, n_components: int = 10, n_neighbors: int = 20, min_dist: float = 0.0,
               metric: str = "euclidean", random_state: int = 0) -> np.ndarray:
    """UMAP of X. A fixed random_state makes umap-learn deterministic (and single-threaded)."""
    with numba_disk_cache(), compiled_small_data_distances():
        import umap

        reducer = umap.UMAP(n_components=n_components, n_neighbors=min(n_neighbors, len(X) - 1),
                            min_dist=min_dist, metric=metric, random_state=random_state)
        return reducer.fit_transform(np.asarray(X, dtype=np.float32)).astype(np.float32)


def kmeans_curve(X: np.ndarray, ks, random_state: int = 0) -> dict:
    """k-means inertia and silhouette for each k (for elbow plots)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    curve = {"k": [], "inertia": [], "silhouette": []}
    sample = min(len(X), 3000)
    for k in ks:
        model = KMeans(k, n_init=3, random_state=random_state).fit(X)
        curve["k"].append(k)
        curve["inertia"].append(float(model.inertia_))
        curve["silhouette"].append(float(silhouette_score(X, model.labels_, sample_size=sample,
                                                          random_state=random_state)))
    return curve


if __name__ == "__main__":
    # `python -m deepclust.features`: fill numba's disk cache once at set-up (make venv), so the
    # first DAG does not pay UMAP's compilation in each of its UMAP jobs.
    data = np.random.default_rng(0).random((300, 16), dtype=np.float32)
    umap_embed(data, n_components=10)
    umap_embed(data, n_components=2, n_neighbors=15, min_dist=0.1)
