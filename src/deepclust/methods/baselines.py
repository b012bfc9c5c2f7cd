"""Classical clustering baselines. Each factory returns an unfitted scikit-learn style estimator;
the workflow runs them on a feature space (raw input, an AE embedding, a UMAP of it). Their
parameters are checked by the estimators' own constraints (``check_params``, before any job)."""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions

from deepclust.methods import parameters


def kmeans(n_clusters, random_state=0, n_init=10, **params):
    return KMeans(n_clusters, n_init=n_init, random_state=random_state, **params)


class Float64GaussianMixture(GaussianMixture):
    """scikit-learn's GaussianMixture fitted in float64 whatever the features' dtype: in float32 its
    covariance regularisation (reg_covar, 1e-6) is lost to rounding, and a component over a few
    near-duplicate points (UMAP of 20 Newsgroups) fails the fit with an ill-defined covariance."""

    def fit_predict(self, X, y=None):  # fit calls fit_predict
        return super().fit_predict(np.asarray(X, dtype=np.float64), y)


def gmm(n_clusters, random_state=0, covariance_type="full", n_init=20, **params):
    # best of 20 restarts by likelihood: one EM start on UMAP features varied by up to 10 ACC points
    return Float64GaussianMixture(n_clusters, covariance_type=covariance_type, n_init=n_init,
                                  random_state=random_state, **params)


def agglomerative(n_clusters, random_state=None, linkage="ward", **params):
    # deterministic: random_state is accepted for a uniform interface and ignored
    return AgglomerativeClustering(n_clusters, linkage=linkage, **params)


class AutoEpsDBSCAN(DBSCAN):
    """DBSCAN whose ``eps``, when "auto", is a quantile of the distances to the min_samples-th neighbour.

    DBSCAN grows clusters from core points, those with at least ``min_samples`` points (itself
    included) within distance ``eps``; points reachable from no core point are noise (label -1).
    It chooses the number of clusters itself. The DBSCAN paper picks ``eps`` from the sorted
    k-distance graph, the distances of every point to its k-th nearest neighbour; with
    ``eps="auto"`` this estimator takes the ``eps_quantile`` quantile of those distances, with
    k = ``min_samples`` counting the point itself (an automatic choice, not in the paper), so one
    setting works across feature scales. A number as ``eps`` is used as it is.

    Parameters
    ----------
    eps : "auto" or float, default="auto"
        Neighbourhood radius; "auto": chosen from the data by ``eps_quantile``.
    min_samples : int, default=10
        Points (the point itself included) within ``eps`` that make a core point; also the k
        of the k-distance heuristic.
    eps_quantile : float, default=0.5
        Quantile in [0, 1] of the k-distances taken as ``eps`` when ``eps="auto"``.
    metric : str or callable, default="euclidean"
        Distance metric, as in sklearn.cluster.DBSCAN.
    metric_params : dict or None, default=None
        Keyword arguments of the metric.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Nearest-neighbour algorithm of the clustering, as in sklearn.cluster.DBSCAN.
    leaf_size : int, default=30
        Leaf size of the ball or k-d tree.
    p : float or None, default=None
        Power of the Minkowski metric (None: 2, Euclidean).
    n_jobs : int or None, default=None
        Parallel jobs of the neighbour search of the clustering.

    Attributes
    ----------
    eps_ : float
        The radius used: the k-distance quantile, or ``eps`` itself when given as a number.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each row; -1 for noise.
    core_sample_indices_ : ndarray of shape (n_core_samples,)
        Indices of the core points.

    References
    ----------
    .. [1] M. Ester, H.-P. Kriegel, J. Sander and X. Xu, "A Density-Based Algorithm for
       Discovering Clusters in Large Spatial Databases with Noise", Proceedings of the 2nd
       International Conference on Knowledge Discovery and Data Mining (KDD), 1996.
    """

    _parameter_constraints: dict = {
        **DBSCAN._parameter_constraints,
        "eps": [Interval(Real, 0.0, None, closed="neither"), StrOptions({"auto"})],
        "eps_quantile": [parameters.FRACTION],
    }

    def __init__(self, eps="auto", min_samples=10, eps_quantile=0.5, metric="euclidean", metric_params=None,
                 algorithm="auto", leaf_size=30, p=None, n_jobs=None):
        super().__init__(eps=eps, min_samples=min_samples, metric=metric, metric_params=metric_params,
                         algorithm=algorithm, leaf_size=leaf_size, p=p, n_jobs=n_jobs)
        self.eps_quantile = eps_quantile

    def fit(self, X, y=None, sample_weight=None):
        self._validate_params()
        if self.eps == "auto":
            neighbours = NearestNeighbors(n_neighbors=self.min_samples, metric=self.metric, p=self.p,
                                          metric_params=self.metric_params)
            distances, _ = neighbours.fit(X).kneighbors(X)
            self.eps_ = float(np.quantile(distances[:, -1], self.eps_quantile))
        else:
            self.eps_ = float(self.eps)
        chosen = DBSCAN(eps=self.eps_, min_samples=self.min_samples, metric=self.metric,
                        metric_params=self.metric_params, algorithm=self.algorithm, leaf_size=self.leaf_size,
                        p=self.p, n_jobs=self.n_jobs).fit(X, sample_weight=sample_weight)
        self.labels_, self.core_sample_indices_ = chosen.labels_, chosen.core_sample_indices_
        return self


