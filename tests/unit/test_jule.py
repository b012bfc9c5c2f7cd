"""JULE: the weighted triplet loss against hand values, graph-degree-linkage affinities against
their dense definition, exact merges, the merge criterion, the network's shapes, and the
estimator's contract on a digits subset with a tiny network."""

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from torch import nn

from deepclust import engine, metrics
from deepclust import agglomeration
from deepclust.agglomeration import Agglomeration
from deepclust.methods import jule
from deepclust.methods.jule import JULE, weighted_triplet_loss
from deepclust.nn import networks
from deepclust.nn.jule import JULENet

TINY = dict(image_shape=(1, 8, 8), filters=4, feature_dim=8, epochs_per_period=1, batch_size=50,
            device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


@pytest.fixture(scope="module")
def fitted(digits):
    return JULE(10, **TINY).fit(*digits)


# --- the weighted triplet loss ---------------------------------------------------------------

def test_triplet_loss_by_hand():
    # anchor 0 and positive 1 at squared distance 1; negatives 2 and 3 at squared distances 4 and 0.25
    f = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 0.5]])
    labels = torch.tensor([0, 0, 1, 2])
    # one pair (0, 1): mean over n of max(0, 2 * 1 - d(0, n) + 0.5) = (max(0, -1.5) + 2.25) / 2
    torch.testing.assert_close(weighted_triplet_loss(f, labels, margin=0.5, gamma=2.0), torch.tensor(1.125))
    # gamma 1, margin 0.2: (max(0, 1 - 4 + 0.2) + (1 - 0.25 + 0.2)) / 2
    torch.testing.assert_close(weighted_triplet_loss(f, labels), torch.tensor(0.475))


def test_triplet_loss_averages_pairs_and_skips_pairs_without_negatives():
    f = torch.tensor([[0.0], [1.0], [3.0], [0.5], [10.0]])
    labels = torch.tensor([0, 0, 1, 1, 2])
    d = lambda i, j: float((f[i] - f[j]) ** 2)  # noqa: E731
    pair = lambda a, p, negatives: np.mean([max(0.0, d(a, p) - d(a, n) + 0.2) for n in negatives])  # noqa: E731
    expected = (pair(0, 1, [2, 3, 4]) + pair(2, 3, [0, 1, 4])) / 2
    torch.testing.assert_close(weighted_triplet_loss(f, labels), torch.tensor(expected, dtype=torch.float32))
    # a single cluster: no negatives, no loss, and a zero gradient
    g = f.clone().requires_grad_()
    loss = weighted_triplet_loss(g, torch.zeros(5, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0 and torch.count_nonzero(g.grad) == 0


def test_triplet_loss_gradient_pulls_positives_and_pushes_negatives():
    f = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5]], requires_grad=True)
    weighted_triplet_loss(f, torch.tensor([0, 0, 1])).backward()
    assert f.grad[1, 0] > 0  # descending moves the positive towards the anchor
    assert f.grad[2, 1] < 0  # and the negative away from it


@pytest.mark.parametrize("gradient", ["all", "anchor"])
def test_triplet_loss_gradient_by_hand(gradient):
    """One active triplet (anchor 0, positive 1, negative 2), gamma 2: d/df_a = 2 gamma (a - p)
    - 2 (a - n); "all" also gives d/df_p = -2 gamma (a - p) and d/df_n = 2 (a - n), "anchor" (the
    authors' code) none."""
    a, p, n = torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.5])
    f = torch.stack([a, p, n]).requires_grad_()
    loss = weighted_triplet_loss(f, torch.tensor([0, 0, 1]), margin=0.2, gamma=2.0, gradient=gradient)
    torch.testing.assert_close(loss, torch.tensor(2 * 1.0 - 0.25 + 0.2))  # the same value either way
    loss.backward()
    expected = torch.stack([2 * 2 * (a - p) - 2 * (a - n),
                            -2 * 2 * (a - p) if gradient == "all" else torch.zeros(2),
                            2 * (a - n) if gradient == "all" else torch.zeros(2)])
    torch.testing.assert_close(f.grad, expected)


def test_triplet_gradient_is_checked():
    with pytest.raises(ValueError, match="gradient must be one of all, anchor; got 'positive'"):
        weighted_triplet_loss(torch.zeros(3, 2), torch.tensor([0, 0, 1]), gradient="positive")
    with pytest.raises(ValueError, match="'triplet_gradient' parameter of JULE must be a str among .*Got 'both'"):
        JULE(2, triplet_gradient="both").fit(np.random.default_rng(0).random((30, 4), dtype=np.float32))


