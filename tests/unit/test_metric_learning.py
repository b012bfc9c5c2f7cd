"""Metric-learning deep clustering: the five losses on hand-computed examples (the angular and
N-pair losses also against loop references), their mining, P x K batches,
relabelling-invariant change counting, and the estimator on a digits subset."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.datasets import load_digits

from deepclust.methods.metric_learning import MetricLearningDC, count_changed_labels, pk_batches
from deepclust.metric_losses import (angular_loss, batch_hard_triplet_loss, contrastive_loss, npair_loss,
                                     pairwise_distances, semi_hard_triplet_loss)
from deepclust.nn import networks

LOSS_FUNCTIONS = [batch_hard_triplet_loss, semi_hard_triplet_loss, contrastive_loss]
LOG_SUM_EXP_LOSSES = [angular_loss, npair_loss]
N_DIGITS, HIDDEN, EMBEDDING = 300, (64,), 8


def column(*values, requires_grad=False):
    """Points on a line, as an (n, 1) float64 tensor."""
    return torch.tensor([[float(v)] for v in values], dtype=torch.float64, requires_grad=requires_grad)


def labels(*values):
    return torch.tensor(values)


# --- distances and losses ---------------------------------------------------------------------

def test_pairwise_distances_exact_and_finite_gradient_on_coincident_points():
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    d = pairwise_distances(z)
    torch.testing.assert_close(d, torch.tensor([[0.0, 5.0, 0.0], [5.0, 0.0, 5.0], [0.0, 5.0, 0.0]]))
    d.sum().backward()
    assert torch.isfinite(z.grad).all()


def test_batch_hard_hand_example():
    # 1-D points 0, 1 (label 0) and 3, 6 (label 1): d01=1, d02=3, d03=6, d12=2, d13=5, d23=3.
    # per anchor (hardest positive, hardest negative): 0: (1, 3), 1: (1, 2), 2: (3, 2), 3: (3, 5)
    z, y = column(0, 1, 3, 6), labels(0, 0, 1, 1)
    # margin 1: hinges 0, 0, 2, 0 -> 0.5;  margin 2: 0, 1, 3, 0 -> 1.0
    torch.testing.assert_close(batch_hard_triplet_loss(z, y, 1.0), torch.tensor(0.5, dtype=torch.float64))
    torch.testing.assert_close(batch_hard_triplet_loss(z, y, 2.0), torch.tensor(1.0, dtype=torch.float64))


def test_batch_hard_mines_farthest_positive_and_closest_negative():
    # margin 2: loss = [(d01 - d12 + 2) + (d23 - d12 + 2)] / 4 (anchors 1 and 2 are active), so
    # d/dz = [-1, +1 +1 +1, -1 -1 -1, +1] / 4 for points 0, 1, 3, 6
    z = column(0, 1, 3, 6, requires_grad=True)
    batch_hard_triplet_loss(z, labels(0, 0, 1, 1), 2.0).backward()
    torch.testing.assert_close(z.grad, column(-0.25, 0.75, -0.75, 0.25))


def test_batch_hard_skips_anchors_without_positive():
    # a far-away singleton (label 2) has no positive: the mean stays over the other 4 anchors
    z, y = column(0, 1, 3, 6, 100), labels(0, 0, 1, 1, 2)
    torch.testing.assert_close(batch_hard_triplet_loss(z, y, 2.0), torch.tensor(1.0, dtype=torch.float64))
    # no anchor with both a positive and a negative: zero, not NaN
    assert batch_hard_triplet_loss(column(0, 1), labels(0, 0), 1.0) == 0
    assert batch_hard_triplet_loss(column(0, 1), labels(0, 1), 1.0) == 0


def test_semi_hard_takes_closest_negative_farther_than_positive():
    # anchor 0 and positive 2 (d_ap = 2); negatives at 1 (hard), 3 (semi-hard), 5 (easy), each a
    # singleton so only the pairs (0, 1) and (1, 0) count. Pair (0, 1): negatives at 1, 3, 5 ->
    # 3; pair (1, 0): negatives at distance 1, 1, 3 -> 3. Both: max(0, 2 - 3 + 1.5) = 0.5
    z, y = column(0, 2, 1, 3, 5), labels(0, 0, 1, 2, 3)
    torch.testing.assert_close(semi_hard_triplet_loss(z, y, 1.5), torch.tensor(0.5, dtype=torch.float64))
    # the batch hard loss, by contrast, takes the negative at distance 1: (2 - 1 + 1.5) = 2.5
    torch.testing.assert_close(batch_hard_triplet_loss(z, y, 1.5), torch.tensor(2.5, dtype=torch.float64))


def test_semi_hard_hand_example_with_fallback_to_farthest_negative():
    # 0, 1 (label 0) and 3, 7 (label 1). Pairs (anchor, positive): d_ap, negative chosen:
    # (0,1): 1, negatives 3, 7 -> 3;  (1,0): 1, negatives 2, 6 -> 2;
    # (2,3): 4, negatives 3, 2: none farther -> farthest, 3 (the hardest would be 2);
    # (3,2): 4, negatives 7, 6 -> 6.  margin 1.5: hinges 0, 0.5, 2.5, 0 -> mean 0.75
    z, y = column(0, 1, 3, 7), labels(0, 0, 1, 1)
    torch.testing.assert_close(semi_hard_triplet_loss(z, y, 1.5), torch.tensor(0.75, dtype=torch.float64))


def test_contrastive_hand_example_2d():
    # pairs: (0,1) different, d=5 -> (6-5)^2/2 = 0.5; (0,2) same, d=1 -> 1/2;
    # (1,2) different, d=sqrt(18) -> (6-sqrt(18))^2/2; mean over the 3 pairs
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]], dtype=torch.float64)
    expected = (0.5 + 0.5 + (6 - math.sqrt(18)) ** 2 / 2) / 3
    torch.testing.assert_close(contrastive_loss(z, labels(0, 1, 0), 6.0),
                               torch.tensor(expected, dtype=torch.float64))


def test_contrastive_hand_example_1d_margin_clips():
    # 0, 1 (label 0), 3 (label 1), margin 2.5: same d=1 -> 0.5; d=3 > margin -> 0; d=2 -> 0.125
    torch.testing.assert_close(contrastive_loss(column(0, 1, 3), labels(0, 0, 1), 2.5),
                               torch.tensor(0.625 / 3, dtype=torch.float64))


@pytest.mark.parametrize("loss_fn", LOSS_FUNCTIONS, ids=lambda f: f.__name__)
def test_zero_loss_when_clusters_are_farther_apart_than_the_margin(loss_fn):
    # three clusters of coincident points 2 apart, margin 1: every hinge and pull is 0
    z = torch.tensor([[0.0, 0.0]] * 3 + [[2.0, 0.0]] * 3 + [[0.0, 2.0]] * 3, requires_grad=True)
    y = labels(0, 0, 0, 1, 1, 1, 2, 2, 2)
    loss = loss_fn(z, y, 1.0)
    assert loss == 0
    loss.backward()
    assert torch.equal(z.grad, torch.zeros_like(z))


@pytest.mark.parametrize("loss_fn", [batch_hard_triplet_loss, semi_hard_triplet_loss], ids=lambda f: f.__name__)
def test_triplet_losses_zero_for_spread_clusters_beyond_margin(loss_fn):
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    y = torch.arange(3).repeat_interleave(5)
    z = centres[y] + torch.rand(15, 2, generator=generator)  # cluster diameter < 1.5
    assert loss_fn(z, y, 5.0) == 0
    assert loss_fn(z, y, 50.0) > 0


@pytest.mark.parametrize("loss_fn", LOSS_FUNCTIONS, ids=lambda f: f.__name__)
def test_losses_invariant_to_label_values_and_sample_order(loss_fn):
    generator = torch.Generator().manual_seed(1)
    z = torch.randn(12, 3, generator=generator, dtype=torch.float64)
    y = torch.arange(3).repeat(4)
    order = torch.randperm(12, generator=generator)
    reference = loss_fn(z, y, 1.0)
    assert reference > 0
    torch.testing.assert_close(loss_fn(z[order], y[order], 1.0), reference)
    torch.testing.assert_close(loss_fn(z, 7 - 2 * y, 1.0), reference)


# --- the angular and N-pair losses --------------------------------------------------------------

# four 2-D points, labels 0, 0, 1, 1; their inner products S (symmetric):
# S00=1 S01=2 S02=0 S03=1 / S11=4 S12=0 S13=2 / S22=1 S23=1 / S33=2
FOUR = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
FOUR_LABELS = labels(0, 0, 1, 1)


def mean_over_pairs(z, y, pair_term):
    """The mean over every ordered same-label pair (a, p) that has other-label samples of
    log(1 + sum over those negatives n of exp(pair_term(a, p, n))), by loops."""
    pair_losses = []
    for a in range(len(z)):
        for p in range(len(z)):
            negatives = [n for n in range(len(z)) if y[n] != y[a]]
            if p == a or y[p] != y[a] or not negatives:
                continue
            pair_losses.append(math.log(1 + sum(math.exp(pair_term(a, p, n)) for n in negatives)))
    return sum(pair_losses) / len(pair_losses) if pair_losses else 0.0


def npair_reference(z, y, norm_weight):
    """Sohn's (N+1)-tuplet loss by loops: every ordered same-label pair against every other-label sample."""
    norms = sum(float(row @ row) for row in z) / len(z)
    return mean_over_pairs(z, y, lambda a, p, n: float(z[a] @ z[n] - z[a] @ z[p])) + norm_weight * norms


