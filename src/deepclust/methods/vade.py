"""VaDE: Variational Deep Embedding (Jiang, Zheng, Tan, Tang, Zhou, IJCAI 2017).

A generative model p(c) p(z|c) p(x|z): a cluster c ~ Cat(pi), a latent z ~ N(mu_c, diag sigma_c^2)
and x from a decoder. A VAE (deepclust.nn.vae) starts from the pretrained autoencoder, the
mixture from a diagonal Gaussian mixture fitted to its embedding (`initial_mixture`), and both
are trained together by maximising the closed-form ELBO with one sample z per x and
q(c|x) = gamma = p(c|z) of that sample (paper eqs. 16-17). The cluster of x is argmax_c p(c|z)
at the posterior mean z.

Parameterisation: pi = softmax(logits), so it stays on the simplex; the mixture's variances
as log-variances, so they stay positive. Gradients flow through gamma, as in the authors' code.
q(z|x)'s variance starts at a tenth of the mixture's mean variance (not in the paper): a VAE's
neutral start (variance 1) can be much wider than the clusters, and q(c|x), computed from one
sample z of so wide a posterior, can then send every sample to one cluster in the first epoch.
Paper / authors' code settings (MNIST): Adam lr 0.002 for the network and the mixture, decayed
by 0.9 every 10 epochs (floored at 0.0002), batch 100, 500 epochs, Bernoulli likelihood, one
sklearn 0.17 mixture.GMM fit, i.e. EM from a 10-start k-means' centres (here mixture_init='kmeans',
n_init=10; see `initial_mixture`). Unlike the authors' code, pi starts at the fitted mixture's
weights (theirs: uniform) and one Adam with the default epsilon updates everything (theirs: two,
epsilon 1e-4). ``latent_scale`` (ours, default 1) widens the pretrained latent space before
training (`rescale_latent`): the paper's Adam steps are absolute, and the authors' embedding's
scale is unknown.
"""

import math

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted
from torch import nn

from deepclust import engine
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer
from deepclust.nn.vae import VariationalAutoencoder, negative_log_likelihood
from deepclust.pretrain import check_unit_interval


# q(z|x)'s initial variance, as a fraction of the mixture's mean variance per latent dimension
INITIAL_VARIANCE_FRACTION = 0.1


class GaussianMixturePrior(nn.Module):
    """p(c) = softmax(logits)_c and p(z|c) = N(means_c, diag exp(log_vars_c)); the standard
    normal in every component, with equal weights, until ``set_mixture``."""

    def __init__(self, n_clusters: int, latent_dim: int):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_clusters))
        self.means = nn.Parameter(torch.zeros(n_clusters, latent_dim))
        self.log_vars = nn.Parameter(torch.zeros(n_clusters, latent_dim))

    @torch.no_grad()
    def set_mixture(self, weights, means, variances) -> "GaussianMixturePrior":
        """The mixture of these weights (K), means and diagonal variances (K x latent), in place."""
        self.logits.copy_(torch.log(torch.as_tensor(weights, dtype=torch.float32)))
        self.means.copy_(torch.as_tensor(means, dtype=torch.float32))
        self.log_vars.copy_(torch.log(torch.as_tensor(variances, dtype=torch.float32)))
        return self

    def log_weights(self) -> torch.Tensor:
        return torch.log_softmax(self.logits, dim=0)

    def log_joint(self, z: torch.Tensor) -> torch.Tensor:
        """log p(c) + log p(z|c), (n, n_clusters)."""
        squared = (z[:, None, :] - self.means).pow(2) / self.log_vars.exp()
        log_density = -0.5 * (math.log(2 * math.pi) + self.log_vars + squared).sum(2)
        return self.log_weights() + log_density

    def log_posterior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(c|z), by Bayes' rule, (n, n_clusters)."""
        return torch.log_softmax(self.log_joint(z), dim=1)


def latent_kl(mean: torch.Tensor, log_var: torch.Tensor, log_gamma: torch.Tensor,
              prior: GaussianMixturePrior) -> torch.Tensor:
    """KL(q(z, c|x) || p(z, c)) per sample, the ELBO's latent part, with
    q(z|x) = N(mean, diag exp(log_var)) and q(c|x) = exp(log_gamma):
    1/2 sum_c gamma_c sum_j (log sigma_cj^2 + sigma~_j^2 / sigma_cj^2 + (mu~_j - mu_cj)^2 / sigma_cj^2)
    - sum_c gamma_c log pi_c + sum_c gamma_c log gamma_c - 1/2 sum_j (1 + log sigma~_j^2)."""
    gamma = log_gamma.exp()
    spread = log_var.exp()[:, None, :] + (mean[:, None, :] - prior.means).pow(2)
    # -E_q[log p(z|c)] (n, n_clusters) and below q's entropy, both without J/2 log 2 pi, which cancels
    cross_entropy = 0.5 * (prior.log_vars + spread / prior.log_vars.exp()).sum(2)
    return ((gamma * (cross_entropy + log_gamma - prior.log_weights())).sum(1)
            - 0.5 * (1 + log_var).sum(1))


