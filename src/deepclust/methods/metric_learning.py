"""Metric-learning deep clustering: k-means pseudo-labels on the embedding, then fine-tune the
encoder with a metric-learning loss on those pseudo-labels, then re-cluster, and repeat (the
pseudo-label iteration of DeepCluster, Caron et al., ECCV 2018, with a metric loss in place of
its classifier).

Losses (Euclidean distances, on L2-normalised embeddings by default):
- "batch_hard": Hermans, Beyer, Leibe 2017, "In Defense of the Triplet Loss": per anchor, the
  farthest same-label and the closest other-label sample of the batch.
- "semi_hard": Schroff, Kalenichenko, Philbin, CVPR 2015 (FaceNet): per anchor-positive pair,
  the closest negative that is farther than the positive; as TF-addons' triplet_semihard_loss.
- "contrastive": Hadsell, Chopra, LeCun, CVPR 2006: (1/2) d^2 for same-label pairs and
  (1/2) max(0, margin - d)^2 for the others, over all pairs of the batch.
- "angular": Wang et al., ICCV 2017: the angle at the negative bounded by ``angle`` (alpha, 45
  degrees), in the paper's batch form, a log-sum-exp over every negative of each same-label pair
  (deepclust.metric_losses.angular_loss; no margin).
- "npair": Sohn, NeurIPS 2016: the multi-class N-pair loss, a log-sum-exp over every negative of
  each same-label pair on inner products, plus ``norm_weight`` (0.002) times the mean squared
  embedding norm (deepclust.metric_losses.npair_loss; no margin; meant for ``normalize=False``).

Defaults and their source: batch hard (Hermans' best loss); P x K batches with K = 4 samples per
pseudo-class and batch 72 (Hermans: P = 18 identities x K = 4); Adam lr 3e-4 (Hermans); margin 0.2
and L2-normalised embeddings (FaceNet's alpha = 0.2 on the unit hypersphere: without the
normalisation a triplet hinge can be lowered by just scaling the embedding up, and the margin
would have no fixed meaning against the pretrained embedding's arbitrary scale); re-clustering
after every epoch (DeepCluster); k-means with 20 restarts and tol 0.001 (DEC). Not from a paper:
``reconstruction_weight`` = 1 keeps the decoder's reconstruction term, as IDEC/DCN do, so the
embedding keeps the data's structure rather than collapsing onto the current pseudo-labels.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans

from deepclust import engine
from deepclust.losses import reconstruction_loss
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer
from deepclust.metric_losses import LOSSES
from deepclust.metrics import best_matching


def pk_batches(labels: torch.Tensor, classes_per_batch: int, samples_per_class: int, n_batches: int,
               generator: torch.Generator) -> torch.Tensor:
    """(n_batches, P * K) sample indices, Hermans et al.'s P x K sampling: each batch holds
    K = samples_per_class samples of each of P = classes_per_batch distinct labels, in runs of K.

    The K samples are a window of a random within-class order starting at a random offset, so
    they are distinct when the class has at least K members (it wraps around otherwise).
    All on the labels' device, drawn from ``generator``."""
    device = labels.device
    shuffled = torch.randperm(len(labels), generator=generator, device=device)
    by_class = shuffled[torch.argsort(labels[shuffled], stable=True)]  # grouped by label, random within
    counts = torch.bincount(labels)
    starts = counts.cumsum(0) - counts
    present = torch.nonzero(counts).squeeze(1)
    if classes_per_batch > len(present):
        raise ValueError(f"{classes_per_batch} classes per batch asked for but only {len(present)} labels occur")
    pick = torch.rand(n_batches, len(present), generator=generator, device=device).argsort(1)[:, :classes_per_batch]
    classes = present[pick]                                               # (batches, P)
    size = counts[classes]
    offset = (torch.rand(classes.shape, generator=generator, device=device) * size).long().clamp_max(size - 1)
    within = (offset[..., None] + torch.arange(samples_per_class, device=device)) % size[..., None]
    return by_class[starts[classes][..., None] + within].reshape(n_batches, -1)


