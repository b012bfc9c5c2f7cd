"""2-D projections of a feature space for the embedding figures: UMAP and t-SNE. Kept apart
from deepclust.features, whose UMAP feature spaces feed the clusterings, so that a change to a
figure's projection reruns figures only."""

import numpy as np

from deepclust.features import umap_embed


def tsne_embed(X: np.ndarray, random_state: int = 0) -> np.ndarray:
    """2-D t-SNE of X (scikit-learn's Barnes-Hut): perplexity 30, or less for fewer than 91
    samples (it must stay below n); PCA initialisation (deterministic, and it keeps the global
    layout) and the automatic learning rate max(n / 12 / 4, 50), scikit-learn's defaults."""
    from sklearn.manifold import TSNE

    X = np.asarray(X, dtype=np.float32)
    perplexity = min(30.0, (len(X) - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", learning_rate="auto",
                random_state=random_state).fit_transform(X).astype(np.float32)


def umap_map(X: np.ndarray, random_state: int = 0) -> np.ndarray:
    """2-D UMAP of X for a figure (UMAP's own defaults of 15 neighbours and min_dist 0.1)."""
    return umap_embed(X, n_components=2, n_neighbors=15, min_dist=0.1, random_state=random_state)


PROJECTIONS = {"umap": umap_map, "tsne": tsne_embed}
NAMES = {"umap": "UMAP", "tsne": "t-SNE"}
