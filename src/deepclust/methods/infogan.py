"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel, NeurIPS 2016) as a clusterer.

A GAN whose generator G(z, c) also gets a categorical code c ~ Cat(K) and continuous codes
~ U(-1, 1); a recognition network Q, sharing the discriminator's trunk, recovers the codes from
G's samples. Minimising lambda * (cross-entropy of Q's categorical head on the sampled c, plus
the Gaussian NLL of the continuous codes under Q's means with fixed std 1) maximises a lower bound
on the mutual information I(c; G(z, c)), so c ends up carrying the most salient discrete factor
(the digit on MNIST). A real row is clustered by argmax_c Q(c | x).

Defaults follow the paper and the authors' MNIST launcher (openai/InfoGAN): 62 U(-1, 1) noise
variables, one Cat(K) and two U(-1, 1) continuous codes, Adam with beta1 0.5, lr 2e-4 for D/Q
and 1e-3 for G, info coefficient 1 for both code kinds (the continuous term is already small:
with std fixed at 1 it is 0.5 (c - mu)^2 per code, at most Var(c)/2 = 1/6 when Q ignores it).
As in that code, the info term is in both players' losses: D's optimizer trains the shared trunk
and Q's head on it (with G's samples held fixed), G's optimizer trains G on it. The paper uses
batch 100 (the launcher 128). The launcher's 50 x 100 updates of 128 samples are about 9 passes
over MNIST's 70k, hence max_epochs 10 (one epoch = one pass over X); smaller data sets need
proportionally more passes for as many updates. Nets: deepclust.nn.gan.InfoGANNet (the paper's
MNIST layout for images given ``image_shape``, MLPs for flat data).

