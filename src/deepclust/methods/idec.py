"""IDEC: Improved Deep Embedded Clustering with local structure preservation (Guo et al., IJCAI 2017).

DEC's procedure with the decoder kept: loss = reconstruction + gamma * KL(P || Q), so the
embedding keeps the data's local structure while it is pulled towards the clusters.
Paper settings: Adam lr 0.001, batch 256, gamma 0.1, update interval 140, tol 0.001.
"""

from deepclust.losses import kl_clustering_loss, reconstruction_loss, student_t_assignment
from deepclust.methods import parameters
from deepclust.methods.dec import DEC


class IDEC(DEC):
    """Improved Deep Embedded Clustering: DEC's self-training with the reconstruction loss kept.

    IDEC follows DEC's procedure (k-means centres in a pretrained embedding, a Student's t soft
    assignment Q, a sharpened target P recomputed on the whole dataset every ``update_interval``
    steps, stopping by ``tol``), but keeps the decoder and minimises
    reconstruction + gamma * KL(P || Q) over the encoder, the decoder and the centres. The
    under-complete autoencoder's reconstruction term preserves the local structure of the data,
    which the clustering loss alone can distort.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    autoencoder : torch.nn.Module or None, default=None
        Pretrained autoencoder, deep-copied before training; None: ``fit`` pretrains one on X.
    gamma : float, default=0.1
        Weight of the clustering loss KL(P || Q) against the reconstruction (mean squared) error
        (the paper's 0.1).
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel.
    optimizer : {"adam", "sgd"}, default="adam"
        Optimiser of the fine-tuning (the paper's Adam).
    lr : float, default=0.001
        Learning rate (the paper's 0.001).
    momentum : float, default=0.9
        Momentum of SGD; ignored by Adam.
    batch_size, update_interval, tol, max_epochs, n_init : int, int, float, int, int
        As in DEC, with the same defaults (256, 140, 0.001, 200, 20).
    pretrain_epochs, hidden_dims, embedding_dim : int, tuple of int, int
        As in DEC: the autoencoder pretrained when ``autoencoder`` is None (defaults 200,
        (500, 500, 2000), 10).
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
    autoencoder_ : torch.nn.Module
        The fine-tuned autoencoder (encoder and decoder).
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
    .. [1] X. Guo, L. Gao, X. Liu and J. Yin, "Improved Deep Embedded Clustering with Local
       Structure Preservation", Proceedings of the 26th International Joint Conference on
       Artificial Intelligence (IJCAI), 2017.
    """

    _parameter_constraints: dict = parameters.IDEC

    def __init__(self, n_clusters=10, *, autoencoder=None, gamma=0.1, alpha=1.0, optimizer="adam", lr=0.001,
                 momentum=0.9, batch_size=256, update_interval=140, tol=0.001, max_epochs=200,
                 n_init=20, pretrain_epochs=200, hidden_dims=(500, 500, 2000), embedding_dim=10,
                 device="auto", random_state=None, verbose=False):
        super().__init__(n_clusters, autoencoder=autoencoder, alpha=alpha, optimizer=optimizer, lr=lr,
                         momentum=momentum, batch_size=batch_size, update_interval=update_interval, tol=tol,
                         max_epochs=max_epochs, n_init=n_init, pretrain_epochs=pretrain_epochs,
                         hidden_dims=hidden_dims, embedding_dim=embedding_dim, device=device,
                         random_state=random_state, verbose=verbose)
        self.gamma = gamma

    def _loss(self, model, x, p, centers):
        z = model.encoder(x)
        clustering = kl_clustering_loss(p, student_t_assignment(z, centers, self.alpha))
        return reconstruction_loss(model.decoder(z), x) + self.gamma * clustering
