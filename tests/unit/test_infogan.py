"""InfoGAN: the mutual-information loss against hand values, the networks' shapes (28x28, 8x8, flat),
and the estimator's contract on a digits subset with tiny networks."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from torch import nn

from deepclust.methods.infogan import InfoGAN, categorical_nll, gaussian_nll, information_loss
from deepclust.nn import autoencoder, networks
from deepclust.nn.gan import InfoGANNet, downsampling_steps

DIGITS_SHAPE = (1, 8, 8)
TINY_NET = dict(hidden_dim=32, q_hidden_dim=16, filters=8, noise_dim=8)
TINY = dict(image_shape=DIGITS_SHAPE, batch_size=50, max_epochs=2, device="cpu", random_state=0, **TINY_NET)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


@pytest.fixture(scope="module")
def fitted(digits):
    return InfoGAN(10, **TINY).fit(*digits)


# --- the mutual-information loss -------------------------------------------------------------

def test_categorical_nll_is_cross_entropy_of_the_sampled_code():
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    # softmax = [1/4, 3/4]: -log(3/4) for code 1, -log(1/4) for code 0
    torch.testing.assert_close(categorical_nll(logits[:1], torch.tensor([1])), torch.tensor(math.log(4 / 3)))
    torch.testing.assert_close(categorical_nll(logits, torch.tensor([1, 0])),
                               torch.tensor((math.log(4 / 3) + math.log(4)) / 2))


def test_gaussian_nll_with_fixed_std():
    half_log_two_pi = 0.5 * math.log(2 * math.pi)
    mean, value = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    # summed over the two code dimensions: 0.5 * 1^2 + 0.5 * 0^2 + 2 * 0.5 log(2 pi)
    torch.testing.assert_close(gaussian_nll(mean, value), torch.tensor(0.5 + 2 * half_log_two_pi))
    torch.testing.assert_close(gaussian_nll(mean[:, :1], value[:, :1], std=2.0),
                               torch.tensor(0.5 * 0.25 + math.log(2.0) + half_log_two_pi))
    # averaged over the batch
    batch = gaussian_nll(torch.zeros(2, 1), torch.tensor([[1.0], [3.0]]))
    torch.testing.assert_close(batch, torch.tensor((0.5 + 4.5) / 2 + half_log_two_pi))


def test_information_loss_weights_the_two_terms():
    logits, codes = torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([1])
    means, continuous = torch.zeros(1, 1), torch.ones(1, 1)
    ce, nll = math.log(4 / 3), 0.5 + 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(information_loss(logits, codes, means, continuous, 2.0, 0.1),
                               torch.tensor(2.0 * ce + 0.1 * nll))
    # no continuous codes: the categorical term alone
    torch.testing.assert_close(information_loss(logits, codes, torch.zeros(1, 0), torch.zeros(1, 0)),
                               torch.tensor(ce))


# --- networks ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, steps", [((1, 28, 28), 2), ((1, 8, 8), 1), ((3, 32, 32), 3), ((1, 6, 6), 0),
                                          ((1, 7, 7), 0), ((1, 28, 8), 1)])
def test_downsampling_steps_halve_down_to_four_pixels(shape, steps):
    assert downsampling_steps(shape) == steps


def layers(module, kind):
    return [m for m in module.modules() if isinstance(m, kind)]


def test_mnist_layout_is_the_papers():
    net = InfoGANNet(784, image_shape=(1, 28, 28))
    assert net.latent_dim == 62 + 10 + 2
    assert [m.out_features for m in layers(net.generator, nn.Linear)] == [1024, 7 * 7 * 128]
    assert [(m.in_channels, m.out_channels) for m in layers(net.generator, nn.ConvTranspose2d)] == [(128, 64), (64, 1)]
    assert [(m.out_channels, m.kernel_size, m.stride) for m in layers(net.trunk, nn.Conv2d)] == \
        [(64, (4, 4), (2, 2)), (128, (4, 4), (2, 2))]
    assert [m.out_features for m in layers(net.trunk, nn.Linear)] == [1024]
    assert net.discriminator_head.out_features == 1
    assert [m.out_features for m in layers(net.recognition_head, nn.Linear)] == [128, 12]
    # batch norm everywhere but on the trunk's first convolution and the generator's output
    assert len(layers(net.trunk, nn.BatchNorm2d)) == 1 and len(layers(net.generator, nn.BatchNorm2d)) == 1


@pytest.mark.parametrize("data_dim, image_shape, convolutional", [
    (784, (1, 28, 28), True), (64, (1, 8, 8), True), (10, None, False)], ids=["28x28", "8x8", "flat"])
def test_shapes_of_g_d_and_q(data_dim, image_shape, convolutional):
    net = InfoGANNet(data_dim, n_categories=4, n_continuous=3, image_shape=image_shape, **TINY_NET)
    assert bool(layers(net, nn.Conv2d)) == convolutional
    noise, codes, continuous = net.sample_prior(5, torch.Generator().manual_seed(0))
    assert noise.shape == (5, 8) and codes.shape == (5,) and continuous.shape == (5, 3)
    assert 0 <= codes.min() and codes.max() < 4 and noise.abs().max() <= 1 and continuous.abs().max() <= 1
    latent = net.latent(noise, codes, continuous)
    assert latent.shape == (5, net.latent_dim) and torch.equal(latent[:, 8:12].argmax(1), codes)
    fake = net(latent)
    assert fake.shape == (5, data_dim) and 0 <= fake.min() and fake.max() <= 1
    d_logit, code_logits, means = net.discriminate(fake)
    assert d_logit.shape == (5,) and code_logits.shape == (5, 4) and means.shape == (5, 3)
    torch.testing.assert_close(net.code_logits(fake), code_logits)


def test_image_shape_must_match_the_features():
    with pytest.raises(ValueError, match=r"image_shape \[1, 28, 28\] has 784 values but the data has 64"):
        InfoGANNet(64, image_shape=(1, 28, 28))


# --- the estimator ---------------------------------------------------------------------------

def test_labels_history_and_embedding(fitted, digits):
    X, y = digits
    assert fitted.labels_.shape == (len(X),) and set(np.unique(fitted.labels_)) <= set(range(10))
    assert [row["epoch"] for row in fitted.history_] == [1, 2]
    for row in fitted.history_:
        assert {"epoch", "loss", "d_loss", "g_loss", "info_loss", "acc", "nmi"} <= set(row)
        assert row["loss"] == pytest.approx(row["g_loss"] + row["info_loss"])
        assert all(np.isfinite(row[k]) for k in ("loss", "d_loss", "g_loss", "info_loss"))
    embedding = fitted.transform(X)
    assert embedding.shape == (len(X), 10) and embedding.dtype == np.float32
    np.testing.assert_array_equal(embedding.argmax(1), fitted.labels_)
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)


def test_training_changes_every_part(digits):
    estimator = InfoGAN(10, **{**TINY, "max_epochs": 1}).fit(digits[0])
    torch.manual_seed(TINY["random_state"])  # fit seeds torch before building the net
    initial = InfoGANNet(64, 10, 2, image_shape=DIGITS_SHAPE, **TINY_NET)
    trained = estimator.autoencoder_
    for part in ("generator", "trunk", "discriminator_head", "recognition_head"):
        before, after = getattr(initial, part).state_dict(), getattr(trained, part).state_dict()
        assert all(not torch.equal(before[k], after[k]) for k in before if k.endswith("weight")), part
    assert all("acc" not in row for row in estimator.history_)


def test_same_seed_same_result_and_autoencoder_is_ignored(fitted, digits):
    ignored = autoencoder.MLPAutoencoder(64, (8,), 2)
    again = InfoGAN(10, autoencoder=ignored, **TINY).fit(*digits)
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    assert again.history_ == fitted.history_
    state, other = fitted.autoencoder_.state_dict(), again.autoencoder_.state_dict()
    assert all(torch.equal(state[k], other[k]) for k in state)
    different = InfoGAN(10, **{**TINY, "random_state": 1}).fit(*digits)
    assert different.history_ != fitted.history_


def test_generate_per_code(fitted):
    images = fitted.generate(3, random_state=5)
    assert images.shape == (10, 3, 64) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(images, fitted.generate(3, random_state=5))
    assert not np.array_equal(images[0], images[1])  # the code changes the image


def test_save_load_round_trip(fitted, digits, tmp_path):
    networks.save(tmp_path / "infogan.pt", fitted.autoencoder_)
    loaded = networks.load(tmp_path / "infogan.pt")
    assert isinstance(loaded, InfoGANNet) and loaded.config == fitted.autoencoder_.config
    assert loaded.config["kind"] == "infogan" and loaded.config["image_shape"] == [1, 8, 8]
    X = torch.as_tensor(digits[0])
    with torch.no_grad():
        torch.testing.assert_close(loaded.code_logits(X), fitted.autoencoder_.code_logits(X))


def test_flat_data_and_a_last_batch_of_one(digits):
    # 21 rows in batches of 10: the single row left over is skipped (batch norm needs two)
    X = digits[0][:21, :10]
    estimator = InfoGAN(3, **{**TINY, "image_shape": None, "batch_size": 10}).fit(X)
    assert layers(estimator.autoencoder_, nn.Conv2d) == []
    assert estimator.labels_.shape == (21,) and estimator.generate(2).shape == (3, 2, 10)


@pytest.mark.parametrize("bad", [-0.1, 1.5], ids=["negative", "above-one"])
def test_data_outside_unit_interval_is_refused(bad, digits, fitted):
    X = digits[0].copy()
    X[0, 0] = bad
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\].*minmax"):
        InfoGAN(10, **TINY).fit(X)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        fitted.transform(X)


@pytest.mark.parametrize("params, message", [
    (dict(n_clusters=1), r"'n_clusters' parameter of InfoGAN must be an int in the range \[2, inf\)"),
    (dict(batch_size=1), r"'batch_size' parameter of InfoGAN must be an int in the range \[2, inf\)"),
    (dict(noise_dim=-1), r"'noise_dim' parameter of InfoGAN must be an int in the range \[0, inf\)"),
    (dict(lambda_continuous=-1.0), r"'lambda_continuous' parameter of InfoGAN must be a float in the range \[0.0"),
    (dict(g_lr=0.0), r"'g_lr' parameter of InfoGAN must be a float in the range \(0.0, inf\)"),
    (dict(betas=(0.5, 1.0)), r"'betas' parameter of InfoGAN must be a list or tuple of 2 floats in the range "
                             r"\[0.0, 1.0\)"),
    (dict(image_shape=(1, 28, 28)), "image_shape .* has 784 values but the data has 64 features"),
])
def test_bad_parameters_raise(params, message, digits):
    with pytest.raises(ValueError, match=message):
        InfoGAN(**{**TINY, "n_clusters": 10, **params}).fit(digits[0])


def test_defaults_and_clone():
    params = InfoGAN().get_params()
    assert params["noise_dim"] == 62 and params["n_continuous"] == 2 and params["batch_size"] == 100
    assert params["d_lr"] == 2e-4 and params["g_lr"] == 1e-3 and params["betas"] == (0.5, 0.999)
    assert params["lambda_categorical"] == 1.0 and params["autoencoder"] is None
    cloned = clone(InfoGAN(4, **TINY))
    assert cloned.get_params()["n_clusters"] == 4 and not hasattr(cloned, "labels_")
