"""JULE's representation network (Yang, Parikh, Batra, CVPR 2016): a small CNN whose output is
L2-normalised, so the agglomerative clustering above it works on the unit sphere.

For images the layout is the authors' MNIST one (JULE.torch ``models_def/MNIST-test.lua``):
conv 50 5x5-BN-ReLU, max-pool 2x2 (ceil), conv 50 5x5-BN-ReLU, FC 160, L2 normalisation. Images
too small for two valid 5x5 convolutions (fewer than 14 pixels a side, e.g. 8x8 digits) use 3x3
convolutions padded to keep their size. Flat data gets an MLP of the same form: two
FC-BN-ReLU layers of ``hidden_dim`` units, FC ``feature_dim``, L2 normalisation.
Weights start from N(0, 0.01) and biases at zero (the authors' ``NetInit``).

Like the autoencoders, it takes flat rows; ``encoder`` is the whole network, so the shared
estimator code (``transform``, ``predict``) treats it as an encoder. Registered as kind "jule" in
deepclust.nn.networks.NETS, which imports this module only when such a file is loaded.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

INIT_STD = 0.01
KERNEL = 5
MIN_SIDE_FOR_KERNEL = 14  # two valid 5x5 convolutions around a 2x2 pooling leave >= 1 pixel


class L2Normalize(nn.Module):
    def forward(self, x):
        return F.normalize(x, dim=1)


def _initialise(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.normal_(module.weight, 0.0, INIT_STD)
        nn.init.zeros_(module.bias)


class JULENet(nn.Module):
    def __init__(self, input_dim: int, image_shape=None, filters: int = 50, feature_dim: int = 160,
                 hidden_dim: int = 512):
        super().__init__()
        if image_shape is not None:
            if len(image_shape) != 3 or min(image_shape) < 1:
                raise ValueError(f"image_shape must be (channels, height, width); got {list(image_shape)}")
            if math.prod(image_shape) != input_dim:
                raise ValueError(f"image_shape {list(image_shape)} has {math.prod(image_shape)} values "
                                 f"but the data has {input_dim} features")
        self.config = {"kind": "jule", "input_dim": int(input_dim),
                       "image_shape": None if image_shape is None else [int(d) for d in image_shape],
                       "filters": int(filters), "feature_dim": int(feature_dim), "hidden_dim": int(hidden_dim)}
        if image_shape is None:
            layers = [nn.Linear(input_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
                      nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(),
                      nn.Linear(hidden_dim, feature_dim)]
        else:
            layers = self._conv_layers(self.config["image_shape"], filters, feature_dim)
        self.encoder = nn.Sequential(*layers, L2Normalize())
        self.apply(_initialise)

    @staticmethod
    def _conv_layers(image_shape, filters, feature_dim):
        channels, height, width = image_shape
        small = min(height, width) < MIN_SIDE_FOR_KERNEL  # padded 3x3 convolutions fit any size
        kernel, padding = (3, 1) if small else (KERNEL, 0)

        def after_conv(size):
            return size + 2 * padding - kernel + 1

        out_h = after_conv(math.ceil(after_conv(height) / 2))
        out_w = after_conv(math.ceil(after_conv(width) / 2))
        return [nn.Unflatten(1, (channels, height, width)),
                nn.Conv2d(channels, filters, kernel, padding=padding), nn.BatchNorm2d(filters), nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
                nn.Conv2d(filters, filters, kernel, padding=padding), nn.BatchNorm2d(filters), nn.ReLU(),
                nn.Flatten(), nn.Linear(filters * out_h * out_w, feature_dim)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)
