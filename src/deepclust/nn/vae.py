"""A variational autoencoder built on a pretrained autoencoder, as VaDE (Jiang et al., IJCAI 2017)
starts: the encoder's trunk is shared by the mean head (the autoencoder's last, linear, layer)
and a new log-variance head, and the decoder is the autoencoder's.

The log-variance head starts at zero weights and bias, so the mean and the decoder equal the
autoencoder's at the start. ``encoder`` maps rows to the mean, so a VAE is used like any other
network here: its embedding is the posterior mean.

Likelihoods: "bernoulli" (the paper's, for [0, 1] images), where the decoder gives logits (an
autoencoder with output "sigmoid" was pretrained so), and "gaussian", where it gives the mean
(the authors' code: the squared error summed over features, i.e. variance 1/2, up to a constant).

Trained alone (``standard_elbo``, a N(0, I) prior: Kingma and Welling 2014), it is the "VAE" of
the VAE + agglomerative / k-means baselines; VaDE trains it with a Gaussian-mixture prior.

Registered as kind "vae" in deepclust.nn.networks.NETS, which imports this module only when
a VAE is built (this module imports that one), so ``networks.load`` rebuilds a saved VAE.
"""

import torch
from torch import nn
from torch.nn import functional as F

from deepclust.nn.networks import build

LIKELIHOODS = ("bernoulli", "gaussian")
BASE_KINDS = ("mlp", "cae")


class VariationalAutoencoder(nn.Module):
    """Gaussian q(z|x) = N(mean(x), diag exp(log_var(x))) over a pretrained autoencoder of
    ``base`` config (kind "mlp" or "cae"); ``likelihood`` names p(x|z)."""

    def __init__(self, base: dict, likelihood: str = "bernoulli"):
        super().__init__()
        kind = base.get("kind")
        if kind not in BASE_KINDS:
            raise ValueError(f"a VAE is built on an autoencoder of kind {' or '.join(map(repr, BASE_KINDS))}, "
                             f"not {kind!r}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if base.get("output", "linear") != "linear" and likelihood != "bernoulli":
            raise ValueError(f"an autoencoder with output {base['output']!r} has a decoder that gives logits: "
                             f"build the VAE with likelihood 'bernoulli', not {likelihood!r}")
        self.config = {"kind": "vae", "base": dict(base), "likelihood": likelihood}
        net = build(base)
        mean_head = net.encoder[-1]
        if not isinstance(mean_head, nn.Linear):  # mlp and cae both end with one
            raise ValueError(f"the {kind!r} autoencoder's encoder must end with a Linear layer to become a VAE")
        self.encoder = net.encoder
        self.log_var = nn.Linear(mean_head.in_features, mean_head.out_features)
        nn.init.zeros_(self.log_var.weight)
        nn.init.zeros_(self.log_var.bias)
        self.decoder = net.decoder

    @classmethod
    def from_autoencoder(cls, autoencoder: nn.Module, likelihood: str = "bernoulli") -> "VariationalAutoencoder":
        """A VAE whose encoder and decoder are copies of ``autoencoder``'s (which is not modified)."""
        config = getattr(autoencoder, "config", {})
        vae = cls(config, likelihood)
        vae.encoder.load_state_dict(autoencoder.encoder.state_dict())
        vae.decoder.load_state_dict(autoencoder.decoder.state_dict())
        return vae.to(next(autoencoder.parameters()).device)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior's mean and log-variance, (n, latent) each."""
        hidden = self.encoder[:-1](x)
        return self.encoder[-1](hidden), self.log_var(hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) in data space (the decoder's logits through a sigmoid for Bernoulli)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.config["likelihood"] == "bernoulli" else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction from the posterior mean."""
        return self.decode(self.encoder(x))


def negative_log_likelihood(x: torch.Tensor, decoded: torch.Tensor, likelihood: str) -> torch.Tensor:
    """-log p(x|z) per sample: binary cross-entropy of the decoder's logits (Bernoulli), or the
    squared error summed over features (Gaussian, as the authors' code; up to a constant)."""
    if likelihood == "bernoulli":
        return F.binary_cross_entropy_with_logits(decoded, x, reduction="none").sum(1)
    return (decoded - x).pow(2).sum(1)


def standard_elbo(model: VariationalAutoencoder, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """The negative ELBO under a N(0, I) prior, averaged over the batch: -log p(target|z) for one
    reparameterised sample z ~ q(z|x), plus KL(q(z|x) || N(0, I)) in closed form. ``target``
    (default x) is the clean input when x is corrupted (denoising)."""
    mean, log_var = model.encode(x)
    z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
    kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(1)
    target = x if target is None else target
    return (negative_log_likelihood(target, model.decoder(z), model.config["likelihood"]) + kl).mean()