def negative_elbo(x: torch.Tensor, model: VariationalAutoencoder, prior: GaussianMixturePrior,
                  noise: torch.Tensor) -> torch.Tensor:
    """-ELBO per sample with one reparameterised sample z = mean + sigma~ * noise."""
    mean, log_var = model.encode(x)
    z = mean + (0.5 * log_var).exp() * noise
    reconstruction = negative_log_likelihood(x, model.decoder(z), model.config["likelihood"])
    return reconstruction + latent_kl(mean, log_var, prior.log_posterior(z), prior)


MIXTURE_INITS = ("fit", "kmeans")
AUTHORS_MIN_VARIANCE = 1e-3  # sklearn 0.17 mixture.GMM's min_covar


def initial_mixture(embedding: np.ndarray, n_clusters: int, how: str = "fit", n_init: int = 1,
                    seed: int = 0) -> GaussianMixture:
    """The diagonal Gaussian mixture VaDE starts from, fitted to the pretrained embedding.

    'fit': GaussianMixture's own start (the partition of one k-means run), the likeliest of n_init
    fits. 'kmeans': the authors' code (sklearn 0.17's mixture.GMM): EM from the centres of a
    k-means with n_init starts (10, KMeans' default then), uniform weights and the embedding's
    variance per dimension, variance floor 1e-3, in float64. On MNIST embeddings the likeliest
    mixture can merge 4s and 9s where EM from k-means' centres does not (studies/vade_paper_settings)."""
    if how not in MIXTURE_INITS:
        raise ValueError(f"mixture_init must be one of {MIXTURE_INITS}, got {how!r}")
    if how == "fit":
        return GaussianMixture(n_clusters, covariance_type="diag", n_init=n_init, random_state=seed).fit(embedding)
    embedding = np.asarray(embedding, dtype=np.float64)
    centres = KMeans(n_clusters, n_init=n_init, random_state=seed).fit(embedding).cluster_centers_
    variance = embedding.var(0, ddof=1) + AUTHORS_MIN_VARIANCE
    return GaussianMixture(n_clusters, covariance_type="diag", reg_covar=AUTHORS_MIN_VARIANCE, random_state=seed,
                           weights_init=np.full(n_clusters, 1 / n_clusters), means_init=centres,
                           precisions_init=np.tile(1 / variance, (n_clusters, 1))).fit(embedding)


def rescale_latent(model: VariationalAutoencoder, scale: float) -> VariationalAutoencoder:
    """The same VAE with its latent space ``scale`` times wider: the mean head times ``scale``, the
    decoder's first layer's weights over it, so every reconstruction stays the same. Adam's
    steps have a fixed size, so the scale sets how far one step moves the embedding and the
    mixture against the clusters' spread (studies/vade_paper_settings)."""
    if scale != 1:
        with torch.no_grad():
            model.encoder[-1].weight.mul_(scale)
            model.encoder[-1].bias.mul_(scale)
            model.decoder[0].weight.div_(scale)
    return model