def count_changed_labels(previous: np.ndarray, current: np.ndarray) -> int:
    """Samples whose cluster changed, after matching the current clusters to the previous ones
    one-to-one (Hungarian), since k-means' cluster ids are arbitrary."""
    mapping = best_matching(previous, current)
    unmatched = np.iinfo(np.int64).min
    lookup = np.full(int(current.max()) + 1, unmatched, dtype=np.int64)
    lookup[list(mapping)] = list(mapping.values())
    return int(np.sum(lookup[current] != previous))


def cluster_means(z: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=n_clusters)
    sums = np.zeros((n_clusters, z.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, z)
    return sums / np.maximum(counts, 1)[:, None]


class MetricLearningDC(DeepClusterer):
    """Metric-learning deep clustering: alternate k-means pseudo-labels and metric learning on them.

    DeepCluster's pseudo-label iteration with a metric-learning loss in place of its classifier
    (a combination of published parts, not one paper's method). Round 0 is k-means (``n_init``
    restarts) on the pretrained embedding. Each round then trains the encoder for
    ``epochs_per_round`` epochs of P x K batches on the current pseudo-labels (K =
    ``samples_per_class`` samples of each of P = min(clusters, batch_size // K) pseudo-classes,
    ceil(n / (P K)) batches an epoch, so about n samples) with loss = metric loss +
    ``reconstruction_weight`` * reconstruction error, and re-runs k-means on the new embedding,
    started from the previous clusters' means in it (one run, so clusters keep their place and
    their ids unless the data moves them). It stops after ``rounds`` rounds, or earlier when
    fewer than a fraction ``tol`` of the samples change cluster (after Hungarian matching of the
    two clusterings). ``fit(X, y, checkpoint=...)`` saves and resumes at round ends.
    ``transform`` gives the (L2-normalised, when ``normalize``) embedding that k-means clusters.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters.
    autoencoder : torch.nn.Module or None, default=None
        Pretrained autoencoder, deep-copied before training; None: ``fit`` pretrains one on X.
    loss : {"batch_hard", "semi_hard", "contrastive", "angular", "npair"}, default="batch_hard"
        Metric loss: Hermans et al.'s batch hard triplet loss, FaceNet's triplet loss with
        semi-hard negatives, Hadsell et al.'s contrastive loss, Wang et al.'s angular loss or
        Sohn's multi-class N-pair loss.
    margin : float, default=0.2
        Margin of the triplet and contrastive losses (FaceNet's 0.2 on the unit hypersphere), > 0.
    angle : float, default=45.0
        The angular loss's alpha in degrees, in (0, 90): the bound on the angle at the negative.
    norm_weight : float, default=0.002
        Weight of the N-pair loss's regulariser, the mean squared embedding norm (Sohn's 0.002).
    normalize : bool, default=True
        L2-normalise the embedding before the loss and k-means, so the margin has a fixed
        meaning whatever the pretrained embedding's scale.
    rounds : int, default=50
        Upper bound on the rounds of training and re-clustering.
    epochs_per_round : int, default=1
        Training epochs between two k-means re-clusterings (DeepCluster re-clusters every epoch).
    batch_size : int, default=72
        Samples per P x K batch, at most (Hermans et al.'s 18 x 4); at least 2 * samples_per_class.
    samples_per_class : int, default=4
        K, samples of each pseudo-class in a batch (Hermans et al.'s 4; at least 2).
    lr : float, default=3e-4
        Learning rate of Adam (Hermans et al.'s 3e-4).
    reconstruction_weight : float, default=1.0
        Weight of the decoder's reconstruction (mean squared) error, which keeps the embedding
        from collapsing onto the current pseudo-labels (not from a paper; 0: off).
    tol : float, default=0.001
        Stop when fewer than this fraction of the samples change cluster in a round.
    n_init : int, default=20
        Restarts of the round-0 k-means.
    pretrain_epochs : int, default=200
        Epochs of autoencoder pretraining when ``autoencoder`` is None.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Encoder layer widths of the pretrained autoencoder.
    embedding_dim : int, default=10
        Embedding dimension of the pretrained autoencoder.
    device : str, default="auto"
        Torch device: "auto" (CUDA when available, else the CPU), "cpu" or "cuda[:N]".
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seed of initialisation, batch sampling and k-means; None means 0. A numpy
        ``RandomState`` is refused (every random stream is seeded from one integer).
    verbose : bool, default=False
        Print progress.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        The last k-means' labels, on the final embedding.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
        The last k-means' centres (in the normalised embedding when ``normalize``).
    autoencoder_ : torch.nn.Module
        The fine-tuned autoencoder.
    history_ : list of dict
        One row for round 0 and one per round: ``epoch``, ``round``, ``loss``, ``metric_loss``,
        ``reconstruction_loss``, ``labels_changed``, ``label_change``, and ``acc`` / ``nmi``
        when ``y`` was given.
    n_rounds_ : int
        Rounds run.
    converged_ : bool
        Whether training stopped by ``tol`` rather than by ``rounds``.
    pretrain_history_ : list of dict
        Per-epoch pretraining losses; only when ``fit`` pretrained the autoencoder.

    References
    ----------
    .. [1] M. Caron, P. Bojanowski, A. Joulin and M. Douze, "Deep Clustering for Unsupervised
       Learning of Visual Features", European Conference on Computer Vision (ECCV), 2018.
    .. [2] A. Hermans, L. Beyer and B. Leibe, "In Defense of the Triplet Loss for Person
       Re-Identification", arXiv:1703.07737, 2017.
    .. [3] F. Schroff, D. Kalenichenko and J. Philbin, "FaceNet: A Unified Embedding for Face
       Recognition and Clustering", Proceedings of the IEEE Conference on Computer Vision and
       Pattern Recognition (CVPR), 2015.
    .. [4] R. Hadsell, S. Chopra and Y. LeCun, "Dimensionality Reduction by Learning an Invariant
       Mapping", Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition
       (CVPR), 2006.
    .. [5] J. Wang, F. Zhou, S. Wen, X. Liu and Y. Lin, "Deep Metric Learning with Angular Loss",
       Proceedings of the IEEE International Conference on Computer Vision (ICCV), 2017.
    .. [6] K. Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss Objective",
       Advances in Neural Information Processing Systems (NeurIPS), 2016.
    """

    _parameter_constraints: dict = parameters.METRIC_LEARNING

    def __init__(self, n_clusters=10, *, autoencoder=None, loss="batch_hard", margin=0.2, angle=45.0,
                 norm_weight=0.002, normalize=True, rounds=50, epochs_per_round=1, batch_size=72,
                 samples_per_class=4, lr=3e-4, reconstruction_weight=1.0, tol=0.001, n_init=20, pretrain_epochs=200,
                 hidden_dims=(500, 500, 2000), embedding_dim=10, device="auto", random_state=None,
                 verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.loss = loss
        self.margin = margin
        self.angle = angle
        self.norm_weight = norm_weight
        self.normalize = normalize
        self.rounds = rounds
        self.epochs_per_round = epochs_per_round
        self.batch_size = batch_size
        self.samples_per_class = samples_per_class
        self.lr = lr
        self.reconstruction_weight = reconstruction_weight
        self.tol = tol
        self.n_init = n_init
        self.pretrain_epochs = pretrain_epochs
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_fit(self, X: np.ndarray) -> None:
        if self.batch_size < 2 * self.samples_per_class:
            raise ValueError(f"batch_size must hold at least 2 pseudo-classes of samples_per_class="
                             f"{self.samples_per_class} samples (>= {2 * self.samples_per_class}), "
                             f"got {self.batch_size}")

    def _metric_loss(self):
        """The loss as f(z, labels, margin); the angular and N-pair losses take their own setting."""
        loss = LOSSES[self.loss]
        setting = {"angular": self.angle, "npair": self.norm_weight}.get(self.loss)
        return loss if setting is None else lambda z, labels, margin: loss(z, labels, setting)

    def _embed(self, z: torch.Tensor) -> torch.Tensor:
        """The space the metric loss and k-means work in."""
        return F.normalize(z, dim=1) if self.normalize else z

    def _embedding(self, model, data) -> np.ndarray:
        return engine.full_pass(lambda x: self._embed(model.encoder(x)), data).cpu().numpy()

    def _loss(self, model, x, pseudo_labels, metric_loss):
        """(loss, metric, reconstruction): metric loss + reconstruction_weight * reconstruction."""
        z = model.encoder(x)
        metric = metric_loss(self._embed(z), pseudo_labels, self.margin)
        reconstruction = (reconstruction_loss(model.decoder(z), x) if self.reconstruction_weight
                          else torch.zeros((), device=x.device))
        return metric + self.reconstruction_weight * reconstruction, metric, reconstruction

    def _fit(self, data, y, model, loop, seed):
        metric_loss = self._metric_loss()
        optimizer = engine.make_optimizer("adam", model.parameters(), self.lr)
        loop.keep(model=model, optimizer=optimizer)

        def start():  # round 0: k-means on the pretrained embedding
            kmeans = self._kmeans_init(torch.as_tensor(self._embedding(model, data)), seed)
            self._monitor({"epoch": 0, "round": 0, "loss": float("nan"), "metric_loss": float("nan"),
                           "reconstruction_loss": float("nan"), "labels_changed": 0, "label_change": 0.0},
                          kmeans.labels_, y)
            return {"labels": kmeans.labels_, "centers": kmeans.cluster_centers_}

        s = loop.start(start)
        converged = False
        # one loop epoch is a round (the k-means labels are whole at its end); progress counts epochs
        for round_ in loop.epochs(self.rounds, progress_epochs=self.rounds * self.epochs_per_round):
            pseudo = torch.as_tensor(s.labels, dtype=torch.long, device=data.device)
            n_present = len(np.unique(s.labels))
            classes_per_batch = min(n_present, self.batch_size // self.samples_per_class)
            n_batches = -(-len(data) // (classes_per_batch * self.samples_per_class))
            totals = torch.zeros(3, device=data.device)  # loss, metric, reconstruction over the round
            for epoch in range(round_ * self.epochs_per_round, (round_ + 1) * self.epochs_per_round):
                epoch_totals = torch.zeros(3, device=data.device)
                for idx in pk_batches(pseudo, classes_per_batch, self.samples_per_class, n_batches, loop.generator):
                    terms = loop.step(optimizer, lambda: self._loss(model, data[idx], pseudo[idx], metric_loss))
                    epoch_totals += torch.stack(terms)
                loop.epoch_done(epoch_totals[0].item() / n_batches, epoch=epoch)
                totals += epoch_totals

            # re-cluster the new embedding, warm-started from the previous clusters' means in it
            z = self._embedding(model, data)
            init = cluster_means(z, s.labels, self.n_clusters)
            kmeans = KMeans(self.n_clusters, init=init, n_init=1, random_state=seed).fit(z)
            changed = count_changed_labels(s.labels, kmeans.labels_)
            s.labels, s.centers = kmeans.labels_, kmeans.cluster_centers_
            loss, metric, reconstruction = (totals / (n_batches * self.epochs_per_round)).tolist()
            self._monitor({"epoch": (round_ + 1) * self.epochs_per_round, "round": round_ + 1, "loss": loss,
                           "metric_loss": metric, "reconstruction_loss": reconstruction, "labels_changed": changed,
                           "label_change": changed / len(s.labels)}, s.labels, y)
            if changed / len(s.labels) < self.tol:
                converged = True
                break

        self.n_rounds_, self.converged_ = self.history_[-1]["round"], converged
        self.labels_ = s.labels
        self.cluster_centers_ = s.centers.astype(np.float32)

    def transform(self, X) -> np.ndarray:
        """The (normalised, when ``normalize``) embedding that k-means clusters."""
        X = self._validate_input(X, fitting=False)
        device = next(self.autoencoder_.parameters()).device
        return self._embedding(self.autoencoder_, engine.as_tensor(X, device))