def angular_reference(z, y, angle):
    """Wang et al.'s batch angular loss by loops, from its formula f_apn."""
    tan2 = math.tan(math.radians(angle)) ** 2
    return mean_over_pairs(z, y, lambda a, p, n: float(4 * tan2 * (z[a] + z[p]) @ z[n]
                                                         - 2 * (1 + tan2) * z[a] @ z[p]))


def test_npair_hand_example():
    # pair (a, p): log(1 + sum over the other label's n of exp(S_an - S_ap))
    # (0,1): exp(-2) + exp(-1); (1,0): exp(-2) + exp(0); (2,3): 2 exp(-1); (3,2): exp(0) + exp(1)
    pairs = [math.log(1 + math.exp(-2) + math.exp(-1)), math.log(2 + math.exp(-2)),
             math.log(1 + 2 * math.exp(-1)), math.log(2 + math.e)]
    expected = sum(pairs) / 4
    torch.testing.assert_close(npair_loss(FOUR, FOUR_LABELS, 0.0), torch.tensor(expected, dtype=torch.float64))
    # squared norms 1, 4, 1, 2: mean 2, times the weight
    torch.testing.assert_close(npair_loss(FOUR, FOUR_LABELS, 0.002),
                               torch.tensor(expected + 0.004, dtype=torch.float64))