# --- affinities and the agglomerative clustering ---------------------------------------------

def test_nearest_neighbours_exclude_the_sample_itself():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    distances, indices = agglomeration.nearest_neighbours(x, 2)
    np.testing.assert_array_equal(indices, [[1, 2], [0, 2], [1, 0], [2, 1]])
    np.testing.assert_allclose(distances, [[1, 9], [1, 4], [4, 9], [16, 36]])
    with pytest.raises(ValueError, match="n_neighbors=4 for 4 samples"):
        agglomeration.nearest_neighbours(x, 4)


@pytest.mark.usefixtures("restore_precision")
def test_the_neighbour_search_runs_without_tf32(monkeypatch):
    """Its distances make the clusters: float32 whatever the training's precision."""
    engine.set_precision("tf32")
    flags, topk = [], torch.Tensor.topk
    monkeypatch.setattr(torch.Tensor, "topk", lambda self, *args, **kwargs: flags.append(
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)) or topk(self, *args, **kwargs))
    agglomeration.nearest_neighbours(torch.rand(10, 3), 2)
    assert flags == [(False, False)]


def neighbour_search_inputs(monkeypatch, X, device) -> list:
    """The features each neighbour search of a JULE fit on ``device`` is handed (the search
    itself, each period's agglomeration and the final clustering)."""
    seen = []

    def spy(function):
        def recorded(features, *args, **kwargs):
            seen.append(features)
            return function(features, *args, **kwargs)
        return recorded

    for name in ("nearest_neighbours", "agglomerate", "cluster_from_scratch"):
        monkeypatch.setattr(jule, name, spy(getattr(jule, name)))
    # the searches inside agglomerate and cluster_from_scratch
    monkeypatch.setattr(agglomeration, "nearest_neighbours", spy(agglomeration.nearest_neighbours))
    JULE(10, **{**TINY, "device": device}).fit(X)
    return seen


def test_the_neighbour_searches_get_the_features_on_the_training_device(monkeypatch, digits):
    """Not arrays copied to the host: a GPU job searches on its GPU (tests/unit/test_gpu.py)."""
    seen = neighbour_search_inputs(monkeypatch, digits[0], "cpu")
    assert len(seen) >= 5  # period 0, then a search and an agglomeration per period, the final clustering
    assert all(isinstance(features, torch.Tensor) and features.device.type == "cpu" for features in seen)


def test_sample_affinity_is_a_gaussian_kernel_on_the_neighbour_graph():
    distances = np.array([[1.0, 4.0], [1.0, 2.0], [2.0, 4.0]])
    indices = np.array([[1, 2], [0, 2], [1, 0]])
    W = agglomeration.sample_affinity(distances, indices).toarray()
    sigma_squared = distances.mean()
    assert W[0, 1] == pytest.approx(math.exp(-1 / sigma_squared)) and W[2, 0] == pytest.approx(math.exp(-4 / sigma_squared))
    assert np.all(np.diag(W) == 0) and np.count_nonzero(W) == 6


def test_initial_clusters_follow_nearest_neighbour_links():
    # 0 -> 1 -> 0, 2 -> 1, 3 -> 4 -> 3, 5 -> 4: two components
    labels = agglomeration.initial_clusters(np.array([1, 0, 1, 4, 3, 4]))
    assert labels[0] == labels[1] == labels[2] and labels[3] == labels[4] == labels[5] and labels[0] != labels[3]


