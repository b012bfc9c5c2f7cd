import math

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from deepclust import metrics


def test_acc_of_permuted_labelling_is_exactly_one():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([2, 2, 0, 0, 1, 1, 1])  # same partition, other names
    assert metrics.cluster_accuracy(y_true, y_pred) == 1.0
    assert metrics.best_matching(y_true, y_pred) == {2: 0, 0: 1, 1: 2}


def test_acc_with_arbitrary_cluster_ids():
    y_true = [0, 0, 1, 1]
    y_pred = [17, 17, 5, 5]
    assert metrics.cluster_accuracy(y_true, y_pred) == 1.0


def test_acc_known_partial_case():
    # contingency (rows: cluster, cols: class): cluster 1 -> {class0: 2}; cluster 0 -> {class0: 1, class1: 3}
    # best one-to-one matching: 1->0 (2 right) + 0->1 (3 right) = 5 of 6 (the other matching gives 1 of 6)
    y_true = np.array([0, 0, 0, 1, 1, 1])
    y_pred = np.array([1, 1, 0, 0, 0, 0])
    assert metrics.cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 6)


def test_acc_more_clusters_than_classes_is_one_to_one():
    # clusters 0 and 1 both hold class 0 but only one of them can be matched to it
    y_true = [0, 0, 1, 1]
    y_pred = [0, 1, 2, 2]
    assert metrics.cluster_accuracy(y_true, y_pred) == pytest.approx(3 / 4)


def test_noise_counts_as_wrong():
    y_true = [0, 0, 1, 1]
    assert metrics.cluster_accuracy(y_true, [0, 0, -1, 1]) == pytest.approx(3 / 4)


def test_noise_is_never_matched_even_when_it_would_be_the_best_cluster():
    # as a normal cluster, -1 would match class 0 and ACC would be 1.0
    y_true = [0, 0, 1, 1]
    y_pred = [-1, -1, 1, 1]
    assert metrics.cluster_accuracy(y_true, y_pred) == pytest.approx(0.5)
    assert metrics.NOISE not in metrics.best_matching(np.array(y_true), np.array(y_pred))


def test_all_noise_labelling_is_a_valid_result():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20, 3))
    y_true = np.repeat([0, 1], 10)
    result = metrics.evaluate(np.full(20, -1), y_true=y_true, features=features, embedding=features)
    assert result["n_clusters_found"] == 0
    assert result["noise_fraction"] == 1.0
    assert result["acc"] == 0.0
    assert result["nmi"] == pytest.approx(0.0)
    assert result["ari"] == pytest.approx(0.0)
    assert math.isnan(result["silhouette"])
    assert math.isnan(result["silhouette_embedding"])


def test_noise_fraction_and_clusters_found():
    result = metrics.evaluate(np.array([0, 0, 3, -1, -1, 3, 7, 7]))
    assert result == {"n_clusters_found": 3, "noise_fraction": pytest.approx(2 / 8)}


def test_contingency_counts():
    counts, pred_ids, true_ids = metrics.contingency(np.array([0, 0, 1, 1, 1]), np.array([5, 3, 3, 3, 5]))
    assert pred_ids.tolist() == [3, 5]
    assert true_ids.tolist() == [0, 1]
    assert counts.tolist() == [[1, 2], [1, 1]]


def test_matched_confusion_puts_counts_on_diagonal_for_a_permutation():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([5, 5, 3, 3, 3, 7])
    matrix, cluster_order = metrics.matched_confusion(y_true, y_pred)
    assert cluster_order.tolist() == [5, 3, 7]  # in the order of the classes they match
    np.testing.assert_array_equal(matrix, np.diag([2, 3, 1]))


def test_matched_confusion_orders_noise_after_matched_clusters():
    y_true = np.array([0, 0, 1, 1, 1])
    y_pred = np.array([2, 2, 0, 0, -1])
    matrix, cluster_order = metrics.matched_confusion(y_true, y_pred)
    assert cluster_order.tolist() == [2, 0, -1]
    # rows are true classes, columns clusters
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [0, 2, 1]])


def test_silhouette_matches_sklearn_and_ignores_noise():
    rng = np.random.default_rng(1)
    features = np.vstack([rng.normal(0, 0.1, (10, 2)), rng.normal(5, 0.1, (10, 2)), rng.normal(-5, 0.1, (3, 2))])
    labels = np.array([0] * 10 + [1] * 10 + [-1] * 3)
    expected = silhouette_score(features[:20], labels[:20])
    assert metrics.silhouette(features, labels) == pytest.approx(expected)
    assert expected > 0.9


@pytest.mark.parametrize("labels", [[0, 0, 0, 0], [0, 1, 2, 3], [0, 0, -1, -1]])
@pytest.mark.parametrize("metric", [metrics.silhouette, metrics.davies_bouldin, metrics.calinski_harabasz])
def test_internal_metrics_are_nan_where_undefined(labels, metric):
    features = np.arange(8, dtype=float).reshape(4, 2)
    assert math.isnan(metric(features, np.array(labels)))


def test_davies_bouldin_and_calinski_harabasz_known_values():
    # two clusters on a line: {0, 2} and {10, 12}; centroids 1 and 11, spread 1 each
    features = np.array([[0.0], [2.0], [10.0], [12.0], [50.0]])
    labels = np.array([0, 0, 1, 1, -1])  # the noise point is left out
    # DB = (s0 + s1) / d(c0, c1) = (1 + 1) / 10
    assert metrics.davies_bouldin(features, labels) == pytest.approx(0.2)
    # CH = [B / (k-1)] / [W / (n-k)] with B = 4 * 5^2 = 100, W = 4 * 1 = 4, n = 4, k = 2
    assert metrics.calinski_harabasz(features, labels) == pytest.approx(100 / 1 / (4 / 2))


def test_evaluate_keys():
    y_pred = np.array([0, 0, 1, 1, 1, 0])
    y_true = np.array([0, 0, 1, 1, 0, 0])
    features = np.array([[0.0], [0.1], [5.0], [5.1], [5.2], [0.2]])
    base = {"n_clusters_found", "noise_fraction"}
    external = {"acc", "nmi", "ari"}
    assert set(metrics.evaluate(y_pred)) == base
    assert set(metrics.evaluate(y_pred, y_true=y_true)) == base | external
    internal = {"silhouette", "davies_bouldin", "calinski_harabasz"}
    assert set(metrics.evaluate(y_pred, features=features)) == base | internal
    full = metrics.evaluate(y_pred, y_true, features, embedding=features)
    assert set(full) == base | external | internal | {"silhouette_embedding"}
    assert full["acc"] == pytest.approx(5 / 6)
    assert full["silhouette"] == pytest.approx(silhouette_score(features, y_pred))
    assert all(isinstance(v, (int, float)) for v in full.values())