def test_npair_with_one_negative_is_the_smooth_triplet_loss():
    # Sohn's N = 2 case: log(1 + exp(f.f_n - f.f_p)), for both orders of the pair
    z = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]], dtype=torch.float64)
    a, p, n = z
    expected = (F.softplus(a @ n - a @ p) + F.softplus(p @ n - p @ a)) / 2
    torch.testing.assert_close(npair_loss(z, labels(0, 0, 1), 0.0), expected)


def test_angular_hand_example():
    # alpha = 45 degrees, tan^2 = 1: f_apn = 4 (S_an + S_pn) - 4 S_ap, symmetric in a and p
    # (0,1) and (1,0): n=2: 4 (0 + 0) - 8 = -8, n=3: 4 (1 + 2) - 8 = 4
    # (2,3) and (3,2): n=0: 4 (0 + 1) - 4 = 0, n=1: 4 (0 + 2) - 4 = 4
    expected = (math.log(1 + math.exp(-8) + math.exp(4)) + math.log(2 + math.exp(4))) / 2
    torch.testing.assert_close(angular_loss(FOUR, FOUR_LABELS, 45.0), torch.tensor(expected, dtype=torch.float64))


def test_angular_batch_form_is_the_triplet_form_shifted_on_unit_vectors():
    # for unit vectors, ||a - p||^2 - 4 tan^2(alpha) ||n - c||^2 (c = (a + p) / 2, the paper's
    # triplet form) equals f_apn + 2 - 6 tan^2(alpha): the batch form drops that constant
    generator = torch.Generator().manual_seed(2)
    for angle in (30.0, 45.0, 60.0):
        a, p, n = F.normalize(torch.randn(3, 5, generator=generator, dtype=torch.float64), dim=1)
        tan2 = math.tan(math.radians(angle)) ** 2
        triplet = (a - p).pow(2).sum() - 4 * tan2 * (n - (a + p) / 2).pow(2).sum()
        expected = F.softplus(triplet - 2 + 6 * tan2)   # one negative: log(1 + exp(f_apn))
        torch.testing.assert_close(angular_loss(torch.stack([a, p, n]), labels(0, 0, 1), angle), expected)


