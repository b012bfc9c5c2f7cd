"""The plain VAE that `nets.<id>.kind: vae` pretrains (the VAE of VAE + agglomerative): its
negative ELBO by hand, training, its embedding and refusals."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from deepclust.nn import autoencoder
from deepclust.nn.vae import VariationalAutoencoder, negative_log_likelihood, standard_elbo
from deepclust.pretrain import embed, pretrain_autoencoder


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return (X[:200] / 16).astype(np.float32)


def tiny_vae(likelihood="gaussian"):
    base = autoencoder.make("mlp", 3, hidden_dims=[4], embedding_dim=2).config
    return VariationalAutoencoder(base, likelihood)


def test_standard_elbo_by_hand():
    torch.manual_seed(0)
    model = tiny_vae()
    x = torch.rand(5, 3)
    with torch.no_grad():  # q(z|x) = N(mean, 0): the sample is the mean, KL = mean^2 / 2 + (e^lv - 1 - lv) / 2
        model.log_var.bias.fill_(-60.0)
    mean, log_var = model.encode(x)
    kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(1)
    expected = (negative_log_likelihood(x, model.decoder(mean), "gaussian") + kl).mean()
    torch.testing.assert_close(standard_elbo(model, x), expected)
    # KL of N(0, 1) against N(0, 1) is 0; against N(1, e): (1 + e - 1 - 1) / 2 per dimension
    zero, one = torch.zeros(1, 2), torch.ones(1, 2)
    assert float((0.5 * (zero.pow(2) + zero.exp() - 1 - zero)).sum()) == 0
    assert float((0.5 * (one.pow(2) + one.exp() - 1 - one)).sum()) == pytest.approx(2 * (math.e - 1) / 2)


def test_denoising_target_is_the_clean_input():
    torch.manual_seed(0)
    model = tiny_vae()
    x, noisy = torch.rand(4, 3), torch.zeros(4, 3)
    torch.manual_seed(1)
    a = standard_elbo(model, noisy, x)
    torch.manual_seed(1)
    b = standard_elbo(model, noisy)
    assert a != b


def test_pretraining_a_vae_lowers_its_elbo_and_embeds_by_the_posterior_mean(digits):
    model, history = pretrain_autoencoder(digits, hidden_dims=[32], embedding_dim=3, epochs=5, batch_size=50,
                                          kind="vae", likelihood="bernoulli", device="cpu", verbose=False)
    assert isinstance(model, VariationalAutoencoder) and model.config["likelihood"] == "bernoulli"
    losses = [row["loss"] for row in history]
    assert losses[-1] < losses[0]
    z = embed(model, digits)
    mean, _ = model.encode(torch.as_tensor(digits))
    np.testing.assert_allclose(z, mean.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bernoulli_vae_refuses_data_outside_the_unit_interval(digits):
    with pytest.raises(ValueError, match=r"likelihood 'bernoulli' needs features in \[0, 1\], got \[0, 16\]"):
        pretrain_autoencoder(digits * 16, epochs=1, kind="vae", device="cpu", verbose=False)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        pretrain_autoencoder(digits, epochs=1, kind="vae", likelihood="poisson", device="cpu", verbose=False)