def random_graph(n=40, k=4, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.as_tensor(rng.normal(size=(n, 3)), dtype=torch.float32)
    distances, indices = agglomeration.nearest_neighbours(x, k)
    return agglomeration.sample_affinity(distances, indices), x.numpy(), rng


def dense_affinity(W: np.ndarray, labels: np.ndarray, a: int, b: int) -> float:
    """Zhang et al.'s graph degree linkage straight from its definition."""
    ia, ib = np.flatnonzero(labels == a), np.flatnonzero(labels == b)
    ab, ba = W[np.ix_(ia, ib)], W[np.ix_(ib, ia)]
    return (ab @ ba).sum() / len(ia) ** 2 + (ba @ ab).sum() / len(ib) ** 2


def assert_affinities_match_the_definition(clusters: Agglomeration, W: np.ndarray):
    labels = clusters.labels
    alive = np.flatnonzero(clusters.alive)
    for a in alive:
        for b in alive:
            if a != b:
                assert clusters.affinity(a, b) == pytest.approx(dense_affinity(W, labels, a, b), abs=1e-12)


def test_cluster_affinities_equal_the_definition_before_and_after_merges():
    W, x, rng = random_graph()
    labels = rng.integers(0, 12, len(x))
    clusters = Agglomeration(W, labels, x)
    assert_affinities_match_the_definition(clusters, W.toarray())
    for _ in range(6):  # exact incremental updates, whichever pairs merge
        alive = np.flatnonzero(clusters.alive)
        a, b = rng.choice(alive, 2, replace=False)
        clusters.merge(int(a), int(b))
        assert_affinities_match_the_definition(clusters, W.toarray())
    assert clusters.n_clusters == 6 and len(np.unique(clusters.labels)) == 6


def test_each_merge_takes_the_pair_that_the_criterion_ranks_first():
    W, x, rng = random_graph(n=60, k=5, seed=1)
    nearest = agglomeration.nearest_neighbours(torch.as_tensor(x), 1)[1][:, 0]
    clusters = Agglomeration(W, agglomeration.initial_clusters(nearest), x)
    k_c = clusters.k_c
    for _ in range(5):
        alive = np.flatnonzero(clusters.alive)
        best = (-np.inf, None)
        for a in alive:  # brute force over each cluster's sorted affinities, as the authors' code
            values = sorted((clusters.affinity(a, b) for b in alive if b != a), reverse=True)[:k_c]
            values += [0.0] * (k_c - len(values))
            score = values[0]  # fewer than 100 clusters: no local-structure term
            partner = max((b for b in alive if b != a), key=lambda b: clusters.affinity(a, b))
            if score > best[0]:
                best = (score, {int(a), int(partner)})
        c = int(np.argmax(clusters.score))
        assert {c, int(clusters.partner[c])} == best[1]
        clusters.run(1)


def test_local_structure_term_counts_above_100_clusters():
    W, x, _ = random_graph(n=400, k=5, seed=2)
    labels = np.arange(400) // 2  # 200 clusters of two
    clusters = Agglomeration(W, labels, x)
    c = int(np.flatnonzero(np.isfinite(clusters.score))[0])
    values = sorted((clusters.affinity(c, b) for b in clusters.neighbours(c)), reverse=True)[:5]
    values += [0.0] * (5 - len(values))
    assert clusters.score[c] == pytest.approx(values[0] + sum(values[0] - v for v in values[1:]) / 4)


def test_blobs_are_recovered_and_isolated_clusters_absorbed():
    X, y = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    labels = agglomeration.cluster_from_scratch(X.astype(np.float32), 3, n_neighbors=10, n_cluster_neighbors=5)
    assert len(np.unique(labels)) == 3
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(y, labels) == 1.0
    # a cluster with no affinity to any other (a far-away pair linked only to itself) joins the
    # cluster with the nearest mean before any merge
    W = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 1, 0, 1],
                                [0, 0, 1, 1, 0]], dtype=float))
    features = np.array([[0.0], [0.1], [5.0], [5.1], [9.0]])
    clusters = Agglomeration(W, np.array([0, 0, 1, 1, 2]), features)
    assert not clusters.neighbours(0) and clusters.neighbours(1) == {2}
    clusters.absorb_isolated(minimum=1)
    assert clusters.n_clusters == 2 and clusters.labels[0] == clusters.labels[2]


def test_agglomerate_merges_eta_of_the_clusters_per_period():
    W, x, _ = random_graph(n=200, k=5, seed=3)
    labels = np.arange(200) // 4  # 50 clusters
    after = agglomeration.agglomerate(x, labels, target=10, unrolling_rate=0.5, n_neighbors=5, n_cluster_neighbors=5)
    assert len(np.unique(after)) == 25
    after = agglomeration.agglomerate(x, labels, target=40, unrolling_rate=0.9, n_neighbors=5, n_cluster_neighbors=5)
    assert len(np.unique(after)) == 40  # never below the target


def groups_with_outliers():
    """Groups A, B, C of 10 samples (all linked inside, W = 1) in a chain A - B - C (one mutual
    link of 1e-3 each), and three outlier pairs: P1 linked to A and P2 to C by 1e-6 each way, P3
    linked to nothing; P3's features lie next to B's. Starting clusters: the groups and pairs."""
    sizes = [10, 10, 10, 2, 2, 2]
    labels = np.repeat(np.arange(6), sizes)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    W = np.zeros((36, 36))
    for c, size in enumerate(sizes):
        W[first[c]:first[c] + size, first[c]:first[c] + size] = 1
    np.fill_diagonal(W, 0)
    for (a, b), weight in {(0, 1): 1e-3, (1, 2): 1e-3, (0, 3): 1e-6, (2, 4): 1e-6}.items():
        W[first[a], first[b]] = W[first[b], first[a]] = weight
    features = np.array([[0.0], [10.0], [20.0], [-30.0], [50.0], [11.0]])[labels]
    return sp.csr_matrix(W), labels, features


