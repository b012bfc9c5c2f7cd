import math

import pytest
import torch

from deepclust.losses import (kl_clustering_loss, kmeans_loss, reconstruction_loss, squared_distances,
                              student_t_assignment, target_distribution)


def entropy(p):
    return -(p * p.clamp_min(1e-12).log()).sum(dim=1)


def test_student_t_hand_example():
    z = torch.tensor([[0.0, 0.0]])
    centers = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    # alpha=1: kernel (1 + d^2)^-1 -> [1, 1/2] -> normalised [2/3, 1/3]
    torch.testing.assert_close(student_t_assignment(z, centers), torch.tensor([[2 / 3, 1 / 3]]))
    # alpha=2: (1 + d^2/2)^-1.5 -> [1, 1.5^-1.5]
    k = 1.5 ** -1.5
    torch.testing.assert_close(student_t_assignment(z, centers, alpha=2.0), torch.tensor([[1 / (1 + k), k / (1 + k)]]))


def test_student_t_rows_sum_to_one_and_nearest_centre_wins():
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(50, 4, generator=generator)
    centers = torch.randn(5, 4, generator=generator) * 3
    for alpha in (1.0, 0.5, 3.0):
        q = student_t_assignment(z, centers, alpha)
        assert q.shape == (50, 5)
        assert (q > 0).all()
        torch.testing.assert_close(q.sum(dim=1), torch.ones(50))
        assert torch.equal(q.argmax(dim=1), torch.cdist(z, centers).argmin(dim=1))


def test_assignments_use_exact_distances_beyond_25_rows():
    """cdist's default above 25 rows is ||z||^2 + ||mu||^2 - 2 z.mu, which cancels distances that
    are small beside the norms; DEC's q and DCN's nearest centre (squared_distances) take the
    differences, and find the nearest centre where that form does not."""
    generator = torch.Generator().manual_seed(0)
    centers = 1000 + 0.1 * torch.randn(4, 10, generator=generator)   # far from the origin, close together
    z = centers[torch.arange(64) % 4] + 0.01 * torch.randn(64, 10, generator=generator)
    exact = (z.double()[:, None] - centers.double()[None]).pow(2).sum(-1)
    nearest = exact.argmin(1)
    assert not torch.equal(torch.cdist(z, centers).argmin(1), nearest)  # the matrix-product form misses
    torch.testing.assert_close(squared_distances(z, centers).double(), exact, rtol=1e-5, atol=0)
    assert torch.equal(student_t_assignment(z, centers).argmax(1), nearest)


def test_target_distribution_hand_example():
    q = torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    # f = [1.4, 0.6]; row 0: 0.25/1.4 : 0.25/0.6 = 0.3 : 0.7; row 1: 0.81/1.4 : 0.01/0.6 = 2.43 : 0.07
    expected = torch.tensor([[0.3, 0.7], [0.972, 0.028]], dtype=torch.float64)
    torch.testing.assert_close(target_distribution(q), expected)


def test_target_distribution_uses_global_cluster_frequency():
    q = torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    # computed on the first row alone, f = [0.5, 0.5] and the row would stay [0.5, 0.5]
    torch.testing.assert_close(target_distribution(q[:1]), torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    torch.testing.assert_close(target_distribution(q)[:1], torch.tensor([[0.3, 0.7]], dtype=torch.float64))


def test_target_distribution_is_sharper_than_q():
    # circulant q: every cluster has the same frequency, so p_ij is proportional to q_ij^2
    q = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.7, 0.2], [0.2, 0.1, 0.7]])
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(dim=1), torch.ones(3))
    torch.testing.assert_close(p[0], torch.tensor([49.0, 4.0, 1.0]) / 54)
    assert (p.max(dim=1).values > q.max(dim=1).values).all()
    assert (entropy(p) < entropy(q)).all()
    assert torch.equal(p.argmax(dim=1), q.argmax(dim=1))


def test_target_distribution_on_random_assignments():
    generator = torch.Generator().manual_seed(1)
    centers = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    z = centers[torch.arange(90) % 3] + torch.randn(90, 2, generator=generator)
    q = student_t_assignment(z, centers)
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(dim=1), torch.ones(90))
    assert entropy(p).mean() < entropy(q).mean()
    assert p.max(dim=1).values.mean() > q.max(dim=1).values.mean()


def test_kl_is_zero_for_equal_distributions():
    q = torch.tensor([[0.2, 0.8], [0.6, 0.4]])
    assert kl_clustering_loss(q, q).item() == 0.0


def test_kl_hand_value_and_positivity():
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    q = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    # row 0: log 2 (the zero entry contributes 0); row 1: 0; averaged over the two samples
    assert kl_clustering_loss(p, q).item() == pytest.approx(math.log(2) / 2)
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(10, 4, generator=generator)
    b = torch.rand(10, 4, generator=generator)
    a, b = a / a.sum(1, keepdim=True), b / b.sum(1, keepdim=True)
    assert kl_clustering_loss(a, b).item() > 0


def test_kl_gradient_step_moves_embeddings_towards_their_centres():
    generator = torch.Generator().manual_seed(0)
    centers = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    z = (centers[torch.arange(90) % 3] + torch.randn(90, 2, generator=generator)).requires_grad_()
    q = student_t_assignment(z, centers)
    p = target_distribution(q).detach()
    kl_clustering_loss(p, q).backward()
    nearest = torch.cdist(z, centers).argmin(dim=1)
    with torch.no_grad():
        before = (z - centers[nearest]).norm(dim=1)
        moved = z - 0.1 * len(z) * z.grad
        after = (moved - centers[nearest]).norm(dim=1)
    assert after.mean() < before.mean()
    assert (after < before).float().mean() >= 0.9


def test_kmeans_loss_hand_example():
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    centers = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assignments = torch.tensor([0, 1, 1])
    # squared distances to own centre: 1, 25, 2 -> mean 28/3
    assert kmeans_loss(z, centers, assignments).item() == pytest.approx(28 / 3)
    assert kmeans_loss(z, centers, torch.tensor([0, 0, 0])).item() == pytest.approx((1 + 20 + 1) / 3)


def test_reconstruction_loss_is_mean_squared_error():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    x_hat = torch.tensor([[1.0, 1.0], [2.0, 0.0]])
    assert reconstruction_loss(x_hat, x).item() == pytest.approx((1 + 0 + 0 + 9) / 4)
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 5, generator=generator), torch.randn(7, 5, generator=generator)
    torch.testing.assert_close(reconstruction_loss(a, b), torch.nn.functional.mse_loss(a, b))
