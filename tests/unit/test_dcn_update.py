import torch

from deepclust.methods.dcn import update_centers


def sequential(centers, counts, z, labels):
    centers, counts = centers.clone(), counts.clone()
    for sample, k in zip(z, labels.tolist()):
        counts[k] += 1
        centers[k] += (sample - centers[k]) / counts[k]
    return centers, counts


def test_batched_update_equals_one_sample_at_a_time():
    generator = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 3, generator=generator, dtype=torch.float64)
    counts = torch.randint(1, 200, (4,), generator=generator).to(torch.float64)
    z = torch.randn(60, 3, generator=generator, dtype=torch.float64) * 2
    labels = torch.randint(0, 3, (60,), generator=generator)  # cluster 3 gets no member
    expected_centers, expected_counts = sequential(centers, counts, z, labels)

    c, n = centers.clone(), counts.clone()
    c_id, n_id = c.data_ptr(), n.data_ptr()
    assert update_centers(c, n, z, labels) is None  # in place
    assert c.data_ptr() == c_id and n.data_ptr() == n_id
    torch.testing.assert_close(c, expected_centers, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(n, expected_counts)
    torch.testing.assert_close(c[3], centers[3])  # no member: unchanged
    assert n[3] == counts[3]
    assert not torch.equal(c[:3], centers[:3])


def test_batched_update_float32_and_repeated_batches():
    generator = torch.Generator().manual_seed(1)
    centers = torch.randn(5, 2, generator=generator)
    counts = torch.full((5,), 100.0)
    c, n = centers.clone(), counts.clone()
    expected_c, expected_n = centers.clone(), counts.clone()
    for _ in range(3):
        z = torch.randn(32, 2, generator=generator)
        labels = torch.cdist(z, c).argmin(1)
        expected_c, expected_n = sequential(expected_c, expected_n, z, labels)
        update_centers(c, n, z, labels)
    torch.testing.assert_close(c, expected_c, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(n, expected_n)
    assert n.sum().item() == 500 + 3 * 32


def test_count_one_moves_centre_onto_the_sample_mean():
    # with count 0 before the batch, the centre becomes the mean of its new members
    centers = torch.tensor([[10.0, 10.0]])
    counts = torch.tensor([0.0])
    z = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    update_centers(centers, counts, z, torch.tensor([0, 0]))
    torch.testing.assert_close(centers, torch.tensor([[2.0, 3.0]]))
    assert counts.item() == 2.0