def test_outlier_pairs_take_final_places_in_the_authors_merges():
    W, labels, features = groups_with_outliers()
    clusters = Agglomeration(W, labels, features)
    clusters.absorb_isolated(minimum=3)  # P3 has no links: it joins B, the nearest mean
    assert clusters.labels[34] == clusters.labels[10]
    final = clusters.run(2)  # the chain's links outrank the outliers': A, B and C end as one
    assert len(np.unique(final[:30])) == 1 and len({final[0], final[30], final[32]}) == 3


def test_outlier_size_stops_before_joining_final_clusters_and_attaches_the_outliers():
    W, labels, features = groups_with_outliers()
    clusters = Agglomeration(W, labels, features)
    final = clusters.run(5, target=3, outlier_size=3)
    assert clusters.n_clusters == 3
    groups = [final[0], final[10], final[20]]
    assert len(set(groups)) == 3  # no two groups joined
    # each pair joins the group it has links with; P3, with none, the nearest mean (B)
    assert final[30] == groups[0] and final[32] == groups[2] and final[34] == groups[1]
    assert sorted(np.bincount(final)) == [12, 12, 12]


def test_outlier_size_changes_nothing_without_outliers_or_final_clusters():
    W, labels, features = groups_with_outliers()
    # a floor no cluster reaches: no large clusters, so the authors' merges
    authors = Agglomeration(W, labels, features).run(5, target=3)
    assert np.array_equal(Agglomeration(W, labels, features).run(5, target=3, outlier_size=100), authors)
    clusters = Agglomeration(W, labels, features)
    clusters.attach_outliers(100)
    assert clusters.n_clusters == 6
    # blobs without outliers: the same clusters with a floor as without
    X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    X = X.astype(np.float32)
    plain = agglomeration.cluster_from_scratch(X, 3, n_neighbors=10, n_cluster_neighbors=5)
    floored = agglomeration.cluster_from_scratch(X, 3, n_neighbors=10, n_cluster_neighbors=5,
                                                 outlier_size=0.01 * 300 / 3)
    assert np.array_equal(plain, floored)


# --- the network --------------------------------------------------------------------------------

def layers(module, kind):
    return [m for m in module.modules() if isinstance(m, kind)]


def test_mnist_layout_is_the_authors():
    net = JULENet(784, (1, 28, 28))
    convs = layers(net, nn.Conv2d)
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == \
        [(1, 50, (5, 5), (0, 0)), (50, 50, (5, 5), (0, 0))]
    assert [(m.in_features, m.out_features) for m in layers(net, nn.Linear)] == [(3200, 160)]
    assert len(layers(net, nn.BatchNorm2d)) == 2 and len(layers(net, nn.MaxPool2d)) == 1


@pytest.mark.parametrize("input_dim, image_shape", [(784, (1, 28, 28)), (256, (1, 16, 16)), (64, (1, 8, 8)),
                                                    (4, (1, 2, 2)), (3072, (3, 32, 32)), (20, None)])
def test_features_are_unit_vectors(input_dim, image_shape):
    # seeded: a tiny random net (4 filters on 2x2 images) now and then maps every input to zero after
    # its ReLUs, and a zero vector has no direction to normalise to
    torch.manual_seed(0)
    net = JULENet(input_dim, image_shape, filters=4, feature_dim=6, hidden_dim=8).eval()
    features = net(torch.rand(5, input_dim))
    assert features.shape == (5, 6)
    torch.testing.assert_close(features.norm(dim=1), torch.ones(5))
    assert bool(layers(net, nn.Conv2d)) == (image_shape is not None)


def test_network_refuses_bad_shapes():
    with pytest.raises(ValueError, match=r"image_shape \[1, 28, 28\] has 784 values but the data has 64"):
        JULENet(64, (1, 28, 28))
    with pytest.raises(ValueError, match=r"image_shape must be \(channels, height, width\)"):
        JULENet(64, (8, 8))


# --- the estimator ---------------------------------------------------------------------------------