InfoGAN learns from scratch: the ``autoencoder`` argument exists for the workflow's common
signature and is ignored. Data must lie in [0, 1], G's sigmoid range.
"""

import math

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from deepclust import engine
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer
from deepclust.nn.gan import InfoGANNet

HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def categorical_nll(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """-log Q(c | x) of the sampled categories, averaged over the batch."""
    return F.cross_entropy(logits, codes)


def gaussian_nll(mean: torch.Tensor, value: torch.Tensor, std: float = 1.0) -> torch.Tensor:
    """-log N(value; mean, std^2), summed over the code dimensions, averaged over the batch (the
    paper's factored Gaussian Q with a fixed std, as the authors' code for uniform codes)."""
    per_dim = 0.5 * ((value - mean) / std).pow(2) + math.log(std) + HALF_LOG_TWO_PI
    return per_dim.sum(dim=1).mean()


def information_loss(code_logits, codes, continuous_mean, continuous, lambda_categorical: float = 1.0,
                     lambda_continuous: float = 1.0) -> torch.Tensor:
    """lambda_cat * CE + lambda_cont * Gaussian NLL: the negative mutual-information lower bound
    L_I up to the constant entropies of the code priors."""
    loss = lambda_categorical * categorical_nll(code_logits, codes)
    if continuous.shape[1]:
        loss = loss + lambda_continuous * gaussian_nll(continuous_mean, continuous)
    return loss


def _real(logits: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def _fake(logits: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))


class InfoGAN(DeepClusterer):
    """InfoGAN as a clusterer: a GAN with a categorical latent code whose recognition network clusters.

    The generator G(z, c) gets noise z ~ U(-1, 1)^``noise_dim``, a categorical code
    c ~ Cat(``n_clusters``) and ``n_continuous`` continuous codes ~ U(-1, 1). Besides the usual
    adversarial game against a discriminator D, G and a recognition network Q (a head on D's
    trunk) minimise lambda * L_I, the cross-entropy of Q's categorical head on the sampled c plus
    the Gaussian negative log-likelihood (fixed standard deviation 1) of the continuous codes
    under Q's means: a variational lower bound on the mutual information I(c; G(z, c)). The
    categorical code therefore comes to carry the most salient discrete factor of the data, and
    a real row x is clustered by argmax_c Q(c | x). Each step updates D and Q on real rows and
    G's (fixed) samples, then G against the updated D and Q with the non-saturating loss.

    InfoGAN learns from scratch: ``autoencoder`` is accepted for the common signature and
    ignored. X must lie in [0, 1], the range of G's sigmoid output. ``fit(X, y, checkpoint=...)``
    saves and resumes at epoch ends (G, D and Q with their batch-norm statistics, both
    optimisers, the random streams and the history). ``transform`` returns Q's categorical
    logits (n_samples, n_clusters), the space the method clusters in; ``generate`` draws rows
    per categorical code.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of categories of the categorical code, i.e. of clusters (at least 2).
    autoencoder : None, default=None
        Ignored (no pretrained network is used).
    image_shape : tuple of int (channels, height, width) or None, default=None
        Shape of each image, for the paper's convolutional MNIST layout; None (or images too
        small to halve): fully connected networks of the same form.
    noise_dim : int, default=62
        Dimension of the incompressible noise z (the paper's 62 for MNIST).
    n_continuous : int, default=2
        Number of continuous U(-1, 1) codes (the paper's 2 for MNIST; 0 for none).
    lambda_categorical : float, default=1.0
        Weight of the categorical code's information term (the paper's 1 for discrete codes).
    lambda_continuous : float, default=1.0
        Weight of the continuous codes' information term (1, as the authors' MNIST launcher).
    d_lr : float, default=2e-4
        Adam learning rate of D and Q.
    g_lr : float, default=1e-3
        Adam learning rate of G.
    betas : tuple of 2 float, default=(0.5, 0.999)
        Adam's (beta1, beta2) for both optimisers.
    batch_size : int, default=100
        Mini-batch size (the paper's 100).
    max_epochs : int, default=10
        Passes over X.
    hidden_dim : int, default=1024
        Width of the fully connected layer of G and of D's trunk (and of every layer of the
        fully connected networks).
    q_hidden_dim : int, default=128
        Width of Q's hidden layer.
    filters : int, default=64
        Channels of the first convolution, doubling per stride-2 step (images only).
    device : str, default="auto"
        Torch device: "auto" (CUDA when available, else the CPU), "cpu" or "cuda[:N]".
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seed of weight initialisation, mini-batch order and prior samples; None means 0. A numpy
        ``RandomState`` is refused (every random stream is seeded from one integer).
    verbose : bool, default=False
        Print progress.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        argmax_c Q(c | x) of each training row.
    autoencoder_ : InfoGANNet
        The trained networks G, D and Q (in eval mode).
    history_ : list of dict
        One row per epoch: ``epoch``, ``d_loss``, ``g_loss``, ``info_loss``,
        ``loss`` (= g_loss + info_loss), and ``acc`` / ``nmi`` when ``y`` was given.

    References
    ----------
    .. [1] X. Chen, Y. Duan, R. Houthooft, J. Schulman, I. Sutskever and P. Abbeel, "InfoGAN:
       Interpretable Representation Learning by Information Maximizing Generative Adversarial
       Nets", Advances in Neural Information Processing Systems 29 (NIPS), 2016.
    """

    _parameter_constraints: dict = parameters.INFOGAN

    def __init__(self, n_clusters=10, *, autoencoder=None, image_shape=None, noise_dim=62, n_continuous=2,
                 lambda_categorical=1.0, lambda_continuous=1.0, d_lr=2e-4, g_lr=1e-3, betas=(0.5, 0.999),
                 batch_size=100, max_epochs=10, hidden_dim=1024, q_hidden_dim=128, filters=64,
                 device="auto", random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.image_shape = image_shape
        self.noise_dim = noise_dim
        self.n_continuous = n_continuous
        self.lambda_categorical = lambda_categorical
        self.lambda_continuous = lambda_continuous
        self.d_lr = d_lr
        self.g_lr = g_lr
        self.betas = betas
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.hidden_dim = hidden_dim
        self.q_hidden_dim = q_hidden_dim
        self.filters = filters
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_fit(self, X: np.ndarray) -> None:
        self._check_unit_range(X)

    @staticmethod
    def _check_unit_range(X: np.ndarray) -> None:
        low, high = float(X.min()), float(X.max())
        if not (0.0 <= low and high <= 1.0):
            raise ValueError(f"InfoGAN's generator outputs [0, 1] (sigmoid), so X must lie in [0, 1]; got values "
                             f"in [{low:.4g}, {high:.4g}]. Use the minmax preprocessing.")

    def _network(self, X, device, seed):
        return InfoGANNet(X.shape[1], self.n_clusters, self.n_continuous, self.noise_dim, self.image_shape,
                          self.hidden_dim, self.q_hidden_dim, self.filters).to(device)

    def _information(self, code_logits, means, codes, continuous):
        return information_loss(code_logits, codes, means, continuous, self.lambda_categorical,
                                self.lambda_continuous)

    def _discriminator_loss(self, net, real, fake, codes, continuous):
        """(D's loss + info, D's loss): real vs fake, and recover the codes of G's (fixed) samples."""
        real_logit, _, _ = net.discriminate(real)
        fake_logit, code_logits, means = net.discriminate(fake)
        d_loss = _real(real_logit) + _fake(fake_logit)
        return d_loss + self._information(code_logits, means, codes, continuous), d_loss

    def _generator_loss(self, net, fake, codes, continuous):
        """(G's loss + info, G's loss, info): the non-saturating loss against the updated D/Q."""
        fake_logit, code_logits, means = net.discriminate(fake)
        g_loss, info_loss = _real(fake_logit), self._information(code_logits, means, codes, continuous)
        return g_loss + info_loss, g_loss, info_loss

    def _fit(self, data, y, net, loop, seed):
        betas = tuple(self.betas)
        d_optimizer = engine.make_optimizer("adam", net.discriminator_parameters(), self.d_lr, betas=betas)
        g_parameters = list(net.generator.parameters())
        g_optimizer = engine.make_optimizer("adam", g_parameters, self.g_lr, betas=betas)
        loop.keep(net=net, d_optimizer=d_optimizer, g_optimizer=g_optimizer)
        for epoch in loop.epochs(self.max_epochs):
            sums, seen = torch.zeros(3, device=data.device), 0
            for idx in loop.batches(len(data), self.batch_size):
                if len(idx) < 2:  # batch norm needs two samples; the one left over waits for the next epoch
                    continue
                noise, codes, continuous = net.sample_prior(len(idx), loop.generator)
                with loop.autocast():
                    fake = net(net.latent(noise, codes, continuous))
                _, d_loss = loop.step(
                    d_optimizer, lambda: self._discriminator_loss(net, data[idx], fake.detach(), codes, continuous))
                _, g_loss, info_loss = loop.step(  # gradients for G only
                    g_optimizer, lambda: self._generator_loss(net, fake, codes, continuous), inputs=g_parameters)
                sums += torch.stack([d_loss, g_loss, info_loss]) * len(idx)
                seen += len(idx)
            d_mean, g_mean, info_mean = (sums / seen).tolist()
            loop.epoch_done(g_mean + info_mean, d_loss=d_mean, info=info_mean)
            row = {"epoch": epoch + 1, "loss": g_mean + info_mean, "d_loss": d_mean, "g_loss": g_mean,
                   "info_loss": info_mean}
            if y is None:
                self.history_.append(row)
            else:
                self._monitor(row, self._code_logits(net, data).argmax(1).cpu().numpy(), y)
        self.labels_ = self._code_logits(net, data).argmax(1).cpu().numpy()

    @staticmethod
    def _code_logits(net: InfoGANNet, data: torch.Tensor) -> torch.Tensor:
        """Q's categorical logits with batch norm in inference mode, restoring the net's mode."""
        training = net.training
        logits = engine.full_pass(net.eval().code_logits, data)
        net.train(training)
        return logits

    def transform(self, X) -> np.ndarray:
        """Q's categorical logits (n x K): the embedding InfoGAN clusters in (by its argmax)."""
        X = self._validate_input(X, fitting=False)
        self._check_unit_range(X)
        device = next(self.autoencoder_.parameters()).device
        return self._code_logits(self.autoencoder_, engine.as_tensor(X, device)).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """argmax_c Q(c | x)."""
        return self.transform(X).argmax(1)

    def generate(self, n_per_code: int = 10, random_state=None) -> np.ndarray:
        """Generated rows per categorical code, shape (K, n_per_code, d). Column j of every code
        shares the same noise and continuous codes, so a figure's columns differ only in c."""
        check_is_fitted(self, "autoencoder_")
        net = self.autoencoder_
        device = next(net.parameters()).device
        seed = random_state if random_state is not None else (self.random_state or 0)
        noise, _, continuous = net.sample_prior(n_per_code, torch.Generator(device=device).manual_seed(int(seed)))
        n_codes = net.config["n_categories"]
        codes = torch.arange(n_codes, device=device).repeat_interleave(n_per_code)
        latent = net.latent(noise.repeat(n_codes, 1), codes, continuous.repeat(n_codes, 1))
        with torch.inference_mode():
            images = net.eval()(latent)
        return images.reshape(n_codes, n_per_code, -1).cpu().numpy()
