"""Autoencoder pretraining: end-to-end reconstruction with Adam (as the IDEC authors' IDEC-toy and
DCEC code) or SGD with momentum (DEC-keras' MNIST recipe), optionally denoising: inputs are
corrupted by dropout, as in DEC's stacked denoising autoencoder. The reconstruction loss is the
squared error, or for an MLP with ``output`` "sigmoid" (VaDE's authors' autoencoder) the binary
cross-entropy, both averaged over all elements as Keras' 'mse' and 'binary_crossentropy'.
Kind "vae" trains a variational autoencoder on the MLP layout instead, by its ELBO."""

import numpy as np
import torch
from torch.nn import functional as F

from deepclust import engine
from deepclust.losses import reconstruction_loss
from deepclust.nn import autoencoder
from deepclust.nn.vae import LIKELIHOODS, VariationalAutoencoder, standard_elbo

KINDS = (*autoencoder.PRETRAINABLE, "vae")  # what `nets.<id>.kind` may be


def pretrain_autoencoder(X: np.ndarray, hidden_dims=(500, 500, 2000), embedding_dim: int = 10,
                         epochs: int = 200, batch_size: int = 256, lr: float = 1e-3,
                         weight_decay: float = 0.0, input_dropout: float = 0.0, optimizer: str = "adam",
                         momentum: float = 0.9, device: str = "auto",
                         random_state: int = 0, verbose: bool = True, kind: str = "mlp",
                         filters=(32, 64, 128), image_shape=None, likelihood: str = "bernoulli",
                         output: str = "linear", cuda_graphs: bool = False,
                         checkpoint: engine.Checkpoint = engine.NO_CHECKPOINT):
    """Train an autoencoder on X; return (model, history) with one history row per epoch.

    ``kind`` "mlp" uses ``hidden_dims``; "cae" (DCEC's convolutional autoencoder) uses ``filters``
    and ``image_shape`` (C, H, W), by which it unflattens X's rows. An "mlp" with ``output``
    "sigmoid" reconstructs in [0, 1] and is trained by binary cross-entropy (X in [0, 1]). "vae"
    is a VAE on the "mlp" layout (its embedding is the posterior mean) with a N(0, I) prior and
    ``likelihood`` "bernoulli" (X in [0, 1]) or "gaussian", trained by the negative ELBO.

    ``optimizer`` is "adam" or "sgd" (with ``momentum``; ignored by Adam).

    ``input_dropout`` > 0 trains a denoising autoencoder: the input is corrupted by dropout
    (zeroing that fraction of features) and the clean input is reconstructed.

    ``cuda_graphs`` replays each full-size batch's step as a CUDA graph on a CUDA device
    (engine.TrainStep); it changes nothing on the CPU.

    ``checkpoint`` (engine.Checkpoint) saves the training state at epoch ends and resumes it."""
    if kind not in KINDS:
        raise ValueError(f"unknown network kind {kind!r}; valid kinds: {sorted(KINDS)}")
    dev = engine.resolve_device(device)
    generator = engine.seeded_generator(random_state, dev)
    if kind == "vae":
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if likelihood == "bernoulli":
            check_unit_interval(X, "a VAE with likelihood 'bernoulli'", "likelihood: gaussian")
        base = autoencoder.make("mlp", X.shape[1], hidden_dims=hidden_dims, embedding_dim=embedding_dim).config
        model = VariationalAutoencoder(base, likelihood).to(dev)
        reconstruction = lambda noisy, x: standard_elbo(model, noisy, x)  # noqa: E731
    else:
        model = autoencoder.make(kind, X.shape[1], hidden_dims=hidden_dims, embedding_dim=embedding_dim,
                                 filters=filters, image_shape=image_shape, output=output).to(dev)
        if output == "sigmoid":
            check_unit_interval(X, "an autoencoder with output 'sigmoid'", "output: linear")
            # on the logits, for stability: the same loss as the sigmoid's output under Keras' BCE
            reconstruction = lambda noisy, x: F.binary_cross_entropy_with_logits(  # noqa: E731
                model.decoder(model.encoder(noisy)), x)
        else:
            reconstruction = lambda noisy, x: reconstruction_loss(model(noisy), x)  # noqa: E731
    data = engine.as_tensor(X, dev)
    optimizer = engine.make_optimizer(optimizer, model.parameters(), lr, momentum=momentum, weight_decay=weight_decay)

    def batch_loss(idx):
        x = data[idx]
        noisy = torch.nn.functional.dropout(x, input_dropout) if input_dropout else x
        return reconstruction(noisy, x)

    step = engine.TrainStep(batch_loss, optimizer, batch_size, cuda_graphs)
    loop = engine.TrainingLoop("pretrain", generator, checkpoint, verbose)
    history = []
    loop.keep(model=model, optimizer=optimizer, history=history)
    for epoch in loop.epochs(epochs):
        loss = loop.train_epoch(step, len(data), batch_size)
        loop.epoch_done(loss)
        history.append({"epoch": epoch + 1, "loss": loss})
    return model.eval(), history


def check_unit_interval(X: np.ndarray, what: str, alternative: str) -> None:
    """Refuse features outside [0, 1] for ``what`` (a Bernoulli likelihood or a sigmoid output)."""
    if X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError(f"{what} needs features in [0, 1], got [{X.min():.3g}, {X.max():.3g}]; "
                         f"use preprocess: minmax or {alternative}")


def embed(model: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    """The encoder's embedding of X, computed in large batches on the model's device."""
    device = next(model.parameters()).device
    return engine.full_pass(model.encoder, engine.as_tensor(X, device)).cpu().numpy()
