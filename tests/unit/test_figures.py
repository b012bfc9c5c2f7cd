"""Figures that need more than a smoke test: the sample mosaic's layout."""

import numpy as np
from matplotlib import image

from deepclust import figures


def test_samples_grid_draws_grey_and_colour_mosaics(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.random((3, 4, 1 * 8 * 8))  # 3 clusters x 4 samples of 8x8
    colour = rng.random((3, 4, 3 * 8 * 8))
    figures.samples_grid({"vade": grey}, (1, 8, 8), tmp_path / "grey.png", "grey")
    figures.samples_grid({"a": colour, "b": colour}, (3, 8, 8), tmp_path / "colour.png", "colour")
    assert image.imread(tmp_path / "grey.png").shape[2] in (3, 4)
    assert image.imread(tmp_path / "colour.png").shape[1] > image.imread(tmp_path / "grey.png").shape[1]


def test_mosaic_puts_one_cluster_per_row_and_keeps_channels_last():
    k, n, c, h, w = 2, 3, 3, 2, 2
    images = np.arange(k * n * c * h * w, dtype=float).reshape(k, n, c * h * w)
    picture = figures.mosaic(images, (c, h, w))
    assert picture.shape == (k * h, n * w, c)
    first = images[0, 0].reshape(c, h, w).transpose(1, 2, 0)  # cluster 0, sample 0: top left
    np.testing.assert_array_equal(picture[:h, :w], first)
    np.testing.assert_array_equal(picture[h:, w:2 * w], images[1, 1].reshape(c, h, w).transpose(1, 2, 0))
