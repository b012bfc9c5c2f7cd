"""Autoencoder + spectral clustering: spectral clustering (normalised cuts on a k-nearest-neighbour
graph, Shi and Malik, TPAMI 2000; Ng, Jordan and Weiss, NeurIPS 2001) of a pretrained
autoencoder's embedding, a common deep clustering baseline that deepclust does not ship.

It is a scikit-learn style clusterer: ``__init__`` takes ``autoencoder``, so the workflow gives it
the pretrained network of the method's ``net`` (the one DEC starts from), and ``transform`` gives
the embedding, so the workflow draws it and scores its internal metrics there. A config runs it as

    methods:
      ae-spectral: {algorithm: "deepclust_example.ae_spectral:AESpectral", net: ae, params: {n_neighbors: 10}}

with this folder's parent on PYTHONPATH or the package installed (``pip install -e examples``).
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import SpectralClustering
from sklearn.utils._param_validation import Interval

from deepclust.pretrain import embed


class AESpectral(ClusterMixin, BaseEstimator):
    """Spectral clustering of an autoencoder's embedding.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    autoencoder : deepclust autoencoder
        The pretrained network whose encoder gives the embedding.
    n_neighbors : int, default=10
        Neighbours of each point in the affinity graph.
    random_state : int or None, default=None
        Seed of the eigensolver's start and of the final k-means.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        The cluster of each row of X.
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 2, None, closed="left")],
        "autoencoder": "no_validation",
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters=10, autoencoder=None, n_neighbors=10, random_state=None):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit(self, X, y=None):
        self._validate_params()
        if self.autoencoder is None:
            raise ValueError("AESpectral needs a pretrained autoencoder (the workflow gives the method's net)")
        spectral = SpectralClustering(self.n_clusters, affinity="nearest_neighbors", n_neighbors=self.n_neighbors,
                                      assign_labels="cluster_qr", random_state=self.random_state)
        self.labels_ = spectral.fit_predict(self.transform(X))
        return self

    def transform(self, X):
        return embed(self.autoencoder, np.asarray(X, dtype=np.float32))
