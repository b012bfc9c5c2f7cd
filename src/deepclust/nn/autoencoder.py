"""Fully connected autoencoder, d-500-500-2000-10 by default (the DEC paper's architecture)."""

import torch
from torch import nn

from deepclust.io import atomic_path


def mlp(dims: list[int], last_activation: bool) -> nn.Sequential:
    """Linear layers between consecutive dims with ReLU between them (and after the last if asked)."""
    layers = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Encoder input -> hidden -> embedding (linear); decoder mirrors it, linear output."""

    def __init__(self, input_dim: int, hidden_dims=(500, 500, 2000), embedding_dim: int = 10):
        super().__init__()
        self.config = {"kind": "mlp", "input_dim": int(input_dim),
                       "hidden_dims": [int(d) for d in hidden_dims], "embedding_dim": int(embedding_dim)}
        dims = [input_dim, *hidden_dims, embedding_dim]
        self.encoder = mlp(dims, last_activation=False)
        self.decoder = mlp(dims[::-1], last_activation=False)

    def forward(self, x):
        return self.decoder(self.encoder(x))


NETS = {"mlp": MLPAutoencoder}


def build(config: dict) -> nn.Module:
    """Instantiate a network from the ``config`` dict it saved."""
    kind = config.get("kind")
    if kind not in NETS:
        raise ValueError(f"unknown network kind {kind!r}; valid kinds: {sorted(NETS)}")
    return NETS[kind](**{k: v for k, v in config.items() if k != "kind"})


def save(path, model: nn.Module) -> None:
    """A network as {config, state_dict}: plain tensors and values, loadable with weights_only=True."""
    with atomic_path(path) as tmp:
        torch.save({"config": model.config, "state_dict": model.state_dict()}, tmp)


def load(path, device="cpu") -> nn.Module:
    """A network saved by ``save``; anything else is refused with the file's name."""
    try:
        saved = torch.load(path, map_location=device, weights_only=True)
        model = build(saved["config"])
        model.load_state_dict(saved["state_dict"])
    except Exception as error:
        raise ValueError(f"{path} is not a deepclust model file ({type(error).__name__}: {error})") from error
    return model.to(device).eval()
