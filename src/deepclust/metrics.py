"""Clustering metrics: external (ACC with Hungarian matching, NMI, ARI; need labels) and internal
(silhouette, Davies–Bouldin, Calinski–Harabasz; need only the features), noise handling.

Label -1 marks noise (DBSCAN, HDBSCAN). External metrics score noise points as one extra
cluster of their own, so a labelling that calls everything noise is a valid (poor) result.
"""

import numpy as np

NOISE = -1


# SciPy's matching and scikit-learn's scores are imported where they are used: the figure jobs
# import this module for the matching alone, and scikit-learn takes about a second to load.
def _sklearn_metrics():
    from sklearn import metrics

    return metrics


def contingency(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts[i, j] = #samples with predicted cluster pred_ids[i] and true class true_ids[j]."""
    pred_ids, pred_idx = np.unique(y_pred, return_inverse=True)
    true_ids, true_idx = np.unique(y_true, return_inverse=True)
    counts = np.zeros((len(pred_ids), len(true_ids)), dtype=np.int64)
    np.add.at(counts, (pred_idx, true_idx), 1)
    return counts, pred_ids, true_ids


def best_matching(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """One-to-one map cluster -> class maximising agreement (Hungarian); noise never maps."""
    counts, pred_ids, true_ids = contingency(y_true, y_pred)
    counts[pred_ids == NOISE] = 0
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(counts, maximize=True)
    return {int(pred_ids[r]): int(true_ids[c]) for r, c in zip(rows, cols) if pred_ids[r] != NOISE}


def cluster_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unsupervised clustering accuracy: best one-to-one matching of clusters to classes.

    Noise points (-1) count as errors.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mapping = best_matching(y_true, y_pred)
    mapped = np.array([mapping.get(int(c), np.iinfo(np.int64).min) for c in y_pred])
    return float(np.mean(mapped == y_true))


def matched_confusion(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confusion matrix (rows: true class, columns: cluster) with columns ordered by the match.

    Matched clusters come first in the order of their class; unmatched ones and noise follow.
    """
    counts, pred_ids, true_ids = contingency(y_true, y_pred)
    mapping = best_matching(y_true, y_pred)
    class_rank = {c: i for i, c in enumerate(true_ids)}
    order = sorted(range(len(pred_ids)), key=lambda i: (
        class_rank.get(mapping.get(int(pred_ids[i]), None), len(true_ids) + 1), pred_ids[i]))
    return counts[order].T, pred_ids[order]


def n_clusters_found(y_pred: np.ndarray) -> int:
    return int(len(np.setdiff1d(np.unique(y_pred), [NOISE])))


def _clustered(features, y_pred):
    """Non-noise points and their labels, and whether an internal metric is defined on them
    (2 <= clusters < points)."""
    keep = np.asarray(y_pred) != NOISE
    features, y_pred = np.asarray(features)[keep], np.asarray(y_pred)[keep]
    n_labels = len(np.unique(y_pred))
    return features, y_pred, 2 <= n_labels < len(y_pred)


def silhouette(features: np.ndarray, y_pred: np.ndarray, sample_size: int = 5000, seed: int = 0) -> float:
    """Silhouette over non-noise points; NaN when fewer than 2 clusters (it is undefined there)."""
    features, y_pred, defined = _clustered(features, y_pred)
    if not defined:
        return float("nan")
    size = min(sample_size, len(y_pred))
    return float(_sklearn_metrics().silhouette_score(features, y_pred, sample_size=size, random_state=seed))


def davies_bouldin(features: np.ndarray, y_pred: np.ndarray) -> float:
    """Davies–Bouldin index over non-noise points (lower is better); NaN where undefined."""
    features, y_pred, defined = _clustered(features, y_pred)
    return float(_sklearn_metrics().davies_bouldin_score(features, y_pred)) if defined else float("nan")


def calinski_harabasz(features: np.ndarray, y_pred: np.ndarray) -> float:
    """Calinski–Harabasz index over non-noise points (higher is better); NaN where undefined."""
    features, y_pred, defined = _clustered(features, y_pred)
    return float(_sklearn_metrics().calinski_harabasz_score(features, y_pred)) if defined else float("nan")


def evaluate(y_pred, y_true=None, features=None, embedding=None) -> dict:
    """All metrics of one run. External metrics need y_true; internal ones need features.

    ``features`` are the dataset's input features (comparable across methods);
    ``embedding`` is the space the method clustered in (silhouette_embedding).
    """
    y_pred = np.asarray(y_pred)
    result = {
        "n_clusters_found": n_clusters_found(y_pred),
        "noise_fraction": float(np.mean(y_pred == NOISE)),
    }
    if y_true is not None:
        y_true = np.asarray(y_true)
        result["acc"] = cluster_accuracy(y_true, y_pred)
        result["nmi"] = float(_sklearn_metrics().normalized_mutual_info_score(y_true, y_pred))
        result["ari"] = float(_sklearn_metrics().adjusted_rand_score(y_true, y_pred))
    if features is not None:
        result["silhouette"] = silhouette(features, y_pred)
        result["davies_bouldin"] = davies_bouldin(features, y_pred)
        result["calinski_harabasz"] = calinski_harabasz(features, y_pred)
    if embedding is not None:
        result["silhouette_embedding"] = silhouette(embedding, y_pred)
    return result
