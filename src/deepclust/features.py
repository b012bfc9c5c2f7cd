"""Derived feature spaces: UMAP of an embedding (N2D-style), and 2-D projections for figures."""

import numpy as np


def umap_embed(X: np.ndarray, n_components: int = 10, n_neighbors: int = 20, min_dist: float = 0.0,
               metric: str = "euclidean", random_state: int = 0) -> np.ndarray:
    """UMAP of X. A fixed random_state makes umap-learn deterministic (and single-threaded)."""
    import umap

    reducer = umap.UMAP(n_components=n_components, n_neighbors=min(n_neighbors, len(X) - 1), min_dist=min_dist,
                        metric=metric, random_state=random_state)
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