@pytest.mark.parametrize("seed", range(5))
def test_log_sum_exp_losses_match_loop_references(seed):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(9, 3, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 4, (9,), generator=generator)   # some labels are singletons or absent
    torch.testing.assert_close(npair_loss(z, y, 0.002), torch.tensor(npair_reference(z, y, 0.002),
                                                                      dtype=torch.float64))
    for angle in (20.0, 45.0):
        torch.testing.assert_close(angular_loss(z, y, angle), torch.tensor(angular_reference(z, y, angle),
                                                                           dtype=torch.float64))


@pytest.mark.parametrize("loss_fn", LOG_SUM_EXP_LOSSES, ids=lambda f: f.__name__)
def test_log_sum_exp_losses_finite_gradients(loss_fn):
    generator = torch.Generator().manual_seed(3)
    # coincident points, a singleton label and large inner products (exp would overflow unstabilised)
    z = (100 * torch.randn(8, 4, generator=generator)).repeat(2, 1).requires_grad_()
    y = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3] * 2)
    loss = loss_fn(z, y)
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    # a batch of one label has no negatives: 0 (plus the N-pair regulariser), finite gradient
    w = torch.randn(4, 2, generator=generator, requires_grad=True)
    single = loss_fn(w, labels(0, 0, 0, 0))
    single.backward()
    assert torch.isfinite(w.grad).all()
    expected = 0.002 * w.detach().pow(2).sum(1).mean() if loss_fn is npair_loss else torch.tensor(0.0)
    torch.testing.assert_close(single.detach(), expected)


@pytest.mark.parametrize("loss_fn", LOG_SUM_EXP_LOSSES, ids=lambda f: f.__name__)
def test_log_sum_exp_losses_invariant_to_label_values_and_sample_order(loss_fn):
    generator = torch.Generator().manual_seed(4)
    z = torch.randn(12, 3, generator=generator, dtype=torch.float64)
    y = torch.arange(3).repeat(4)
    order = torch.randperm(12, generator=generator)
    reference = loss_fn(z, y)
    torch.testing.assert_close(loss_fn(z[order], y[order]), reference)
    torch.testing.assert_close(loss_fn(z, 7 - 2 * y), reference)


def test_estimator_passes_angle_and_norm_weight_to_its_loss():
    z = F.normalize(torch.randn(8, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64), dim=1)
    y = torch.arange(2).repeat(4)
    angular = MetricLearningDC(loss="angular", angle=30.0)._metric_loss()
    torch.testing.assert_close(angular(z, y, 0.2), angular_loss(z, y, 30.0))
    npair = MetricLearningDC(loss="npair", norm_weight=0.5)._metric_loss()
    torch.testing.assert_close(npair(z, y, 0.2), npair_loss(z, y, 0.5))
    assert MetricLearningDC(loss="contrastive")._metric_loss() is contrastive_loss


# --- batches and label changes -----------------------------------------------------------------

def test_pk_batches_hold_k_samples_of_each_of_p_labels():
    # class sizes 10, 6, 3, 8, 1 (labels 0..4); K = 4, P = 3
    y = torch.tensor([0] * 10 + [1] * 6 + [2] * 3 + [3] * 8 + [4])
    y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    batches = pk_batches(y, 3, 4, 50, torch.Generator().manual_seed(1))
    assert batches.shape == (50, 12)
    seen = set()
    for batch in batches:
        runs = y[batch].reshape(3, 4)
        assert (runs == runs[:, :1]).all()                    # each run of K has one label
        assert len(set(runs[:, 0].tolist())) == 3             # P distinct labels
        for run_labels, run in zip(runs[:, 0].tolist(), batch.reshape(3, 4)):
            size = int((y == run_labels).sum())
            assert len(set(run.tolist())) == min(size, 4)     # distinct unless the class is smaller
        seen.update(runs[:, 0].tolist())
    assert seen == {0, 1, 2, 3, 4}
    again = pk_batches(y, 3, 4, 50, torch.Generator().manual_seed(1))
    assert torch.equal(batches, again)


