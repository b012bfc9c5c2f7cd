"""DCEC: Deep Convolutional Embedded Clustering (Guo, Liu, Zhu, Yin, ICONIP 2017).

IDEC's loss (reconstruction + gamma * KL(P || Q)) on a convolutional autoencoder (conv 32 5x5/2,
conv 64 5x5/2, conv 128 3x3/2, dense 10; deepclust.nn.autoencoder.ConvAutoencoder), so images keep
their spatial structure. Paper settings: gamma 0.1, Adam lr 0.001, batch 256, update interval
140, tol 0.001, CAE pretrained 200 epochs.
"""

from deepclust.methods import parameters
from deepclust.methods.idec import IDEC
from deepclust.nn.autoencoder import ConvAutoencoder


class DCEC(IDEC):
    """Deep Convolutional Embedded Clustering: IDEC's loss on a convolutional autoencoder.

    DCEC pretrains a convolutional autoencoder (three stride-2 convolutions, a dense embedding
    layer and a mirrored decoder of transposed convolutions;
    ``deepclust.nn.autoencoder.ConvAutoencoder``) so that images keep their spatial structure,
    initialises centres by k-means in its embedding, then minimises
    reconstruction + gamma * KL(P || Q) exactly as IDEC does. Rows of X are flattened images,
    unflattened by ``image_shape``; a given ``autoencoder`` must be a ``ConvAutoencoder``.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    autoencoder : ConvAutoencoder or None, default=None
        Pretrained convolutional autoencoder, deep-copied before training; None: ``fit``
        pretrains one on X, which needs ``image_shape``.
    image_shape : tuple of int (channels, height, width) or None, default=None
        Shape of each image, by which rows are unflattened; required when ``autoencoder`` is
        None.
    filters : tuple of 3 int, default=(32, 64, 128)
        Channels of the three convolutions of the pretrained autoencoder (the paper's 32, 64, 128;
        kernels 5x5, 5x5, 3x3).
    embedding_dim : int, default=10
        Embedding dimension of the pretrained autoencoder (the paper's 10).
    gamma : float, default=0.1
        Weight of the clustering loss against the reconstruction error (the paper's 0.1).
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel.
    optimizer : {"adam", "sgd"}, default="adam"
        Optimiser of the fine-tuning (the paper's Adam).
    lr : float, default=0.001
        Learning rate (the paper's 0.001).
    momentum : float, default=0.9
        Momentum of SGD; ignored by Adam.
    batch_size, update_interval, tol, max_epochs, n_init : int, int, float, int, int
        As in IDEC, with the same defaults (256, 140, 0.001, 200, 20).
    pretrain_epochs : int, default=200
        Epochs of autoencoder pretraining when ``autoencoder`` is None (the paper's 200).
    device : str, default="auto"
        Torch device: "auto", "cpu" or "cuda[:N]".
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seed; None means 0. A numpy ``RandomState`` is refused (every random stream is seeded
        from one integer).
    verbose : bool, default=False
        Print progress.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        argmax_j q_ij of each training row.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
        The trained centres in the embedding.
    autoencoder_ : ConvAutoencoder
        The fine-tuned convolutional autoencoder.
    history_ : list of dict
        One row per update of P: ``epoch``, ``iteration``, ``loss``, ``label_change``, and
        ``acc`` / ``nmi`` when ``y`` was given.
    n_iter_ : int
        Mini-batch steps taken.
    converged_ : bool
        Whether training stopped by ``tol``.
    pretrain_history_ : list of dict
        Per-epoch pretraining losses; only when ``fit`` pretrained the autoencoder.

    References
    ----------
    .. [1] X. Guo, X. Liu, E. Zhu and J. Yin, "Deep Clustering with Convolutional Autoencoders",
       Neural Information Processing: 24th International Conference (ICONIP), Lecture Notes in
       Computer Science 10635, Springer, 2017.
    """

    _parameter_constraints: dict = parameters.DCEC

    def __init__(self, n_clusters=10, *, autoencoder=None, gamma=0.1, alpha=1.0, optimizer="adam", lr=0.001,
                 momentum=0.9, batch_size=256, update_interval=140, tol=0.001, max_epochs=200, n_init=20,
                 pretrain_epochs=200, image_shape=None, filters=(32, 64, 128), embedding_dim=10,
                 device="auto", random_state=None, verbose=False):
        super().__init__(n_clusters, autoencoder=autoencoder, gamma=gamma, alpha=alpha, optimizer=optimizer,
                         lr=lr, momentum=momentum, batch_size=batch_size, update_interval=update_interval,
                         tol=tol, max_epochs=max_epochs, n_init=n_init, pretrain_epochs=pretrain_epochs,
                         embedding_dim=embedding_dim, device=device, random_state=random_state,
                         verbose=verbose)
        self.image_shape = image_shape
        self.filters = filters

    def _architecture(self):
        if self.image_shape is None:
            raise ValueError("DCEC pretrains a convolutional autoencoder: give image_shape=(C, H, W) "
                             "or a pretrained ConvAutoencoder as autoencoder=")
        return {"kind": "cae", "filters": self.filters, "image_shape": self.image_shape,
                "embedding_dim": self.embedding_dim}

    def _network(self, X, device, seed):
        if self.autoencoder is not None and not isinstance(self.autoencoder, ConvAutoencoder):
            raise ValueError(f"DCEC needs a convolutional autoencoder (net kind cae), got "
                             f"{type(self.autoencoder).__name__}; use IDEC for fully connected ones")
        return super()._network(X, device, seed)
