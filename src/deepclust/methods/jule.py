"""JULE: Joint Unsupervised LEarning of deep representations and image clusters (Yang, Parikh,
Batra, CVPR 2016).

A recurrent process: agglomerative clustering runs in the forward pass and a CNN
(deepclust.nn.jule) is trained in the backward pass on the current clusters with a weighted
triplet loss. Each partially unrolled period merges clusters, then trains the CNN for
``epochs_per_period`` epochs; it ends when ``n_clusters`` remain. As in the authors' code
(JULE.torch ``train.lua``):

- period 0 clusters the L2-normalised raw input: every sample is linked to its nearest
  neighbour and the connected components of those links are the initial clusters;
- sample affinity (graph degree linkage, Zhang et al. ECCV 2012): W_ij = exp(-||x_i - x_j||^2 /
  sigma^2) for the ``n_neighbors`` (K_s) nearest neighbours j of i, else 0, with sigma^2 the mean
  of those squared distances; cluster affinity A(C_a, C_b) = 1'W_ab W_ba 1 / |C_a|^2 +
  1'W_ba W_ab 1 / |C_b|^2;
- each merge takes the cluster C_a and its nearest cluster C_b that maximise
  A(C_b, C_a) + 1/(K_c - 1) * sum_{k=2..K_c} (A(C_b, C_a) - A(C_k, C_a)) over C_a's K_c
  (``n_cluster_neighbors``) nearest clusters C_k, the second term (local structure) counting only
  while more than 100 clusters remain;
- a period with C clusters merges ceil(eta * C) times (``unrolling_rate`` eta; 0.9 in the
  authors' recommendation for all but face datasets), never below ``n_clusters``;
- the loss, per mini-batch of 100 (SGD lr 0.01, momentum 0.9, weight decay 5e-5, "inv" decay
  lr * (1 + 1e-4 * iteration)^-0.75), is the mean over same-cluster pairs (a, p) of the batch and
  negatives n of max(0, gamma * ||f_a - f_p||^2 - ||f_a - f_n||^2 + margin), gamma = 1 and margin
  0.2 by default. The authors sample 20 negatives per pair; the mean over all of the batch's
  negatives is that sample's expectation, without the randomness;
- at the end the clusters are recomputed from scratch on the final features (nearest-neighbour
  links, then merges down to ``n_clusters``): ``labels_``, as the authors' code does
  (``final_clustering="from_scratch"``). ``final_clustering="recurrent"`` keeps the recurrent
  process's own last clusters instead (always in ``recurrent_labels_``). ``history_`` has the
  recurrent process, one row per period.

One addition that is ours (not in the paper), off by default: on large data sets the authors'
final merges can collapse. Outlier micro-clusters of a few samples, with almost no mutual links,
keep the lowest affinities to the end, so the last merges join real clusters while the outliers
take final places. With ``outlier_fraction`` f > 0, clusters under f * n / ``n_clusters``
samples are outliers in every agglomeration (periods and the final one): once ``n_clusters``
larger clusters remain and the best merge would join two of them, merging stops and each
outlier joins its best-affinity larger neighbour (deepclust.agglomeration.Agglomeration.run).

Differences from the authors' code, both for memory and exactness: W is a sparse matrix
(n * K_s entries) where theirs is dense n x n, and affinities are updated exactly after every
merge (theirs has a "fast" approximate update, and considers only each cluster's K_c nearest
clusters by mean). Memory is therefore O(n * K_s) plus the cluster graph: MNIST's 70,000 images
need ~20 GB of dense W in the original and tens of MB here. Time: the k-nearest-neighbour search
is O(n^2 d) per period (in chunks on the training device); the merges cost O(n K_s) each at most.
When no two clusters have any affinity left (disconnected neighbour graph) the smallest cluster
is merged into the one with the nearest mean, so ``n_clusters`` is always reached.

JULE learns from scratch: the ``autoencoder`` argument exists for the workflow's common
signature and is ignored.
"""

import numpy as np
import torch
from torch.nn import functional as F

from deepclust import engine
from deepclust.agglomeration import agglomerate, cluster_from_scratch, initial_clusters, nearest_neighbours
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer
from deepclust.nn.jule import JULENet

# what the triplet loss differentiates through (weighted_triplet_loss)
TRIPLET_GRADIENTS = ("all", "anchor")