def test_labels_history_and_embedding(fitted, digits):
    X, y = digits
    assert fitted.labels_.shape == (len(X),) and len(np.unique(fitted.labels_)) == 10
    history = fitted.history_
    assert [row["period"] for row in history] == list(range(fitted.n_periods_ + 1))
    assert [row["epoch"] for row in history] == list(range(fitted.n_periods_ + 1))  # one epoch per period
    counts = [row["n_clusters"] for row in history]
    assert counts[-1] == 10 and all(a > b for a, b in zip(counts, counts[1:]))
    assert all(np.isfinite(row["loss"]) and {"acc", "nmi"} <= set(row) for row in history[1:])
    embedding = fitted.transform(X)
    assert embedding.shape == (len(X), 8) and embedding.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1, rtol=1e-5)
    assert fitted.cluster_centers_.shape == (10, 8)
    assert fitted.predict(X).shape == (len(X),)


def test_same_seed_same_result_and_the_model_file_round_trips(fitted, digits, tmp_path):
    again = clone(fitted).fit(digits[0])
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    assert all("acc" not in row for row in again.history_)
    networks.save(tmp_path / "model.pt", fitted.autoencoder_)
    loaded = networks.load(tmp_path / "model.pt")
    assert isinstance(loaded, JULENet)
    X = torch.as_tensor(digits[0])
    torch.testing.assert_close(loaded(X), fitted.autoencoder_(X))


def test_training_changes_the_network(digits):
    trained = JULE(10, **{**TINY, "epochs_per_period": 0}).fit(digits[0])
    assert all(np.isnan(row["loss"]) for row in trained.history_)  # no epochs: nothing learnt
    moved = JULE(10, **TINY).fit(digits[0])
    before = trained.autoencoder_.state_dict()
    after = moved.autoencoder_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if k.endswith("weight"))


@pytest.mark.parametrize("params, message", [
    ({"unrolling_rate": 0}, r"'unrolling_rate' parameter of JULE must be a float in the range \(0.0, 1.0\]"),
    ({"n_neighbors": 300}, "n_neighbors=300 must be below the number of samples"),
    ({"n_cluster_neighbors": 1}, r"'n_cluster_neighbors' parameter of JULE must be an int in the range \[2, inf\)"),
    ({"margin": 0}, r"'margin' parameter of JULE must be a float in the range \(0.0, inf\)"),
    ({"final_clustering": "kmeans"}, "'final_clustering' parameter of JULE must be a str among .*Got 'kmeans'"),
    ({"outlier_fraction": 1.0}, r"'outlier_fraction' parameter of JULE must be a float in the range \[0.0, 1.0\)"),
])
def test_bad_parameters_are_refused(digits, params, message):
    with pytest.raises(ValueError, match=message):
        JULE(10, **{**TINY, **params}).fit(digits[0])


def test_final_clustering_recurrent_keeps_the_last_periods_clusters(fitted, digits):
    recurrent = JULE(10, **TINY, final_clustering="recurrent").fit(*digits)
    # the same recurrent process (seeded alike); only the final labels differ in origin
    assert np.array_equal(recurrent.recurrent_labels_, fitted.recurrent_labels_)
    assert np.array_equal(recurrent.labels_, recurrent.recurrent_labels_)
    assert len(np.unique(recurrent.labels_)) == 10
    assert json.dumps(recurrent.history_) == json.dumps(fitted.history_)  # NaN losses: compare as text
    # the history's last row scores the recurrent clusters, so one run reports both finals
    assert recurrent.history_[-1]["acc"] == pytest.approx(metrics.cluster_accuracy(digits[1], recurrent.labels_))
    assert not np.array_equal(fitted.labels_, fitted.recurrent_labels_)  # from scratch really re-clusters


def test_outlier_fraction_keeps_small_clusters_out_of_the_final_ones(fitted, digits):
    assert np.bincount(fitted.labels_).min() < 9  # the authors' procedure leaves clusters of 2 and 5
    floored = JULE(10, **TINY, outlier_fraction=0.3).fit(digits[0])  # outliers: under 0.3 * 300 / 10 = 9
    assert np.bincount(floored.labels_).min() >= 9 and np.bincount(floored.recurrent_labels_).min() >= 9
    # the final clustering is cluster_from_scratch with that floor on the trained features
    expected = agglomeration.cluster_from_scratch(floored.transform(digits[0]), 10, n_neighbors=20,
                                                  n_cluster_neighbors=5, outlier_size=9.0)
    assert np.array_equal(floored.labels_, expected)
