"""DEC: Deep Embedded Clustering (Xie, Girshick, Farhadi, ICML 2016).

Starting from a pretrained encoder and k-means centres in its embedding, minimise
KL(P || Q) between the Student's t soft assignment Q and the target distribution P. P is
recomputed on the WHOLE dataset every ``update_interval`` iterations; training stops when
fewer than ``tol`` of the labels change between two such updates.
"""

import numpy as np
import torch

from deepclust import engine
from deepclust.losses import kl_clustering_loss, student_t_assignment, target_distribution
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer


class DEC(DeepClusterer):
    """Deep Embedded Clustering: refine an autoencoder's embedding by self-training on soft assignments.

    DEC starts from a pretrained encoder f and k-means centres mu_j in its embedding, then
    discards the decoder and minimises KL(P || Q) by stochastic gradient descent over the
    encoder's weights and the centres together. Q is the soft assignment of embedded points to
    centres by a Student's t kernel, q_ij proportional to (1 + ||f(x_i) - mu_j||^2 / alpha)
    ^ (-(alpha + 1) / 2); the target P squares Q and divides by the cluster frequencies,
    p_ij proportional to q_ij^2 / sum_i q_ij, so confident assignments are emphasised and large
    clusters do not absorb the rest. P is recomputed on the whole dataset every
    ``update_interval`` mini-batch steps and held fixed in between; training stops when fewer than
    a fraction ``tol`` of the labels change between two such updates, or after ``max_epochs``.
    A row's cluster is argmax_j q_ij.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    autoencoder : torch.nn.Module or None, default=None
        Pretrained autoencoder (with ``encoder`` and ``decoder``), deep-copied before training.
        None: ``fit`` pretrains one on X (``pretrain_epochs``, ``hidden_dims``, ``embedding_dim``).
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel (1 in the paper).
    optimizer : {"sgd", "adam"}, default="sgd"
        Optimiser of the fine-tuning; the paper uses SGD ("adam" is an option, not in the paper).
    lr : float, default=0.01
        Learning rate (the paper's 0.01 for SGD).
    momentum : float, default=0.9
        Momentum of SGD; ignored by Adam.
    batch_size : int, default=256
        Mini-batch size (also of the pretraining when there is one).
    update_interval : int, default=140
        Mini-batch steps between two recomputations of the target distribution P.
    tol : float, default=0.001
        Stop when fewer than this fraction of the labels change between two updates of P.
    max_epochs : int, default=200
        Upper bound on the passes over the data.
    n_init : int, default=20
        Restarts of the k-means that initialises the centres (the paper keeps the best of 20).
    pretrain_epochs : int, default=200
        Epochs of autoencoder pretraining when ``autoencoder`` is None.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Encoder layer widths of the pretrained autoencoder (the paper's d-500-500-2000-10).
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
        argmax_j q_ij of each training row at the end of training.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
        The trained centres mu_j in the embedding.
    autoencoder_ : torch.nn.Module
        The autoencoder with the fine-tuned encoder (the decoder is not trained by DEC).
    history_ : list of dict
        One row per update of P: ``epoch`` (fractional), ``iteration``, ``loss`` (mean KL since
        the previous update), ``label_change``, and ``acc`` / ``nmi`` when ``y`` was given.
    n_iter_ : int
        Mini-batch steps taken.
    converged_ : bool
        Whether training stopped by ``tol`` rather than by ``max_epochs``.
    pretrain_history_ : list of dict
        Per-epoch pretraining losses; only when ``fit`` pretrained the autoencoder.

    References
    ----------
    .. [1] J. Xie, R. Girshick and A. Farhadi, "Unsupervised Deep Embedding for Clustering
       Analysis", Proceedings of the 33rd International Conference on Machine Learning (ICML),
       PMLR 48, 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepclust.methods.dec import DEC
    >>> X = load_digits().data / 16.0
    >>> model = DEC(n_clusters=10, pretrain_epochs=20, max_epochs=20, device="cpu", random_state=0)
    >>> labels = model.fit(X).labels_
    >>> embedding = model.transform(X)  # (n_samples, 10)
    """

    _parameter_constraints: dict = parameters.DEC

    def __init__(self, n_clusters=10, *, autoencoder=None, alpha=1.0, optimizer="sgd", lr=0.01,
                 momentum=0.9, batch_size=256, update_interval=140, tol=0.001, max_epochs=200,
                 n_init=20, pretrain_epochs=200, hidden_dims=(500, 500, 2000), embedding_dim=10,
                 device="auto", random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.alpha = alpha
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.batch_size = batch_size
        self.update_interval = update_interval
        self.tol = tol
        self.max_epochs = max_epochs
        self.n_init = n_init
        self.pretrain_epochs = pretrain_epochs
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _loss(self, model, x, p, centers):
        """DEC's loss; IDEC overrides it to add reconstruction."""
        return kl_clustering_loss(p, student_t_assignment(model.encoder(x), centers, self.alpha))

    def _fit(self, data, y, model, loop, seed):
        zero = lambda: torch.zeros((), device=data.device)  # noqa: E731

        def start():  # k-means centres in the pretrained embedding; P is computed at the first step
            kmeans = self._kmeans_init(engine.full_pass(model.encoder, data), seed)
            return {"centers": kmeans.cluster_centers_, "labels": kmeans.labels_, "p": None, "iteration": 0,
                    "since_update": zero(), "steps_since_update": 0}

        s = loop.start(start)
        centers = s.centers = torch.nn.Parameter(torch.as_tensor(s.centers, dtype=torch.float32, device=data.device))
        optimizer = engine.make_optimizer(self.optimizer, [*model.parameters(), centers], self.lr, self.momentum)
        loop.keep(model=model, optimizer=optimizer)
        soft_assign = lambda x: student_t_assignment(model.encoder(x), centers, self.alpha)  # noqa: E731

        converged = False
        for epoch in loop.epochs(self.max_epochs):
            epoch_loss, epoch_steps = zero(), 0
            batches = loop.batches(len(data), self.batch_size)
            for step, idx in enumerate(batches):
                if s.iteration % self.update_interval == 0:  # new target P from the whole dataset
                    q = engine.full_pass(soft_assign, data)
                    s.p = target_distribution(q)
                    labels = q.argmax(1).cpu().numpy()
                    label_change = float(np.mean(labels != s.labels))
                    s.labels = labels
                    self._monitor({"epoch": round(epoch + step / len(batches), 3), "iteration": s.iteration,
                                   "loss": s.since_update.item() / s.steps_since_update if s.steps_since_update
                                   else float("nan"), "label_change": label_change}, labels, y)
                    s.since_update, s.steps_since_update = zero(), 0
                    if s.iteration > 0 and label_change < self.tol:
                        converged = True
                        break
                loss = loop.step(optimizer, lambda: self._loss(model, data[idx], s.p[idx], centers))
                s.since_update += loss
                epoch_loss += loss
                s.steps_since_update += 1
                epoch_steps += 1
                s.iteration += 1
            if epoch_steps:
                loop.epoch_done(epoch_loss.item() / epoch_steps)
            if converged:
                break

        self.n_iter_, self.converged_ = s.iteration, converged
        self.cluster_centers_ = centers.detach().cpu().numpy()
        self.labels_ = engine.full_pass(soft_assign, data).argmax(1).cpu().numpy()