# --- the backward pass: the weighted triplet loss (the forward pass: deepclust.agglomeration) --

def weighted_triplet_loss(f: torch.Tensor, labels: torch.Tensor, margin: float = 0.2,
                          gamma: float = 1.0, gradient: str = "all") -> torch.Tensor:
    """Mean over same-label pairs (a < p in batch order) of the mean over a's other-label samples
    n of max(0, gamma ||f_a - f_p||^2 - ||f_a - f_n||^2 + margin); 0 (with zero gradient) when
    the batch has no such pair.

    ``gradient`` "all" differentiates through anchors, positives and negatives (the paper's loss);
    "anchor" through the anchors only (f_p and f_n held fixed), which is what the authors' Torch
    reimplementation computes (JULE.torch; its README says the paper's numbers come from their
    Caffe code, whose loss layer is a graph-linkage loss instead): its TripletEmbedding criterion
    scales the anchor in place before forming the positives' and negatives' gradients, leaving
    them 2 gamma f_p / N and -2 f_n / N, along the features themselves, so the network's final
    L2 normalisation projects them to zero.

    Only the pairs' rows are formed (pairs x batch): the dense batch^3 form cost as much as JULE's
    CNN on the CPU. Finding the pairs reads their count on the host once per step."""
    if gradient not in TRIPLET_GRADIENTS:
        raise ValueError(f"gradient must be one of {', '.join(TRIPLET_GRADIENTS)}; got {gradient!r}")
    norms = f.pow(2).sum(1)
    # rows are anchors, columns positives and negatives; no batch^2 x dim tensor
    other, other_norms = (f.detach(), norms.detach()) if gradient == "anchor" else (f, norms)
    squared = (norms[:, None] + other_norms[None, :] - 2 * f @ other.T).clamp_min(0)
    same = labels[:, None] == labels[None, :]
    negative = ~same
    anchors, positives = (same.triu(diagonal=1) & negative.any(1, keepdim=True)).nonzero(as_tuple=True)
    if len(anchors) == 0:
        return f.sum() * 0.0
    hinge = F.relu(gamma * squared[anchors, positives, None] - squared[anchors] + margin)  # [pair, n]
    mask = negative[anchors]
    return (torch.where(mask, hinge, 0.0).sum(1) / mask.sum(1)).mean()


