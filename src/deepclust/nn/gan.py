"""InfoGAN's networks (Chen et al., NeurIPS 2016): a generator G and a discriminator D whose trunk
is shared with the recognition network Q. Like the autoencoders, they take and return FLAT rows.

For images the layout is the paper's MNIST one (its appendix C and the authors' code,
openai/InfoGAN ``network_type="mnist"``):

- G: FC 1024-BN-ReLU, FC 7x7x128-BN-ReLU, up-conv 64 4x4/2 BN ReLU, up-conv 1 4x4/2 sigmoid;
- D/Q trunk: conv 64 4x4/2 lReLU, conv 128 4x4/2 BN lReLU, FC 1024 BN lReLU;
  D head FC 1; Q head FC 128-BN-lReLU-FC (categorical logits, continuous means).

Other image sizes keep that shape with as many stride-2 steps as halve both axes down to no less
than 4 pixels (28 -> 14 -> 7: 2 steps; 8x8 digits -> 4: 1 step; 32 -> 16 -> 8 -> 4: 3 steps),
channels doubling per step from ``filters``. Flat data, or images too small to halve, get MLPs of
the same form with each convolution replaced by an FC layer of ``hidden_dim`` units.

Registered as kind "infogan" in deepclust.nn.networks.NETS, so that networks.save/load handle it.
"""

import math

import torch
from torch import nn

# The authors' code: leaky_rectify(leakiness=0.01) and N(0, 0.02) weights (BN scales N(1, 0.02)).
LEAKY_SLOPE = 0.01
INIT_STD = 0.02
MIN_FEATURE_MAP = 4


def downsampling_steps(image_shape) -> int:
    """How many 4x4/2 convolutions (each halving both axes exactly) keep the map >= 4 pixels."""
    _, height, width = image_shape
    steps = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) // 2 >= MIN_FEATURE_MAP:
        height, width, steps = height // 2, width // 2, steps + 1
    return steps


def _leaky():
    return nn.LeakyReLU(LEAKY_SLOPE)


def _initialise(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, INIT_STD)
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, INIT_STD)
        nn.init.zeros_(module.bias)


class InfoGANNet(nn.Module):
    """G and D/Q of InfoGAN for rows of ``data_dim`` features in [0, 1].

    The latent input of G is [noise ~ U(-1, 1)^noise_dim, one-hot c ~ Cat(n_categories),
    continuous c ~ U(-1, 1)^n_continuous], as in the authors' MNIST experiment.
    """

    def __init__(self, data_dim: int, n_categories: int = 10, n_continuous: int = 2, noise_dim: int = 62,
                 image_shape=None, hidden_dim: int = 1024, q_hidden_dim: int = 128, filters: int = 64):
        super().__init__()
        if image_shape is not None:
            if len(image_shape) != 3 or min(image_shape) < 1:
                raise ValueError(f"image_shape must be (channels, height, width); got {list(image_shape)}")
            if math.prod(image_shape) != data_dim:
                raise ValueError(f"image_shape {list(image_shape)} has {math.prod(image_shape)} values "
                                 f"but the data has {data_dim} features")
        self.config = {"kind": "infogan", "data_dim": int(data_dim), "n_categories": int(n_categories),
                       "n_continuous": int(n_continuous), "noise_dim": int(noise_dim),
                       "image_shape": None if image_shape is None else [int(d) for d in image_shape],
                       "hidden_dim": int(hidden_dim), "q_hidden_dim": int(q_hidden_dim), "filters": int(filters)}
        self.latent_dim = noise_dim + n_categories + n_continuous
        steps = 0 if image_shape is None else downsampling_steps(self.config["image_shape"])
        if steps:
            self.generator, self.trunk = self._conv_nets(self.config["image_shape"], steps, hidden_dim, filters)
        else:
            self.generator, self.trunk = self._mlp_nets(data_dim, hidden_dim)
        self.discriminator_head = nn.Linear(hidden_dim, 1)
        self.recognition_head = nn.Sequential(
            nn.Linear(hidden_dim, q_hidden_dim), nn.BatchNorm1d(q_hidden_dim), _leaky(),
            nn.Linear(q_hidden_dim, n_categories + n_continuous))
        self.apply(_initialise)

    def _conv_nets(self, image_shape, steps, hidden_dim, filters):
        channels, height, width = image_shape
        widths = [channels] + [filters * 2 ** i for i in range(steps)]
        base = (widths[-1], height // 2 ** steps, width // 2 ** steps)

        generator = [nn.Linear(self.latent_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
                     nn.Linear(hidden_dim, math.prod(base)), nn.BatchNorm1d(math.prod(base)), nn.ReLU(),
                     nn.Unflatten(1, base)]
        for i in reversed(range(steps)):
            generator.append(nn.ConvTranspose2d(widths[i + 1], widths[i], 4, stride=2, padding=1))
            generator += [nn.BatchNorm2d(widths[i]), nn.ReLU()] if i > 0 else [nn.Sigmoid()]
        generator.append(nn.Flatten())

        trunk = [nn.Unflatten(1, (channels, height, width))]
        for i in range(steps):
            trunk.append(nn.Conv2d(widths[i], widths[i + 1], 4, stride=2, padding=1))
            # as in the paper, no batch norm on the first layer that sees the data
            trunk += [nn.BatchNorm2d(widths[i + 1]), _leaky()] if i > 0 else [_leaky()]
        trunk += [nn.Flatten(), nn.Linear(math.prod(base), hidden_dim), nn.BatchNorm1d(hidden_dim), _leaky()]
        return nn.Sequential(*generator), nn.Sequential(*trunk)

    def _mlp_nets(self, data_dim, hidden_dim):
        generator = nn.Sequential(
            nn.Linear(self.latent_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, data_dim), nn.Sigmoid())
        trunk = nn.Sequential(
            nn.Linear(data_dim, hidden_dim), _leaky(),
            nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), _leaky())
        return generator, trunk

    def discriminator_parameters(self):
        """D and Q: the shared trunk and both heads (trained together, as in the authors' code)."""
        return [*self.trunk.parameters(), *self.discriminator_head.parameters(),
                *self.recognition_head.parameters()]

    def latent(self, noise: torch.Tensor, codes: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
        """G's input from noise (n, noise_dim), category indices (n,) and continuous codes (n, n_continuous)."""
        one_hot = nn.functional.one_hot(codes, self.config["n_categories"]).to(noise.dtype)
        return torch.cat([noise, one_hot, continuous], dim=1)

    def sample_prior(self, n: int, generator: torch.Generator):
        """(noise, codes, continuous) drawn from the priors on the generator's device."""
        device = generator.device
        uniform = lambda dim: torch.rand(n, dim, generator=generator, device=device) * 2 - 1  # noqa: E731
        codes = torch.randint(self.config["n_categories"], (n,), generator=generator, device=device)
        return uniform(self.config["noise_dim"]), codes, uniform(self.config["n_continuous"])

    def discriminate(self, x: torch.Tensor):
        """D's real/fake logit (n,), Q's categorical logits (n, K) and continuous means (n, n_continuous)."""
        features = self.trunk(x)
        recognised = self.recognition_head(features)
        k = self.config["n_categories"]
        return self.discriminator_head(features).squeeze(1), recognised[:, :k], recognised[:, k:]

    def code_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Q(c | x) as logits over the categories: the clustering of real rows."""
        return self.recognition_head(self.trunk(x))[:, :self.config["n_categories"]]

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.generator(latent)
