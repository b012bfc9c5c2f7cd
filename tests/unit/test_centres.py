"""The centres figure's pieces: which clusters, each centre and its nearest members (known
answers on tiny arrays), the decoders of each kind of network, and the drawing."""

import numpy as np
import pytest
import torch
from matplotlib import image

from deepclust import centres, figures
from deepclust.nn import autoencoder
from deepclust.nn.vae import VariationalAutoencoder


def test_largest_clusters_leave_noise_out_largest_first():
    labels = np.array([2, 2, 2, -1, -1, -1, -1, 0, 5, 5, 0, 7])
    assert centres.largest_clusters(labels, 10).tolist() == [2, 0, 5, 7]   # ties (0, 5) by id
    assert centres.largest_clusters(labels, 2).tolist() == [2, 0]
    assert centres.largest_clusters(np.full(4, -1), 3).tolist() == []


def test_centre_rows_mean_image_and_nearest_members_in_the_clustered_space():
    # images are 2 pixels; the clustered space is 1-D and orders the members differently
    images = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [9.0, 9.0], [7.0, 7.0]])
    space = np.array([[0.0], [10.0], [2.0], [5.0], [6.0]])
    labels = np.array([0, 0, 0, 1, 1])
    rows = centres.centre_rows(images, space, labels, [1, 0], 2)
    assert rows.shape == (2, 3, 2)
    # cluster 1: mean image (8, 8); both members at distance 0.5 from 5.5: stable order 3, 4
    np.testing.assert_array_equal(rows[0], [[8.0, 8.0], [9.0, 9.0], [7.0, 7.0]])
    # cluster 0: centre 4 in space; nearest are sample 2 (d=2), then 0 (d=4), not 1 (d=6)
    np.testing.assert_array_equal(rows[1], [[1.0, 1.0], [2.0, 1.0], [0.0, 1.0]])


def test_centre_rows_decode_the_mean_in_the_space_and_pad_small_clusters():
    images = np.arange(8.0).reshape(4, 2)
    space = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 4.0], [0.0, 8.0]])
    labels = np.array([0, 0, 1, 1])
    seen = []

    def decode(z):
        seen.append(z.copy())
        return z * 10

    rows = centres.centre_rows(images, space, labels, [0, 1], 3, decode)
    np.testing.assert_array_equal(seen[0], [[2.0, 0.0], [0.0, 6.0]])   # one call, every centre
    np.testing.assert_array_equal(rows[:, 0], [[20.0, 0.0], [0.0, 60.0]])
    assert np.isnan(rows[:, 3]).all() and not np.isnan(rows[:, :3]).any()  # 2 members, 3 places


@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_decoder_of_an_autoencoder_gives_its_reconstruction_of_the_code(output):
    torch.manual_seed(0)
    model = autoencoder.make("mlp", 6, (5,), 2, output=output).eval()
    x = torch.rand(4, 6)
    with torch.no_grad():
        expected = model(x).numpy()
        code = model.encoder(x).numpy()
    np.testing.assert_allclose(centres.decoder(model)(code), expected, rtol=1e-6)


def test_decoder_of_a_vae_gives_the_mean_of_p_x_given_z():
    torch.manual_seed(0)
    vae = VariationalAutoencoder(autoencoder.make("mlp", 6, (5,), 2).config, "bernoulli").eval()
    z = np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)
    with torch.no_grad():
        expected = torch.sigmoid(vae.decoder(torch.as_tensor(z))).numpy()
    decoded = centres.decoder(vae)(z)
    np.testing.assert_allclose(decoded, expected, rtol=1e-6)
    assert ((decoded > 0) & (decoded < 1)).all()


def test_centres_grid_draws_grey_and_colour_panels_with_missing_images(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.random((3, 4, 8 * 8)) * 16          # data in [0, 16], as digits
    grey[2, 3] = np.nan                            # a cluster with fewer members
    colour = rng.random((2, 4, 3 * 8 * 8))
    figures.centres_grid({"dec": grey, "kmeans-raw": grey}, (1, 8, 8), (0.0, 16.0), tmp_path / "grey.png", "g")
    figures.centres_grid({"a": colour}, (3, 8, 8), (0.0, 1.0), tmp_path / "colour.png", "c")
    assert image.imread(tmp_path / "grey.png").shape[2] in (3, 4)
    assert image.imread(tmp_path / "colour.png").shape[2] in (3, 4)
    figures.centres_grid({}, (1, 8, 8), (0.0, 1.0), tmp_path / "none.png", "every labelling is noise")
    assert (tmp_path / "none.png").stat().st_size > 0


# ----------------------------------------------------------------------------- words of text clusters

def test_distinctive_terms_rank_by_excess_over_the_corpus_not_by_the_clusters_own_mean():
    from scipy.sparse import csr_matrix

    terms = ["subject", "orbit", "engine", "moon"]
    # "subject" is in every document with the largest weight; it sets no cluster apart
    tfidf = np.array([[0.9, 0.4, 0.0, 0.1],
                      [0.9, 0.3, 0.0, 0.2],
                      [0.9, 0.0, 0.5, 0.0],
                      [0.9, 0.0, 0.4, 0.0]])
    labels = np.array([0, 0, 1, 1])
    # cluster 0: orbit +0.175, moon +0.075, subject 0, engine -0.225; cluster 1: engine first
    expected = [["orbit", "moon", "subject"], ["engine", "subject", "moon"]]
    assert centres.distinctive_terms(tfidf, terms, labels, [0, 1], 3) == expected
    assert centres.distinctive_terms(csr_matrix(tfidf), terms, labels, [0, 1], 3) == expected


def test_terms_table_names_sizes_majority_classes_and_words():
    labels = np.array([1, 1, 1, 0, -1])
    y = np.array([0, 0, 1, 1, 1])
    table = centres.terms_table("t", "n", {"dec": (labels, [1, 0], [["orbit", "moon"], ["engine"]]),
                                           "dbscan": (np.full(5, -1), [], [])},
                                class_names=["sci.space", "rec.autos"], y=y)
    assert "| 1 | 3 | sci.space (67%) | orbit, moon |" in table
    assert "| 0 | 1 | rec.autos (100%) | engine |" in table
    assert "## dbscan" in table and "every document is noise" in table
    unlabelled = centres.terms_table("t", "n", {"dec": (labels, [1], [["orbit"]])})
    assert "| 1 | 3 | orbit |" in unlabelled and "class" not in unlabelled
