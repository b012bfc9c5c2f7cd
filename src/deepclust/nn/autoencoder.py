"""Autoencoders: fully connected, d-500-500-2000-10 by default (the DEC paper's architecture), and
convolutional (DCEC's CAE, for images). Both take and return flattened rows, so every method
treats them alike."""

import math

import torch
from torch import nn

OUTPUTS = ("linear", "sigmoid")  # an MLP autoencoder's reconstruction


def mlp(dims: list[int], last_activation: bool) -> nn.Sequential:
    """Linear layers between consecutive dims with ReLU between them (and after the last if asked)."""
    layers = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Encoder input -> hidden -> embedding (linear); decoder mirrors it. ``output`` "linear"
    reconstructs with the decoder's last layer as it is; "sigmoid" squashes it into [0, 1], as
    VaDE's authors' autoencoder, so ``decoder`` then gives logits (pretrained by binary
    cross-entropy; a VAE built on it reads them as its Bernoulli decoder's)."""

    def __init__(self, input_dim: int, hidden_dims=(500, 500, 2000), embedding_dim: int = 10,
                 output: str = "linear"):
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.config = {"kind": "mlp", "input_dim": int(input_dim), "hidden_dims": [int(d) for d in hidden_dims],
                       "embedding_dim": int(embedding_dim), "output": output}
        dims = [input_dim, *hidden_dims, embedding_dim]
        self.encoder = mlp(dims, last_activation=False)
        self.decoder = mlp(dims[::-1], last_activation=False)

    def forward(self, x):
        out = self.decoder(self.encoder(x))
        return torch.sigmoid(out) if self.config["output"] == "sigmoid" else out


CONV_KERNELS = (5, 5, 3)


def conv_paddings(size: int) -> tuple[int, int, int]:
    """Per-layer padding along one image axis. Keras' 'same' at stride 2 gives ceil(size / 2),
    which padding kernel // 2 reproduces; DCEC's third layer is 'same' only when the size is
    a multiple of 8 and 'valid' otherwise (28 -> 14 -> 7 -> 3 on MNIST)."""
    return 2, 2, 1 if size % 8 == 0 else 0


def conv_sizes(size: int) -> list[int]:
    """The axis' size at the input and after each stride-2 convolution."""
    sizes = [size]
    for kernel, padding in zip(CONV_KERNELS, conv_paddings(size)):
        sizes.append((sizes[-1] + 2 * padding - kernel) // 2 + 1)
    if sizes[-1] < 1:
        raise ValueError(f"an image axis of {size} pixels is too small for the conv autoencoder's 3 stride-2 layers")
    return sizes


class ConvAutoencoder(nn.Module):
    """DCEC's convolutional autoencoder (Guo et al. 2017): three stride-2 convolutions, a linear
    embedding, and a mirrored decoder of transposed convolutions with linear output. Each
    transposed convolution's output_padding is chosen so the decoder returns exactly the
    encoder's sizes, e.g. 3 -> 7 -> 14 -> 28 on MNIST."""

    def __init__(self, image_shape, filters=(32, 64, 128), embedding_dim: int = 10):
        super().__init__()
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ValueError(f"image_shape must be (channels, height, width); got {list(image_shape)}")
        if len(filters) != 3:
            raise ValueError(f"filters must give the 3 convolutions' channels; got {list(filters)}")
        self.config = {"kind": "cae", "image_shape": [int(d) for d in image_shape],
                       "filters": [int(f) for f in filters], "embedding_dim": int(embedding_dim)}
        channels, height, width = self.config["image_shape"]
        # per layer, (height, width) pairs: sizes[i] is the input of encoder layer i
        sizes = list(zip(conv_sizes(height), conv_sizes(width)))
        paddings = list(zip(conv_paddings(height), conv_paddings(width)))
        widths = [channels, *self.config["filters"]]
        bottleneck = (widths[-1], *sizes[-1])

        encoder = [nn.Unflatten(1, (channels, height, width))]
        for i, kernel in enumerate(CONV_KERNELS):
            encoder += [nn.Conv2d(widths[i], widths[i + 1], kernel, stride=2, padding=paddings[i]), nn.ReLU()]
        encoder += [nn.Flatten(), nn.Linear(math.prod(bottleneck), embedding_dim)]
        self.encoder = nn.Sequential(*encoder)

        decoder = [nn.Linear(embedding_dim, math.prod(bottleneck)), nn.ReLU(), nn.Unflatten(1, bottleneck)]
        for i in reversed(range(len(CONV_KERNELS))):
            kernel = CONV_KERNELS[i]
            output_padding = tuple(out - ((size - 1) * 2 - 2 * pad + kernel)
                                   for out, size, pad in zip(sizes[i], sizes[i + 1], paddings[i]))
            decoder.append(nn.ConvTranspose2d(widths[i + 1], widths[i], kernel, stride=2, padding=paddings[i],
                                              output_padding=output_padding))
            if i > 0:
                decoder.append(nn.ReLU())
        decoder.append(nn.Flatten())
        self.decoder = nn.Sequential(*decoder)

    def forward(self, x):
        return self.decoder(self.encoder(x))


# Kinds pretrained by the workflow (`nets.<id>.kind`).
PRETRAINABLE = {"mlp": MLPAutoencoder, "cae": ConvAutoencoder}


def make(kind: str, input_dim: int, hidden_dims=(500, 500, 2000), embedding_dim: int = 10,
         filters=(32, 64, 128), image_shape=None, output: str = "linear") -> nn.Module:
    """A fresh network of ``kind`` for rows of ``input_dim`` features. Settings of the other kind
    are ignored, so one set of settings can describe either; ``output`` is the mlp's only."""
    if kind == "mlp":
        return MLPAutoencoder(input_dim, hidden_dims, embedding_dim, output)
    if kind == "cae":
        if output != "linear":
            raise ValueError(f"output {output!r} is for kind 'mlp' only; the 'cae' decoder's output is linear")
        if image_shape is None:
            raise ValueError("kind 'cae' needs image_shape=(channels, height, width) to unflatten the rows")
        if math.prod(image_shape) != input_dim:
            raise ValueError(f"image_shape {list(image_shape)} has {math.prod(image_shape)} values "
                             f"but the data has {input_dim} features")
        return ConvAutoencoder(image_shape, filters, embedding_dim)
    raise ValueError(f"unknown network kind {kind!r}; valid kinds: {sorted(PRETRAINABLE)}")