class JULE(DeepClusterer):
    """JULE: agglomerative clustering and a CNN's representation learned together, as a recurrent process.

    The forward pass merges clusters by agglomerative clustering on the network's features
    (graph degree linkage on a k-nearest-neighbour sample affinity, with JULE's criterion that
    weighs a merge's affinity against those of the cluster's other neighbours); the backward
    pass trains the network on the current clusters with a weighted triplet loss (same-cluster
    pairs closer than other-cluster samples by a margin). Period 0 clusters the L2-normalised
    input by nearest-neighbour links; each following period trains the network for
    ``epochs_per_period`` epochs on the current clusters, then merges a fraction
    ``unrolling_rate`` of them, until ``n_clusters`` remain. The final labels come from a fresh
    agglomeration of the final features (as the authors' code does) or from the recurrent
    process's last clusters (``final_clustering``). SGD with momentum and weight decay, learning
    rate ``lr * (1 + lr_decay * iteration) ^ -lr_power`` (Caffe's "inv" policy, as the authors'
    code). Details and the differences from the authors' code are in the module's docstring.

    JULE learns from scratch: ``autoencoder`` is accepted for the common signature and ignored.
    ``fit(X, y, checkpoint=...)`` saves and resumes at epoch ends. ``transform`` gives the
    network's L2-normalised features (``feature_dim`` of them) and ``predict`` the cluster with
    the nearest mean feature.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters at which the recurrent process stops (at least 2).
    autoencoder : None, default=None
        Ignored (JULE trains its own network).
    image_shape : tuple of int (channels, height, width) or None, default=None
        Shape of each image, for the authors' MNIST CNN; None: a fully connected network.
    unrolling_rate : float, default=0.9
        eta in (0, 1]: a period with C clusters merges ceil(eta * C) times (never below
        ``n_clusters``).
    epochs_per_period : int, default=20
        Training epochs of the network in each period (0: cluster without training).
    n_neighbors : int, default=20
        K_s, the nearest neighbours per sample in the sample affinity (below the number of
        samples).
    n_cluster_neighbors : int, default=5
        K_c, the nearest clusters compared in the merge criterion's local-structure term (at
        least 2).
    margin : float, default=0.2
        Margin of the triplet loss.
    gamma : float, default=1.0
        Weight of the anchor-positive squared distance in the triplet loss.
    batch_size : int, default=100
        Mini-batch size.
    lr : float, default=0.01
        Base learning rate of SGD.
    momentum : float, default=0.9
        Momentum of SGD.
    weight_decay : float, default=5e-5
        Weight decay of SGD.
    lr_decay : float, default=1e-4
        The "inv" policy's gamma: the learning rate is lr * (1 + lr_decay * iteration) ^ -lr_power.
    lr_power : float, default=0.75
        The "inv" policy's power.
    filters : int, default=50
        Channels of both convolutions (images only).
    feature_dim : int, default=160
        Dimension of the L2-normalised features the clustering works on.
    hidden_dim : int, default=512
        Width of the hidden layers of the fully connected network (flat data only).
    final_clustering : {"from_scratch", "recurrent"}, default="from_scratch"
        "from_scratch": ``labels_`` re-cluster the final features from nearest-neighbour links
        down to ``n_clusters`` (the authors' code); "recurrent": ``labels_`` are the recurrent
        process's last clusters (not in the paper).
    outlier_fraction : float, default=0.0
        f in [0, 1): clusters under f * n_samples / n_clusters samples are outliers, which join
        a larger cluster instead of keeping a final place (not in the paper; 0: off).
    triplet_gradient : {"all", "anchor"}, default="all"
        What the triplet loss differentiates through: "all", anchors, positives and negatives
        (the paper's loss); "anchor", the anchors only, as the authors' Torch code computes.
    device : str, default="auto"
        Torch device: "auto" (CUDA when available, else the CPU), "cpu" or "cuda[:N]".
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seed of weight initialisation and mini-batch order; None means 0. A numpy
        ``RandomState`` is refused (every random stream is seeded from one integer).
    verbose : bool, default=False
        Print progress.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Final clusters of the training rows (see ``final_clustering``).
    recurrent_labels_ : ndarray of shape (n_samples,)
        The recurrent process's last clusters, whatever ``final_clustering``.
    cluster_centers_ : ndarray of shape (n_clusters, feature_dim)
        Mean feature of each cluster of ``labels_``.
    n_periods_ : int
        Periods run after period 0.
    autoencoder_ : JULENet
        The trained network (in eval mode).
    history_ : list of dict
        One row for period 0 and one per period: ``epoch``, ``period``, ``n_clusters``,
        ``loss``, and ``acc`` / ``nmi`` of that period's clusters when ``y`` was given.

    References
    ----------
    .. [1] J. Yang, D. Parikh and D. Batra, "Joint Unsupervised Learning of Deep Representations
       and Image Clusters", Proceedings of the IEEE Conference on Computer Vision and Pattern
       Recognition (CVPR), 2016.
    .. [2] W. Zhang, X. Wang, D. Zhao and X. Tang, "Graph Degree Linkage: Agglomerative
       Clustering on a Directed Graph", European Conference on Computer Vision (ECCV), 2012.
    """

    _parameter_constraints: dict = parameters.JULE

    def __init__(self, n_clusters=10, *, autoencoder=None, image_shape=None, unrolling_rate=0.9,
                 epochs_per_period=20, n_neighbors=20, n_cluster_neighbors=5, margin=0.2, gamma=1.0,
                 batch_size=100, lr=0.01, momentum=0.9, weight_decay=5e-5, lr_decay=1e-4, lr_power=0.75,
                 filters=50, feature_dim=160, hidden_dim=512, final_clustering="from_scratch",
                 outlier_fraction=0.0, triplet_gradient="all", device="auto", random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.image_shape = image_shape
        self.unrolling_rate = unrolling_rate
        self.epochs_per_period = epochs_per_period
        self.n_neighbors = n_neighbors
        self.n_cluster_neighbors = n_cluster_neighbors
        self.margin = margin
        self.gamma = gamma
        self.batch_size = batch_size
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.lr_decay = lr_decay
        self.lr_power = lr_power
        self.filters = filters
        self.feature_dim = feature_dim
        self.hidden_dim = hidden_dim
        self.final_clustering = final_clustering
        self.outlier_fraction = outlier_fraction
        self.triplet_gradient = triplet_gradient
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_fit(self, X: np.ndarray) -> None:
        if self.n_neighbors >= len(X):
            raise ValueError(f"n_neighbors={self.n_neighbors} must be below the number of samples ({len(X)})")

    def _network(self, X, device, seed):
        return JULENet(X.shape[1], self.image_shape, self.filters, self.feature_dim, self.hidden_dim).to(device)

    def _fit(self, data, y, net, loop, seed):
        """Within a period the clusters are fixed (the agglomeration is rebuilt from the labels
        and the new features at the period's end), so every epoch end is a consistent point to
        save at; a period's merges come before the next period's first epoch, so a run stopped
        after a period's last epoch resumes with its merges."""
        optimizer = engine.make_optimizer("sgd", net.parameters(), self.lr, self.momentum, self.weight_decay)
        loop.keep(net=net, optimizer=optimizer)
        agglomeration = dict(n_neighbors=self.n_neighbors, n_cluster_neighbors=self.n_cluster_neighbors,
                             outlier_size=self.outlier_fraction * len(data) / self.n_clusters)

        def start():  # period 0: nearest-neighbour links on the raw input
            _, indices = nearest_neighbours(F.normalize(data, dim=1), self.n_neighbors)
            labels = initial_clusters(indices[:, 0])
            self._monitor({"epoch": 0, "period": 0, "n_clusters": int(labels.max()) + 1, "loss": float("nan")},
                          labels, y)
            # period 0 trains nothing: its merges come first
            return {"labels": labels, "period": 0, "period_epochs": self.epochs_per_period, "iteration": 0,
                    "loss": float("nan")}

        s = loop.start(start)

        def next_period(epochs_done: int) -> bool:
            """The merges of every period whose training is done; False once n_clusters remain."""
            while s.period_epochs == self.epochs_per_period:
                if s.period > 0:
                    s.labels = agglomerate(self._features(net, data), s.labels, self.n_clusters, self.unrolling_rate,
                                           **agglomeration)
                    row = self._monitor({"epoch": epochs_done, "period": s.period,
                                         "n_clusters": int(s.labels.max()) + 1, "loss": s.loss}, s.labels, y)
                    if self.verbose:
                        extra = "".join(f" {k}={row[k]:.4f}" for k in ("acc", "nmi") if k in row)
                        print(f"[JULE] period {s.period}: {row['n_clusters']} clusters after {epochs_done} epochs, "
                              f"loss={s.loss:.5f}{extra}", flush=True)
                if s.labels.max() + 1 <= self.n_clusters:
                    return False
                s.period, s.period_epochs, s.loss = s.period + 1, 0, float("nan")
            return True

        def triplet_loss(idx, targets):
            return weighted_triplet_loss(net(data[idx]), targets[idx], self.margin, self.gamma, self.triplet_gradient)

        for epoch in loop.epochs(None):  # until n_clusters remain
            if not next_period(epoch):
                break
            net.train()
            targets = torch.as_tensor(s.labels, dtype=torch.long, device=data.device)
            total, batches = torch.zeros((), device=data.device), 0
            for idx in loop.batches(len(data), self.batch_size):
                if len(idx) < 2:  # batch norm needs two samples
                    continue
                for group in optimizer.param_groups:  # Caffe's "inv" policy, as the authors' code
                    group["lr"] = self.lr * (1 + self.lr_decay * s.iteration) ** -self.lr_power
                total += loop.step(optimizer, lambda: triplet_loss(idx, targets))
                batches, s.iteration = batches + 1, s.iteration + 1
            s.loss = total.item() / max(batches, 1)
            loop.epoch_done(s.loss)
            s.period_epochs += 1

        features = self._features(net, data)
        self.recurrent_labels_ = np.asarray(s.labels)
        self.labels_ = (cluster_from_scratch(features, self.n_clusters, **agglomeration)
                        if self.final_clustering == "from_scratch" else self.recurrent_labels_)
        features = features.cpu().numpy()
        self.cluster_centers_ = np.stack([features[self.labels_ == c].mean(0)
                                          for c in range(self.labels_.max() + 1)]).astype(np.float32)
        self.n_periods_ = s.period

    @staticmethod
    def _features(net, data) -> torch.Tensor:
        """On the training device, where the agglomeration's neighbour search runs."""
        net.eval()
        return engine.full_pass(net, data)