def test_pk_batches_refuse_more_classes_than_present():
    with pytest.raises(ValueError, match="3 classes per batch asked for but only 2 labels occur"):
        pk_batches(torch.tensor([0, 0, 2, 2]), 3, 2, 1, torch.Generator().manual_seed(0))


def test_changed_labels_invariant_to_cluster_relabelling():
    previous = np.array([0, 0, 1, 1, 2, 2, 2])
    assert count_changed_labels(previous, previous) == 0
    assert count_changed_labels(previous, np.array([2, 2, 0, 0, 1, 1, 1])) == 0
    # matching 2->0, 0->1, 1->2; only the last sample moved (from cluster 2 to cluster 1)
    current = np.array([2, 2, 0, 0, 1, 1, 0])
    assert count_changed_labels(previous, current) == 1
    permutation = np.array([1, 2, 0])
    assert count_changed_labels(permutation[previous], current) == 1
    assert count_changed_labels(previous, permutation[current]) == 1


# --- the estimator on digits --------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.data[:N_DIGITS] / 16).astype(np.float32), data.target[:N_DIGITS]


@pytest.fixture(scope="module")
def digits_autoencoder(digits):
    from deepclust.pretrain import pretrain_autoencoder

    model, _ = pretrain_autoencoder(digits[0], HIDDEN, EMBEDDING, epochs=20, batch_size=32, device="cpu",
                                    random_state=0, verbose=False)
    return model


def make(autoencoder, **overrides):
    params = dict(autoencoder=autoencoder, rounds=3, batch_size=40, n_init=3, device="cpu", random_state=0)
    return MetricLearningDC(10, **{**params, **overrides})


@pytest.fixture(scope="module")
def fitted(digits, digits_autoencoder):
    before = {k: v.clone() for k, v in digits_autoencoder.state_dict().items()}
    estimator = make(digits_autoencoder, tol=0.0).fit(*digits)
    return estimator, before


def test_fit_labels_history_and_embedding(fitted, digits):
    estimator, _ = fitted
    X, y = digits
    assert estimator.labels_.shape == (N_DIGITS,) and set(estimator.labels_) <= set(range(10))
    assert [row["round"] for row in estimator.history_] == [0, 1, 2, 3]
    assert [row["epoch"] for row in estimator.history_] == [0, 1, 2, 3]
    for row in estimator.history_[1:]:
        assert {"loss", "metric_loss", "reconstruction_loss", "labels_changed", "label_change", "acc",
                "nmi"} <= set(row)
        assert np.isfinite(row["loss"]) and 0 <= row["acc"] <= 1
        assert row["label_change"] == row["labels_changed"] / N_DIGITS
        assert row["loss"] == pytest.approx(row["metric_loss"] + row["reconstruction_loss"])
    assert estimator.history_[-1]["acc"] > 0.6
    z = estimator.transform(X)
    assert z.shape == (N_DIGITS, EMBEDDING) and z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)  # normalize=True
    assert estimator.cluster_centers_.shape == (10, EMBEDDING)
    # labels_ are the last k-means' on the final embedding: predict (nearest centre) agrees
    assert np.mean(estimator.predict(X) == estimator.labels_) >= 0.99
    assert estimator.n_rounds_ == 3 and not estimator.converged_


def test_passed_autoencoder_is_not_modified(fitted, digits_autoencoder):
    estimator, before = fitted
    after = digits_autoencoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    tuned = estimator.autoencoder_.state_dict()
    assert any(not torch.equal(before[k], tuned[k]) for k in before)


def test_same_random_state_gives_identical_results(fitted, digits, digits_autoencoder):
    estimator, _ = fitted
    again = make(digits_autoencoder, tol=0.0).fit(*digits)
    np.testing.assert_array_equal(again.labels_, estimator.labels_)
    np.testing.assert_array_equal(again.cluster_centers_, estimator.cluster_centers_)
    assert [r["loss"] for r in again.history_[1:]] == [r["loss"] for r in estimator.history_[1:]]