def dbscan(n_clusters=None, random_state=None, **params):
    # DBSCAN chooses its own number of clusters; n_clusters is ignored
    return AutoEpsDBSCAN(**params)


# The hdbscan package's HDBSCAN declares no constraints; these are the checks its fit makes (it
# takes alpha and cluster_selection_persistence as floats only). Its **kwargs, passed to the
# metric, are not taken.
HDBSCAN_CONSTRAINTS = {
    "min_cluster_size": [parameters.at_least(2)],
    "min_samples": [parameters.at_least(1), None],
    "cluster_selection_epsilon": [parameters.NON_NEGATIVE],
    "cluster_selection_persistence": [Interval(RealNotInt, 0, None, closed="left")],
    "max_cluster_size": [parameters.at_least(0)],
    "metric": [str, callable],
    "alpha": [Interval(RealNotInt, 0, None, closed="neither")],
    "p": [parameters.NON_NEGATIVE, None],
    "algorithm": [StrOptions({"best", "generic", "prims_kdtree", "prims_balltree", "boruvka_kdtree",
                              "boruvka_balltree"})],
    "leaf_size": [parameters.at_least(1)],
    "memory": [str, HasMethods(["cache"]), None],
    "approx_min_span_tree": ["boolean"],
    "gen_min_span_tree": ["boolean"],
    "core_dist_n_jobs": [Integral],
    "cluster_selection_method": [StrOptions({"eom", "leaf"})],
    "allow_single_cluster": ["boolean"],
    "prediction_data": ["boolean"],
    "branch_detection_data": ["boolean"],
    "match_reference_implementation": ["boolean"],
    "cluster_selection_epsilon_max": [Interval(Real, 0, None, closed="both")],  # inf: no maximum
}


def hdbscan(n_clusters=None, random_state=None, min_cluster_size=20, **params):
    import hdbscan as hdbscan_package  # the hdbscan package (McInnes et al.), imported only when used

    params = {"min_cluster_size": min_cluster_size, **params}
    parameters.check(HDBSCAN_CONSTRAINTS, params, list(HDBSCAN_CONSTRAINTS), "HDBSCAN")
    return hdbscan_package.HDBSCAN(**params)


# baseline -> its estimator and the estimator's parameters that the factory sets from its own
# n_clusters and random_state (which are never params either)
ESTIMATORS = {"kmeans": (KMeans, set()), "gmm": (Float64GaussianMixture, {"n_components"}),
              "agglomerative": (AgglomerativeClustering, set()), "dbscan": (AutoEpsDBSCAN, set())}


def check_params(algorithm: str, params: dict) -> None:
    """Refuse a baseline's ``params`` that its estimator's signature does not take or that its
    constraints refuse, with scikit-learn's message naming the parameter."""
    if algorithm == "hdbscan":
        name, constraints = "HDBSCAN", HDBSCAN_CONSTRAINTS
        fixed, accepted = set(), list(HDBSCAN_CONSTRAINTS)
    else:
        estimator, fixed = ESTIMATORS[algorithm]
        name, constraints = estimator.__name__, estimator._parameter_constraints
        accepted = list(inspect.signature(estimator).parameters)
    settable = [p for p in accepted if p not in fixed | {"n_clusters", "random_state"}]
    parameters.check(constraints, params, settable, name)
