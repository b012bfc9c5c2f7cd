"""Autoencoder pretraining: end-to-end reconstruction with Adam (as the IDEC/DCN reference code),
optionally denoising: inputs are corrupted by dropout, as in DEC's stacked denoising autoencoder."""

import numpy as np
import torch

from deepclust import engine
from deepclust.losses import reconstruction_loss
from deepclust.nn import autoencoder


def pretrain_autoencoder(X: np.ndarray, hidden_dims=(500, 500, 2000), embedding_dim: int = 10,
                         epochs: int = 200, batch_size: int = 256, lr: float = 1e-3,
                         weight_decay: float = 0.0, input_dropout: float = 0.0, device: str = "auto",
                         random_state: int = 0, verbose: bool = True, kind: str = "mlp",
                         filters=(32, 64, 128), image_shape=None):
    """Train an autoencoder on X; return (model, history) with one history row per epoch.

    ``kind`` "mlp" uses ``hidden_dims``; "cae" (DCEC's convolutional autoencoder) uses ``filters``
    and ``image_shape`` (C, H, W), by which it unflattens X's rows.

    ``input_dropout`` > 0 trains a denoising autoencoder: the input is corrupted by dropout
    (zeroing that fraction of features) and the clean input is reconstructed."""
    dev = engine.resolve_device(device)
    generator = engine.seeded_generator(random_state, dev)
    model = autoencoder.make(kind, X.shape[1], hidden_dims=hidden_dims, embedding_dim=embedding_dim,
                             filters=filters, image_shape=image_shape).to(dev)
    data = engine.as_tensor(X, dev)
    optimizer = engine.make_optimizer("adam", model.parameters(), lr, weight_decay=weight_decay)
    progress = engine.Progress("pretrain", epochs, verbose)
    history = []

    def batch_loss(idx):
        x = data[idx]
        noisy = torch.nn.functional.dropout(x, input_dropout) if input_dropout else x
        return reconstruction_loss(model(noisy), x)

    for epoch in range(epochs):
        epoch_loss = engine.train_epoch(batch_loss, len(data), batch_size, generator, optimizer)
        progress.epoch_done(epoch, epoch_loss)
        history.append({"epoch": epoch + 1, "loss": epoch_loss})
    return model.eval(), history


def embed(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    """The encoder's embedding of X, computed in large batches on the model's device."""
    device = next(model.parameters()).device
    return engine.full_pass(model.encoder, engine.as_tensor(X, device)).cpu().numpy()
