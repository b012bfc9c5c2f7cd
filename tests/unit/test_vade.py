"""VaDE: its ELBO terms against hand computations, the cluster posterior, the VAE built on the
shared autoencoder, and the estimator on a digits subset."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from torch.distributions import Independent, Normal, kl_divergence

from deepclust.methods.vade import GaussianMixturePrior, VaDE, initial_mixture, latent_kl, negative_elbo, rescale_latent
from deepclust.nn.vae import negative_log_likelihood
from deepclust.metrics import cluster_accuracy
from deepclust.nn import networks
from deepclust.nn.autoencoder import ConvAutoencoder
from deepclust.nn.vae import VariationalAutoencoder
from deepclust.pretrain import pretrain_autoencoder

from .helpers import EMBEDDING, N_CLUSTERS

DIGITS_CLUSTERS = 10
SETTINGS = dict(max_epochs=4, batch_size=50, decay_every=2, min_lr=0.0019, device="cpu", random_state=0)


def prior_of(weights, means, variances):
    return GaussianMixturePrior(*np.shape(means)).set_mixture(np.array(weights), np.array(means), np.array(variances))


# ---- the ELBO's terms --------------------------------------------------------------------------

def test_latent_kl_with_one_cluster_in_1d_is_the_gaussians_kl():
    # q(z|x) = N(0.3, 0.25), p(z) = N(1, 4): KL = log(2 / 0.5) + (0.25 + 0.7^2) / (2 * 4) - 1/2
    prior = prior_of([1.0], [[1.0]], [[4.0]])
    mean, log_var = torch.tensor([[0.3]]), torch.log(torch.tensor([[0.25]]))
    log_gamma = torch.zeros(1, 1)  # a single cluster: gamma = 1, log pi = 0
    expected = math.log(4.0) + (0.25 + 0.49) / 8 - 0.5
    torch.testing.assert_close(latent_kl(mean, log_var, log_gamma, prior), torch.tensor([expected]))


def test_latent_kl_is_the_expected_gaussian_kl_plus_kl_of_the_cluster_posterior():
    # KL(q(z,c|x) || p(z,c)) = sum_c gamma_c KL(q(z|x) || p(z|c)) + KL(gamma || pi)
    generator = torch.Generator().manual_seed(0)
    n, k, j = 4, 3, 2
    prior = prior_of([0.2, 0.3, 0.5], torch.randn(k, j, generator=generator).numpy(),
                     torch.rand(k, j, generator=generator).numpy() + 0.5)
    mean, log_var = torch.randn(n, j, generator=generator), torch.randn(n, j, generator=generator)
    log_gamma = torch.log_softmax(torch.randn(n, k, generator=generator), dim=1)
    with torch.no_grad():
        q = Independent(Normal(mean[:, None], (0.5 * log_var[:, None]).exp()), 1)
        p = Independent(Normal(prior.means, (0.5 * prior.log_vars).exp()), 1)
        gaussian_kl = kl_divergence(q, p)  # (n, k)
        gamma, log_pi = log_gamma.exp(), torch.log(torch.tensor([0.2, 0.3, 0.5]))
        expected = (gamma * gaussian_kl).sum(1) + (gamma * (log_gamma - log_pi)).sum(1)
        torch.testing.assert_close(latent_kl(mean, log_var, log_gamma, prior), expected)


def test_negative_log_likelihoods_by_hand():
    x = torch.tensor([[0.0, 1.0, 0.5]])
    logits = torch.tensor([[0.0, 2.0, -1.0]])
    # -[x log s(l) + (1 - x) log(1 - s(l))], with -log s(l) = log(1 + e^-l) and -log(1 - s(l)) = log(1 + e^l)
    bernoulli = math.log(2) + math.log(1 + math.exp(-2)) + 0.5 * math.log(1 + math.e) + 0.5 * math.log(1 + 1 / math.e)
    torch.testing.assert_close(negative_log_likelihood(x, logits, "bernoulli"), torch.tensor([bernoulli]))
    mean = torch.tensor([[0.1, 0.5, 0.5]])
    torch.testing.assert_close(negative_log_likelihood(x, mean, "gaussian"), torch.tensor([0.01 + 0.25 + 0.0]))


def test_cluster_posterior_is_bayes_rule():
    # pi = (1/4, 3/4), p(z|c) = N(0, 1) and N(2, 1)
    prior = prior_of([0.25, 0.75], [[0.0], [2.0]], [[1.0], [1.0]])
    with torch.no_grad():
        gamma = prior.log_posterior(torch.tensor([[1.0], [0.0]])).exp()
    # z = 1 is as likely under both components: the posterior is the prior
    torch.testing.assert_close(gamma[0], torch.tensor([0.25, 0.75]))
    # z = 0: p(z|1) / p(z|2) = e^(-0) / e^(-2)
    first = 0.25 / (0.25 + 0.75 * math.exp(-2))
    torch.testing.assert_close(gamma[1], torch.tensor([first, 1 - first]))
    log_joint = prior.log_joint(torch.tensor([[0.0]]))
    expected = torch.log(torch.tensor([0.25, 0.75])) - 0.5 * math.log(2 * math.pi) - torch.tensor([0.0, 2.0])
    torch.testing.assert_close(log_joint[0], expected)


def test_cluster_posterior_rows_sum_to_one_and_pi_stays_on_the_simplex():
    generator = torch.Generator().manual_seed(1)
    prior = prior_of([0.1, 0.2, 0.3, 0.4], torch.randn(4, 3, generator=generator).numpy(), np.ones((4, 3)))
    with torch.no_grad():
        prior.logits.add_(torch.randn(4, generator=generator) * 5)  # any logits are a distribution
        gamma = prior.log_posterior(torch.randn(50, 3, generator=generator) * 10).exp()
        weights = prior.log_weights().exp()
    torch.testing.assert_close(gamma.sum(1), torch.ones(50))
    assert (gamma >= 0).all() and (weights > 0).all()
    torch.testing.assert_close(weights.sum(), torch.tensor(1.0))


def test_negative_elbo_is_reconstruction_of_the_sample_plus_latent_kl(pretrained, blobs):
    model = VariationalAutoencoder.from_autoencoder(pretrained[0], "bernoulli")
    generator = torch.Generator().manual_seed(2)
    means = torch.randn(N_CLUSTERS, EMBEDDING, generator=generator).numpy()
    prior = prior_of(np.full(N_CLUSTERS, 1 / N_CLUSTERS), means, np.ones((N_CLUSTERS, EMBEDDING)))
    x = torch.as_tensor(blobs[0][:6])
    noise = torch.randn(6, EMBEDDING, generator=generator)
    with torch.no_grad():
        model.log_var.bias.fill_(math.log(0.09))
        mean, log_var = model.encode(x)
        z = mean + 0.3 * noise
        expected = (negative_log_likelihood(x, model.decoder(z), "bernoulli")
                    + latent_kl(mean, log_var, prior.log_posterior(z), prior))
        torch.testing.assert_close(negative_elbo(x, model, prior, noise), expected)


# ---- the VAE network ---------------------------------------------------------------------------

def test_vae_starts_at_the_autoencoder_and_leaves_it_unchanged(pretrained, blobs):
    ae = pretrained[0]
    x = torch.as_tensor(blobs[0][:10])
    before = {k: v.clone() for k, v in ae.state_dict().items()}
    vae = VariationalAutoencoder.from_autoencoder(ae, "gaussian")
    assert vae.config == {"kind": "vae", "base": ae.config, "likelihood": "gaussian"}
    with torch.no_grad():
        mean, log_var = vae.encode(x)
        torch.testing.assert_close(mean, ae.encoder(x))
        torch.testing.assert_close(vae.encoder(x), ae.encoder(x))
        assert torch.equal(log_var, torch.zeros_like(log_var))
        torch.testing.assert_close(vae(x), ae(x))
        bernoulli = VariationalAutoencoder.from_autoencoder(ae, "bernoulli")
        torch.testing.assert_close(bernoulli(x), torch.sigmoid(ae(x)))
        for parameter in vae.parameters():
            parameter.add_(1.0)
    assert all(torch.equal(before[k], v) for k, v in ae.state_dict().items())


def test_vae_from_a_conv_autoencoder_round_trips(tmp_path):
    torch.manual_seed(0)
    cae = ConvAutoencoder((1, 8, 8), filters=(2, 3, 4), embedding_dim=3)
    vae = VariationalAutoencoder.from_autoencoder(cae)
    x = torch.rand(5, 64)
    torch.testing.assert_close(vae.encoder(x), cae.encoder(x))
    networks.save(tmp_path / "vae.pt", vae)
    loaded = networks.load(tmp_path / "vae.pt")
    assert loaded.config == vae.config and loaded.config["base"]["kind"] == "cae"
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), vae(x))


@pytest.mark.parametrize("base, likelihood, message", [
    ({"kind": "vae"}, "bernoulli", "kind 'mlp' or 'cae', not 'vae'"),
    ({}, "bernoulli", "kind 'mlp' or 'cae', not None"),
    ({"kind": "mlp", "input_dim": 4, "hidden_dims": [3], "embedding_dim": 2}, "poisson", "likelihood must be one of"),
])
def test_vae_refuses_other_bases_and_likelihoods(base, likelihood, message):
    with pytest.raises(ValueError, match=message):
        VariationalAutoencoder(base, likelihood)


# ---- the estimator on digits -------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    X, y = (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)
    return X[:400], y[:400]


@pytest.fixture(scope="module")
def digits_ae(digits):
    model, _ = pretrain_autoencoder(digits[0], (64,), 10, epochs=15, batch_size=32, device="cpu",
                                    random_state=0, verbose=False)
    return model


@pytest.fixture(scope="module")
def fitted(digits, digits_ae):
    before = {k: v.clone() for k, v in digits_ae.state_dict().items()}
    estimator = VaDE(DIGITS_CLUSTERS, autoencoder=digits_ae, **SETTINGS)
    return estimator, estimator.fit(*digits), before


def test_fit_on_digits(fitted, digits):
    estimator, returned, _ = fitted
    X, y = digits
    assert returned is estimator
    assert estimator.labels_.shape == (len(X),)
    assert set(np.unique(estimator.labels_)) <= set(range(DIGITS_CLUSTERS))
    assert cluster_accuracy(y, estimator.labels_) > 0.5  # chance: about 0.1
    np.testing.assert_array_equal(estimator.predict(X), estimator.labels_)
    proba = estimator.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert estimator.transform(X).shape == (len(X), 10)
    assert estimator.cluster_centers_.shape == estimator.covariances_.shape == (DIGITS_CLUSTERS, 10)
    assert (estimator.covariances_ > 0).all()
    np.testing.assert_allclose(estimator.weights_.sum(), 1.0, rtol=1e-5)


def test_history_has_one_row_per_epoch_and_the_decayed_learning_rate(fitted):
    history = fitted[0].history_
    assert [row["epoch"] for row in history] == list(range(SETTINGS["max_epochs"] + 1))
    assert all({"loss", "lr", "acc", "nmi"} <= set(row) and np.isfinite(row["loss"]) for row in history)
    assert all(0 <= row["label_change"] <= 1 for row in history[1:])
    assert history[-1]["loss"] < history[0]["loss"]
    # 0.002 decayed by 0.9 every 2 epochs, floored at 0.0019
    assert [row["lr"] for row in history[1:]] == pytest.approx([0.002, 0.002, 0.0019, 0.0019])


def test_passed_autoencoder_is_not_modified(fitted, digits_ae):
    estimator, _, before = fitted
    assert all(torch.equal(before[k], v) for k, v in digits_ae.state_dict().items())
    assert estimator.autoencoder_.config == {"kind": "vae", "base": digits_ae.config, "likelihood": "bernoulli"}


def test_same_random_state_gives_identical_results(fitted, digits, digits_ae):
    again = VaDE(DIGITS_CLUSTERS, autoencoder=digits_ae, **SETTINGS).fit(*digits)
    np.testing.assert_array_equal(again.labels_, fitted[0].labels_)
    np.testing.assert_array_equal(again.cluster_centers_, fitted[0].cluster_centers_)
    assert [row["loss"] for row in again.history_] == [row["loss"] for row in fitted[0].history_]


def test_save_load_round_trip_in_a_fresh_process(fitted, digits, tmp_path):
    estimator = fitted[0]
    path = tmp_path / "vade.pt"
    networks.save(path, estimator.autoencoder_)
    # `load` rebuilds the VAE without its module having been imported
    script = ("import sys, numpy as np, torch; from deepclust.nn import networks; "
              "assert 'deepclust.nn.vae' not in sys.modules; model = networks.load(sys.argv[1]); "
              "x = torch.as_tensor(np.load(sys.argv[2])); np.save(sys.argv[2], model.encoder(x).detach().numpy())")
    np.save(tmp_path / "x.npy", digits[0][:20])
    subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / "x.npy")], check=True)
    np.testing.assert_allclose(np.load(tmp_path / "x.npy"), estimator.transform(digits[0][:20]), rtol=1e-6)
    loaded = networks.load(path)
    assert loaded.config == estimator.autoencoder_.config
    with torch.no_grad():
        x = torch.as_tensor(digits[0][:20])
        torch.testing.assert_close(loaded(x), estimator.autoencoder_(x))


def test_sample_gives_decoded_samples_per_cluster(fitted):
    estimator = fitted[0]
    samples = estimator.sample(3, random_state=5)
    assert samples.shape == (DIGITS_CLUSTERS, 3, 64)
    assert samples.min() >= 0 and samples.max() <= 1  # Bernoulli means
    np.testing.assert_array_equal(samples, estimator.sample(3, random_state=5))
    assert not np.array_equal(samples, estimator.sample(3, random_state=6))


def test_clone_keeps_parameters(digits_ae):
    estimator = VaDE(DIGITS_CLUSTERS, autoencoder=digits_ae, likelihood="gaussian", lr=0.01)
    cloned = clone(estimator)
    assert cloned.get_params()["likelihood"] == "gaussian" and cloned.get_params()["lr"] == 0.01
    assert VaDE().get_params()["batch_size"] == 100 and VaDE().get_params()["lr"] == 0.002


@pytest.mark.parametrize("params, X, message", [
    (dict(likelihood="poisson"), None, "'likelihood' parameter of VaDE must be a str among"),
    (dict(lr=0.0), None, r"'lr' parameter of VaDE must be a float in the range \(0.0, inf\)"),
    (dict(lr_decay=1.5), None, r"'lr_decay' parameter of VaDE must be a float in the range \(0.0, 1.0\]"),
    (dict(batch_size=0), None, r"'batch_size' parameter of VaDE must be an int in the range \[1, inf\)"),
    (dict(decoder_warmup_epochs=-1), None, r"'decoder_warmup_epochs' parameter of VaDE must be an int in the"),
    (dict(latent_scale=0), None, r"'latent_scale' parameter of VaDE must be a float in the range \(0.0, inf\). Got 0"),
    (dict(mixture_init="random"), None, "'mixture_init' parameter of VaDE must be a str among .*Got 'random'"),
    (dict(), np.full((20, 64), 2.0, dtype=np.float32), r"needs features in \[0, 1\], got \[2, 2\]"),
])
def test_bad_parameters_and_data_raise(params, X, message, digits, digits_ae):
    with pytest.raises(ValueError, match=message):
        VaDE(DIGITS_CLUSTERS, autoencoder=digits_ae, **params).fit(digits[0] if X is None else X)


def test_decoder_warm_up_fits_the_decoder_to_the_likelihood_and_leaves_the_encoder(pretrained, blobs):
    """The MSE-trained decoder read as Bernoulli logits is a poor p(x|z); the warm-up lowers its
    -log p(x|z) at the posterior means and moves no encoder weight (the GMM start stays valid)."""
    from deepclust import engine

    data = torch.as_tensor(blobs[0])
    model = VariationalAutoencoder.from_autoencoder(pretrained[0], "bernoulli")
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    embedding = engine.full_pass(model.encoder, data)

    def nll():
        with torch.no_grad():
            return negative_log_likelihood(data, model.decoder(embedding), "bernoulli").mean().item()

    before = nll()
    VaDE(N_CLUSTERS, decoder_warmup_epochs=5, batch_size=32, lr=0.01)._warm_up_decoder(
        model, data, embedding, torch.Generator().manual_seed(0))
    assert nll() < 0.9 * before
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())


def test_no_decoder_warm_up_by_default_and_warm_up_changes_the_run(digits, digits_ae):
    X = digits[0]
    settings = dict(autoencoder=digits_ae, max_epochs=1, batch_size=50, random_state=0)
    assert VaDE().get_params()["decoder_warmup_epochs"] == 0
    plain = VaDE(DIGITS_CLUSTERS, **settings).fit(X)
    warmed = VaDE(DIGITS_CLUSTERS, decoder_warmup_epochs=2, **settings).fit(X)
    assert warmed.history_[0]["loss"] < plain.history_[0]["loss"]  # the start's -ELBO


# ---- the mixture VaDE starts from ---------------------------------------------------------------

def test_authors_mixture_start_is_em_from_kmeans_centres_with_uniform_weights_and_the_data_variance(blobs):
    """mixture_init='kmeans' as sklearn 0.17's mixture.GMM (the authors' code): means from a k-means
    with n_init starts, weights 1/k, every component the data's variance (ddof 1) + 1e-3, then EM with
    that floor, in float64; on well-separated blobs it finds them."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    X, y = blobs
    gmm = initial_mixture(X, N_CLUSTERS, "kmeans", n_init=3, seed=4)
    X64 = X.astype(np.float64)
    variance = X64.var(0, ddof=1) + 1e-3
    by_hand = GaussianMixture(N_CLUSTERS, covariance_type="diag", reg_covar=1e-3, random_state=4,
                              weights_init=np.full(N_CLUSTERS, 1 / N_CLUSTERS),
                              means_init=KMeans(N_CLUSTERS, n_init=3, random_state=4).fit(X64).cluster_centers_,
                              precisions_init=np.tile(1 / variance, (N_CLUSTERS, 1))).fit(X64)
    assert gmm.means_.dtype == np.float64
    np.testing.assert_allclose(gmm.means_, by_hand.means_)
    np.testing.assert_allclose(gmm.covariances_, by_hand.covariances_)
    assert cluster_accuracy(y, gmm.predict(X)) == 1.0
    true_means = np.stack([X64[y == c].mean(0) for c in range(N_CLUSTERS)])
    nearest = np.abs(gmm.means_[:, None] - true_means[None]).sum(2).argmin(1)
    np.testing.assert_allclose(gmm.means_, true_means[nearest], atol=1e-3)
    assert (gmm.covariances_ >= 1e-3).all()


