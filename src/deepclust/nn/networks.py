"""Every kind of network a model file may hold, and the model files themselves.

``NETS`` names each kind: the autoencoders (mlp, cae), the VAE built on one, InfoGAN's generator
and discriminator, JULE's representation network. A file is {config, state_dict}: ``save`` writes
it, ``load`` rebuilds the network of its config's kind and loads the weights. Kinds other than the
autoencoders are import strings, resolved only when such a network is built, so reading an
autoencoder's file imports none of the others' modules.
"""

import importlib

import torch
from torch import nn

from deepclust.io import atomic_path
from deepclust.nn.autoencoder import PRETRAINABLE

NETS = {**PRETRAINABLE, "vae": "deepclust.nn.vae:VariationalAutoencoder", "infogan": "deepclust.nn.gan:InfoGANNet",
        "jule": "deepclust.nn.jule:JULENet"}


def build(config: dict) -> nn.Module:
    """Instantiate a network from the ``config`` dict it saved."""
    kind = config.get("kind")
    if kind not in NETS:
        raise ValueError(f"unknown network kind {kind!r}; valid kinds: {sorted(NETS)}")
    network = NETS[kind]
    if isinstance(network, str):
        module, name = network.split(":")
        network = getattr(importlib.import_module(module), name)
    return network(**{k: v for k, v in config.items() if k != "kind"})


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
