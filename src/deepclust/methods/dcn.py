"""DCN: Deep Clustering Network (Yang, Fu, Sidiropoulos, Hong, ICML 2017).

Jointly minimise reconstruction + (lambda / 2) * ||f(x) - M s||^2 by alternating, per
mini-batch: (1) a network step with assignments and centres fixed, (2) assigning each
sample of the batch to its nearest centre, (3) moving each centre towards its new members
with a per-centre step 1/count (online k-means). Counts start at 100, as in the authors'
code, so early batches do not swing the centres.
"""

import numpy as np
import torch

from deepclust import engine
from deepclust.losses import kmeans_loss, reconstruction_loss, squared_distances
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer


def update_centers(centers: torch.Tensor, counts: torch.Tensor, z: torch.Tensor, labels: torch.Tensor) -> None:
    """DCN's centre step, in place: each sample moves its centre by (z - c) / count after
    incrementing count. Applied for a whole batch at once this is a running mean, which equals
    the one-sample-at-a-time updates exactly."""
    members = torch.zeros_like(counts).index_add_(0, labels, torch.ones_like(labels, dtype=counts.dtype))
    sums = torch.zeros_like(centers).index_add_(0, labels, z)
    counts += members
    centers += (sums - members[:, None] * centers) / counts[:, None]


class DCN(DeepClusterer):
    """Deep Clustering Network: an autoencoder trained jointly with k-means in its embedding.

    DCN minimises reconstruction + (lambda / 2) * ||f(x) - M s||^2, where f is the encoder, M the
    matrix of cluster centres and s each sample's one-hot assignment, so that the embedding
    becomes k-means friendly while still describing the data. Starting from a pretrained
    autoencoder and k-means in its embedding, each mini-batch takes three alternating steps:
    (1) one gradient step on the network with assignments and centres fixed, (2) each sample of
    the batch assigned to its nearest centre in the updated embedding, (3) each centre moved
    towards its new members with a per-centre step size 1 / count (online k-means, the count
    growing with every member assigned). A row's cluster is its nearest centre.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    autoencoder : torch.nn.Module or None, default=None
        Pretrained autoencoder, deep-copied before training; None: ``fit`` pretrains one on X.
    lambda_ : float, default=1.0
        Weight of the k-means term against the reconstruction (mean squared) error.
    lr : float, default=1e-4
        Learning rate of Adam for the network step.
    batch_size : int, default=256
        Mini-batch size (also of the pretraining when there is one).
    max_epochs : int, default=50
        Passes over the data (DCN has no stopping rule).
    initial_count : float, default=100
        Count each centre starts from, so that early batches do not swing the centres (the value
        of the authors' code).
    n_init : int, default=20
        Restarts of the k-means that initialises centres and assignments.
    pretrain_epochs : int, default=200
        Epochs of autoencoder pretraining when ``autoencoder`` is None.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Encoder layer widths of the pretrained autoencoder.
    embedding_dim : int, default=10
        Embedding dimension of the pretrained autoencoder.
    device : str, default="auto"
        Torch device: "auto" (CUDA when available, else the CPU), "cpu" or "cuda[:N]".
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seed of initialisation, mini-batch order and k-means; None means 0. A numpy
        ``RandomState`` is refused (every random stream is seeded from one integer).
    verbose : bool, default=False
        Print progress.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Nearest centre of each training row in the final embedding.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
        The centres M after the last online k-means step.
    autoencoder_ : torch.nn.Module
        The fine-tuned autoencoder.
    history_ : list of dict
        One row per epoch: ``epoch``, ``loss``, ``label_change`` (fraction of the assignments
        changed in the epoch), and ``acc`` / ``nmi`` when ``y`` was given.
    pretrain_history_ : list of dict
        Per-epoch pretraining losses; only when ``fit`` pretrained the autoencoder.

    References
    ----------
    .. [1] B. Yang, X. Fu, N. D. Sidiropoulos and M. Hong, "Towards K-means-friendly Spaces:
       Simultaneous Deep Learning and Clustering", Proceedings of the 34th International
       Conference on Machine Learning (ICML), PMLR 70, 2017.
    """

    _parameter_constraints: dict = parameters.DCN

    def __init__(self, n_clusters=10, *, autoencoder=None, lambda_=1.0, lr=1e-4, batch_size=256,
                 max_epochs=50, initial_count=100, n_init=20, pretrain_epochs=200,
                 hidden_dims=(500, 500, 2000), embedding_dim=10, device="auto", random_state=None,
                 verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.lambda_ = lambda_
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.initial_count = initial_count
        self.n_init = n_init
        self.pretrain_epochs = pretrain_epochs
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, data, y, model, loop, seed):
        device = data.device

        def start():  # centres and assignments by k-means in the pretrained embedding
            kmeans = self._kmeans_init(engine.full_pass(model.encoder, data), seed)
            return {"centers": torch.as_tensor(kmeans.cluster_centers_, dtype=torch.float32, device=device),
                    "labels": torch.as_tensor(kmeans.labels_, dtype=torch.long, device=device),
                    "counts": torch.full((self.n_clusters,), float(self.initial_count), device=device)}

        s = loop.start(start)
        optimizer = engine.make_optimizer("adam", model.parameters(), self.lr)
        loop.keep(model=model, optimizer=optimizer)

        def loss_of(x, labels):  # reconstruction + (lambda / 2) ||f(x) - M s||^2
            z = model.encoder(x)
            clustering = kmeans_loss(z, s.centers, labels)
            return reconstruction_loss(model.decoder(z), x) + self.lambda_ / 2 * clustering

        for epoch in loop.epochs(self.max_epochs):
            previous = s.labels.cpu().numpy().copy()  # on the CPU .numpy() shares memory with labels, updated in place
            total = torch.zeros((), device=device)
            for idx in loop.batches(len(data), self.batch_size):
                x = data[idx]
                # (1) network update with assignments and centres fixed
                total += loop.step(optimizer, lambda: loss_of(x, s.labels[idx])) * len(idx)
                # (2) assignments and (3) centres, on the updated embedding
                with torch.no_grad():
                    z = model.encoder(x)
                    s.labels[idx] = squared_distances(z, s.centers).argmin(1)
                    update_centers(s.centers, s.counts, z, s.labels[idx])
            loss = total.item() / len(data)
            loop.epoch_done(loss)
            current = s.labels.cpu().numpy().copy()
            self._monitor({"epoch": epoch + 1, "loss": loss, "label_change": float(np.mean(current != previous))},
                          current, y)

        self.cluster_centers_ = s.centers.cpu().numpy()
        z = engine.full_pass(model.encoder, data)
        self.labels_ = squared_distances(z, s.centers).argmin(1).cpu().numpy()