@pytest.mark.parametrize("mixture_init", ["fit", "kmeans"])
def test_vade_starts_from_the_initial_mixture_on_the_pretrained_embedding(mixture_init, digits, digits_ae):
    """Epoch 0's clusters are the chosen mixture's on the autoencoder's embedding."""
    X, y = digits
    with torch.no_grad():
        embedding = digits_ae.encoder(torch.as_tensor(X)).numpy()
    expected = initial_mixture(embedding, DIGITS_CLUSTERS, mixture_init, n_init=2, seed=0).predict(embedding)
    run = VaDE(DIGITS_CLUSTERS, autoencoder=digits_ae, mixture_init=mixture_init, n_init=2, max_epochs=1,
               batch_size=50, device="cpu", random_state=0).fit(X, y)
    assert run.history_[0]["acc"] == pytest.approx(cluster_accuracy(y, expected), abs=0.01)
    assert VaDE().get_params()["mixture_init"] == "fit"


# ---- the latent scale ---------------------------------------------------------------------------

@pytest.mark.parametrize("base", [
    {"kind": "mlp", "input_dim": 6, "hidden_dims": [5], "embedding_dim": 2},
    {"kind": "cae", "image_shape": [1, 8, 8], "filters": [2, 3, 4], "embedding_dim": 2},
])
def test_rescaled_latent_space_reconstructs_the_same(base):
    torch.manual_seed(0)
    model = VariationalAutoencoder(base, "bernoulli")
    x = torch.rand(4, math.prod(base.get("image_shape", [base.get("input_dim")])))
    with torch.no_grad():
        mean, reconstruction = model.encoder(x), model(x)
        rescale_latent(model, 10.0)
        torch.testing.assert_close(model.encoder(x), 10 * mean)
        torch.testing.assert_close(model(x), reconstruction)


def test_latent_scale_starts_from_the_same_partition_with_scaled_means(digits, digits_ae):
    """The mixture fitted on the wider embedding is the same one, scaled; only training differs."""
    X, y = digits
    settings = dict(autoencoder=digits_ae, max_epochs=0, batch_size=50, device="cpu", random_state=0)
    plain = VaDE(DIGITS_CLUSTERS, **settings).fit(X, y)
    wide = VaDE(DIGITS_CLUSTERS, latent_scale=10.0, **settings).fit(X, y)
    np.testing.assert_array_equal(wide.labels_, plain.labels_)
    np.testing.assert_allclose(wide.cluster_centers_, 10 * plain.cluster_centers_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(wide.covariances_, 100 * plain.covariances_, rtol=1e-2)
    np.testing.assert_allclose(wide.transform(X), 10 * plain.transform(X), rtol=1e-4, atol=1e-4)
    assert VaDE().get_params()["latent_scale"] == 1.0