class VaDE(DeepClusterer):
    """Variational Deep Embedding: a VAE whose prior is a Gaussian mixture, one component per cluster.

    VaDE's generative model draws a cluster c ~ Cat(pi), a latent z ~ N(mu_c, diag sigma_c^2) and
    x from a decoder p(x|z) (Bernoulli or Gaussian). A VAE built from the pretrained autoencoder
    (its encoder gives q(z|x)'s mean, a new head its log-variance) and a diagonal Gaussian mixture
    fitted to the pretrained embedding are trained together by maximising the closed-form
    evidence lower bound with one reparameterised sample z per x and q(c|x) = p(c|z) of that
    sample. The cluster of x is argmax_c p(c|z) at the posterior mean z. Being generative, the
    fitted model can also draw new samples of each cluster (``sample``). Learning rate: ``lr``
    times ``lr_decay`` every ``decay_every`` epochs, never below ``min_lr``.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters, i.e. mixture components.
    autoencoder : torch.nn.Module or None, default=None
        Pretrained fully connected autoencoder whose encoder and decoder start the VAE (they are
        copied); None: ``fit`` pretrains one on X.
    likelihood : {"bernoulli", "gaussian"}, default="bernoulli"
        p(x|z): Bernoulli on the decoder's logits (X must lie in [0, 1]; the paper's choice for
        MNIST) or Gaussian (squared error).
    lr : float, default=0.002
        Initial learning rate of Adam, for the network and the mixture together.
    lr_decay : float, default=0.9
        Factor applied to the learning rate every ``decay_every`` epochs, in (0, 1].
    decay_every : int, default=10
        Epochs between two learning-rate decays.
    min_lr : float, default=0.0002
        Floor of the decayed learning rate.
    batch_size : int, default=100
        Mini-batch size (also of the pretraining when there is one).
    max_epochs : int, default=500
        Training epochs (VaDE has no stopping rule).
    n_init : int, default=1
        Starts of the initial mixture fit: GaussianMixture fits for ``mixture_init="fit"``,
        k-means starts for ``"kmeans"`` (the authors' code: 10).
    mixture_init : {"fit", "kmeans"}, default="fit"
        How the initial mixture is fitted to the embedding: "fit", GaussianMixture's own start
        (the likeliest of ``n_init`` fits); "kmeans", the authors' code, EM from the centres of
        a k-means (see ``initial_mixture``).
    decoder_warmup_epochs : int, default=0
        Epochs fitting the decoder alone to p(x|z) at the fixed posterior means before the joint
        training, so the likelihood's output scale is learned first (not in the paper; 0: off).
    latent_scale : float, default=1.0
        Factor that widens the pretrained latent space before training without changing any
        reconstruction (see ``rescale_latent``; not in the paper; 1: off). Adam's steps have a
        fixed size, so this sets how far a step moves the embedding and the mixture against
        the clusters' spread.
    pretrain_epochs : int, default=200
        Epochs of autoencoder pretraining when ``autoencoder`` is None.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Encoder layer widths of the pretrained autoencoder (the paper's d-500-500-2000-10).
    embedding_dim : int, default=10
        Latent dimension of the pretrained autoencoder.
    device : str, default="auto"
        Torch device: "auto" (CUDA when available, else the CPU), "cpu" or "cuda[:N]".
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seed of initialisation, mini-batch order, the reparameterisation noise and the mixture
        fit; None means 0. A numpy ``RandomState`` is refused (every random stream is seeded
        from one integer).
    verbose : bool, default=False
        Print progress.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        argmax_c p(c|z) of each training row at its posterior mean z.
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        The mixture's means mu_c.
    covariances_ : ndarray of shape (n_clusters, latent_dim)
        The mixture's diagonal variances sigma_c^2.
    weights_ : ndarray of shape (n_clusters,)
        The mixture's weights pi.
    prior_ : GaussianMixturePrior
        The trained mixture as a torch module (used by ``predict_proba`` and ``sample``).
    autoencoder_ : VariationalAutoencoder
        The trained VAE.
    history_ : list of dict
        One row at the start and one per epoch: ``epoch``, ``loss`` (negative ELBO per sample),
        ``lr``, ``label_change`` (after the start), and ``acc`` / ``nmi`` when ``y`` was given.
    pretrain_history_ : list of dict
        Per-epoch pretraining losses; only when ``fit`` pretrained the autoencoder.

    References
    ----------
    .. [1] Z. Jiang, Y. Zheng, H. Tan, B. Tang and H. Zhou, "Variational Deep Embedding: An
       Unsupervised and Generative Approach to Clustering", Proceedings of the 26th
       International Joint Conference on Artificial Intelligence (IJCAI), 2017.
    """

    _parameter_constraints: dict = parameters.VADE

    def __init__(self, n_clusters=10, *, autoencoder=None, likelihood="bernoulli", lr=0.002, lr_decay=0.9,
                 decay_every=10, min_lr=0.0002, batch_size=100, max_epochs=500, n_init=1,
                 mixture_init="fit", decoder_warmup_epochs=0, latent_scale=1.0, pretrain_epochs=200,
                 hidden_dims=(500, 500, 2000), embedding_dim=10, device="auto", random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.likelihood = likelihood
        self.lr = lr
        self.lr_decay = lr_decay
        self.decay_every = decay_every
        self.min_lr = min_lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.n_init = n_init
        self.mixture_init = mixture_init
        self.decoder_warmup_epochs = decoder_warmup_epochs
        self.latent_scale = latent_scale
        self.pretrain_epochs = pretrain_epochs
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_fit(self, X: np.ndarray) -> None:
        if self.likelihood == "bernoulli":
            check_unit_interval(X, "likelihood='bernoulli'", "likelihood='gaussian'")

    def _network(self, X, device, seed):
        autoencoder = super()._network(X, device, seed)
        return rescale_latent(VariationalAutoencoder.from_autoencoder(autoencoder, self.likelihood), self.latent_scale)

    def _fit(self, data, y, model, loop, seed):
        device = data.device
        latent_dim = model.log_var.out_features
        prior = GaussianMixturePrior(self.n_clusters, latent_dim).to(device)
        optimizer = engine.make_optimizer("adam", [*model.parameters(), *prior.parameters()], self.lr)
        loop.keep(model=model, prior=prior, optimizer=optimizer)

        def loss_of(x):
            noise = torch.randn(len(x), latent_dim, generator=loop.generator, device=device)
            return negative_elbo(x, model, prior, noise)

        # the learning rate changes every decay_every epochs: no CUDA graph, which would bake it in
        step = engine.TrainStep(lambda idx: loss_of(data[idx]).mean(), optimizer, self.batch_size)

        def labels_now():  # argmax of the joint is that of the posterior, without normalising
            return engine.full_pass(lambda x: prior.log_joint(model.encoder(x)).argmax(1), data).cpu().numpy()

        def start():  # the mixture fitted to the pretrained embedding, q(z|x) narrow
            embedding = engine.full_pass(model.encoder, data)
            gmm = initial_mixture(embedding.cpu().numpy(), self.n_clusters, self.mixture_init, self.n_init, seed)
            self._warm_up_decoder(model, data, embedding, loop.generator)
            prior.set_mixture(gmm.weights_, gmm.means_, gmm.covariances_)
            with torch.no_grad():  # (see the module's docstring)
                model.log_var.bias.copy_(prior.log_vars.exp().mean(0).mul(INITIAL_VARIANCE_FRACTION).log())
            labels = labels_now()
            self._monitor({"epoch": 0, "loss": engine.full_pass(loss_of, data).mean().item(), "lr": self.lr},
                          labels, y)
            return {"labels": labels}

        s = loop.start(start)
        for epoch in loop.epochs(self.max_epochs):
            lr = max(self.lr * self.lr_decay ** (epoch // self.decay_every), self.min_lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = loop.train_epoch(step, len(data), self.batch_size)
            loop.epoch_done(loss)
            previous, s.labels = s.labels, labels_now()
            self._monitor({"epoch": epoch + 1, "loss": loss, "lr": lr,
                           "label_change": float(np.mean(s.labels != previous))}, s.labels, y)

        self.prior_ = prior.eval()
        self.weights_ = prior.log_weights().exp().detach().cpu().numpy()
        self.cluster_centers_ = prior.means.detach().cpu().numpy()
        self.covariances_ = prior.log_vars.exp().detach().cpu().numpy()
        self.labels_ = s.labels

    def _warm_up_decoder(self, model, data, embedding, generator) -> None:
        """Fit the decoder alone to p(x|z) at the fixed posterior means, ``decoder_warmup_epochs``
        epochs, before the joint training. The shared autoencoder's decoder was trained for squared
        error with a linear output, which the Bernoulli likelihood reads as logits (sigmoid 0.5-0.73
        for pixels in [0, 1]): VaDE's first epoch then spends large gradients relearning the output
        scale through the encoder too (studies/vade_paper_settings)."""
        if not self.decoder_warmup_epochs:
            return
        optimizer = engine.make_optimizer("adam", model.decoder.parameters(), self.lr)
        step = engine.TrainStep(lambda idx: negative_log_likelihood(data[idx], model.decoder(embedding[idx]),
                                                                    self.likelihood).mean(),
                                optimizer, self.batch_size)
        loop = engine.TrainingLoop("VaDE decoder warm-up", generator, verbose=self.verbose)
        for _ in loop.epochs(self.decoder_warmup_epochs):
            loop.epoch_done(loop.train_epoch(step, len(data), self.batch_size))

    def predict_proba(self, X) -> np.ndarray:
        """q(c|x) = p(c|z) at the posterior mean z."""
        z = torch.as_tensor(self.transform(X), device=self.prior_.means.device)
        with torch.inference_mode():
            return self.prior_.log_posterior(z).exp().cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """argmax_c q(c|x) at the posterior mean."""
        return self.predict_proba(X).argmax(1)

    def sample(self, n_per_cluster: int, random_state=None) -> np.ndarray:
        """Generated samples, (n_clusters, n_per_cluster, n_features): z ~ N(mu_c, diag sigma_c^2)
        for each cluster c, decoded to the mean of p(x|z)."""
        check_is_fitted(self, "autoencoder_")
        device = self.prior_.means.device
        generator = torch.Generator(device=device).manual_seed(0 if random_state is None else int(random_state))
        with torch.inference_mode():
            noise = torch.randn(self.n_clusters, n_per_cluster, self.prior_.means.shape[1], generator=generator,
                                device=device)
            z = self.prior_.means[:, None] + (0.5 * self.prior_.log_vars[:, None]).exp() * noise
            decoded = self.autoencoder_.decode(z.flatten(0, 1))
        return decoded.reshape(self.n_clusters, n_per_cluster, -1).cpu().numpy()