def test_autoencoder_save_load_round_trip(fitted, digits, tmp_path):
    estimator, _ = fitted
    networks.save(tmp_path / "model.pt", estimator.autoencoder_)
    loaded = networks.load(tmp_path / "model.pt")
    assert loaded.config == estimator.autoencoder_.config
    original = estimator.autoencoder_.state_dict()
    assert all(torch.equal(original[k], v) for k, v in loaded.state_dict().items())
    with torch.no_grad():
        x = torch.as_tensor(digits[0][:5])
        torch.testing.assert_close(loaded.encoder(x), estimator.autoencoder_.encoder(x))


@pytest.mark.parametrize("loss, normalize", [("semi_hard", True), ("contrastive", True), ("angular", True),
                                             ("npair", False)])
def test_other_losses_fit(loss, normalize, digits, digits_autoencoder):
    estimator = make(digits_autoencoder, loss=loss, normalize=normalize, rounds=2, margin=0.5).fit(digits[0])
    assert set(estimator.labels_) <= set(range(10))
    assert all(np.isfinite(row["loss"]) for row in estimator.history_[1:])
    assert all("acc" not in row for row in estimator.history_)  # no y given


def test_stops_when_few_labels_change(digits, digits_autoencoder):
    # every round changes fewer than all labels, so tol=1 stops after the first
    estimator = make(digits_autoencoder, tol=1.0, rounds=5).fit(digits[0])
    assert estimator.converged_ and estimator.n_rounds_ == 1 and len(estimator.history_) == 2


def test_without_reconstruction_the_decoder_is_untouched(digits, digits_autoencoder):
    estimator = make(digits_autoencoder, reconstruction_weight=0.0, normalize=False, rounds=1).fit(digits[0])
    decoder, tuned = digits_autoencoder.decoder.state_dict(), estimator.autoencoder_.decoder.state_dict()
    assert all(torch.equal(decoder[k], tuned[k]) for k in decoder)
    assert estimator.history_[-1]["reconstruction_loss"] == 0
    z = estimator.transform(digits[0])
    assert not np.allclose(np.linalg.norm(z, axis=1), 1.0)  # normalize=False: the raw embedding


def test_fit_pretrains_when_no_autoencoder_is_given(digits):
    estimator = make(None, pretrain_epochs=2, hidden_dims=(16,), embedding_dim=4, rounds=1).fit(digits[0])
    assert [row["epoch"] for row in estimator.pretrain_history_] == [1, 2]
    assert estimator.autoencoder_.config["hidden_dims"] == [16]
    assert estimator.transform(digits[0]).shape == (N_DIGITS, 4)


def test_clone_and_defaults(digits_autoencoder):
    estimator = make(digits_autoencoder, margin=0.3)
    params = estimator.get_params()
    assert params["margin"] == 0.3 and params["autoencoder"] is digits_autoencoder
    assert clone(estimator).get_params()["margin"] == 0.3
    defaults = MetricLearningDC().get_params()
    assert defaults["loss"] == "batch_hard" and defaults["samples_per_class"] == 4 and defaults["normalize"]


@pytest.mark.parametrize("params, message", [
    ({"loss": "lifted"}, "'loss' parameter of MetricLearningDC must be a str among"),
    ({"angle": 90.0}, r"'angle' parameter of MetricLearningDC must be a float in the range \(0.0, 90.0\)"),
    ({"norm_weight": -0.1}, r"'norm_weight' parameter of MetricLearningDC must be a float in the range \[0.0"),
    ({"margin": 0.0}, r"'margin' parameter of MetricLearningDC must be a float in the range \(0.0, inf\)"),
    ({"rounds": 0}, r"'rounds' parameter of MetricLearningDC must be an int in the range \[1, inf\)"),
    ({"epochs_per_round": 0}, r"'epochs_per_round' parameter of MetricLearningDC must be an int in the range \[1"),
    ({"samples_per_class": 1}, r"'samples_per_class' parameter of MetricLearningDC must be an int in the range \[2"),
    ({"batch_size": 6, "samples_per_class": 4}, "batch_size must hold at least 2 pseudo-classes"),
    ({"reconstruction_weight": -1.0}, r"'reconstruction_weight' parameter of MetricLearningDC must be a float"),
    ({"tol": 2.0}, r"'tol' parameter of MetricLearningDC must be a float in the range \[0.0, 1.0\]"),
])
def test_bad_params_raise(params, message, digits, digits_autoencoder):
    with pytest.raises(ValueError, match=message):
        make(digits_autoencoder, **params).fit(digits[0])
