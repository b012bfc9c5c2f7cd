"""What every deep clustering estimator shares: the autoencoder it starts from, device, seeding,
k-means initialisation in the embedding, predict/transform, and monitoring against labels."""

import copy

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.utils.validation import check_is_fitted, validate_data

from deepclust import engine
from deepclust.losses import squared_distances
from deepclust.methods import parameters
from deepclust.metrics import cluster_accuracy
from deepclust.pretrain import pretrain_autoencoder


class DeepClusterer(TransformerMixin, ClusterMixin, BaseEstimator):
    """Base class of the deep clustering estimators: an autoencoder, then clustering in its embedding.

    A deep clusterer starts from an autoencoder, either a pretrained one that is shared between
    methods (``autoencoder``, deep-copied and never modified) or one that ``fit`` pretrains on X
    by reconstruction (``pretrain_epochs`` epochs, the ``hidden_dims`` / ``embedding_dim`` layout:
    DEC's d-500-500-2000-10 by default). Most methods initialise their clusters by k-means with
    ``n_init`` restarts in that embedding, then fine-tune the encoder and the clusters together;
    ``transform`` gives the fine-tuned embedding and ``predict`` the nearest cluster centre in it.

    Subclasses define ``__init__`` (the scikit-learn convention: store every argument unchanged
    under its own name) and implement ``_fit(data, y, model, loop, seed)``: the method's maths
    in an ``engine.TrainingLoop`` that the shared ``fit`` made, which owns epochs, mini-batches,
    optimiser steps, progress, the NaN stop, checkpoints and resume (the method declares its
    state to it and writes no checkpoint code). ``_fit`` sets ``cluster_centers_`` (in
    embedding space) and ``labels_`` and adds the rows of ``history_`` (kept by the loop); the
    shared ``fit`` prepares the data, the device, the seeded random stream and the network:
    ``_network`` gives the autoencoder, pretrained or copied; methods that learn their own
    network from scratch (InfoGAN, JULE) override it and ignore ``autoencoder``. ``y`` given to
    ``fit`` is used only to log ACC and NMI in ``history_``, never for training. ``fit`` also
    takes ``checkpoint`` (an ``engine.Checkpoint``), where the loop saves and resumes the
    training state at epoch ends.

    Every parameter is declared in ``_parameter_constraints`` (``deepclust.methods.parameters``,
    the single source the workflow's config check reads too) and checked by ``fit`` with
    scikit-learn's validation, which names the parameter and its valid values. ``fit``,
    ``predict`` and ``transform`` check X in one place (``_validate_input``): a dense 2-D array
    without NaN or infinity, with the number of features ``fit`` saw (``n_features_in_``);
    ``predict`` and ``transform`` before ``fit`` raise ``NotFittedError``.

    This class has no ``__init__`` of its own; the parameters below are those its methods read,
    which every subclass that uses the shared ``fit`` takes.

    Parameters
    ----------
    n_clusters : int
        Number of clusters (at least as many rows as this are needed in X).
    autoencoder : torch.nn.Module or None
        Pretrained autoencoder with ``encoder`` and ``decoder`` parts, deep-copied before
        training. None: ``fit`` pretrains one on X.
    batch_size : int
        Mini-batch size, of the fine-tuning and of the pretraining when there is one.
    n_init : int
        Restarts of the k-means that initialises the clusters in the embedding.
    pretrain_epochs : int
        Epochs of autoencoder pretraining when ``autoencoder`` is None.
    hidden_dims : tuple of int
        Hidden layer widths of the encoder pretrained when ``autoencoder`` is None (the decoder
        mirrors them).
    embedding_dim : int
        Dimension of the embedding of the autoencoder pretrained when ``autoencoder`` is None.
    device : str
        Torch device: "auto" (CUDA when available, else the CPU), "cpu", "cuda" or "cuda:N".
    random_state : int in [0, 2**32 - 1] or None
        Seed of weight initialisation, mini-batch order, sampling and k-means; None means 0. A
        numpy ``RandomState`` is refused: every random stream, torch's too, is seeded from one
        integer, so that a run is reproduced from its seed alone.
    verbose : bool
        Print progress while training.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
        Cluster centres in the embedding.
    autoencoder_ : torch.nn.Module
        The fine-tuned network (in eval mode); ``autoencoder`` itself is left as it was.
    n_features_in_ : int
        Number of features of the X given to ``fit``.
    history_ : list of dict
        One row per monitoring point of the training (epoch, loss, ...; ``acc`` and ``nmi``
        too when ``y`` was given to ``fit``).
    pretrain_history_ : list of dict
        One row per pretraining epoch; set only when ``fit`` pretrained the autoencoder.

    References
    ----------
    .. [1] J. Xie, R. Girshick and A. Farhadi, "Unsupervised Deep Embedding for Clustering
       Analysis", Proceedings of the 33rd International Conference on Machine Learning (ICML),
       2016.
    .. [2] E. Min, X. Guo, Q. Liu, G. Zhang, J. Cui and J. Long, "A Survey of Clustering With Deep
       Learning: From the Perspective of Network Architecture", IEEE Access 6, 2018.
    """

    _parameter_constraints: dict = parameters.DEEP_CLUSTERER

    def __sklearn_is_fitted__(self) -> bool:
        # by scikit-learn's default rule, a parameter ending in "_" (DCN's lambda_) would count as fitted
        return hasattr(self, "autoencoder_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # the networks compute in float32
        return tags

    def _validate_input(self, X, y=None, *, fitting: bool) -> np.ndarray:
        """X as a float32 array, checked in one place for fit, predict and transform as
        scikit-learn does: the parameters (when fitting) or that the estimator is fitted (else),
        a dense 2-D array, no NaN or infinity, at least n_clusters rows when fitting, as many
        features as fit saw otherwise, and a ``y`` as long as X. Then ``_check_fit``."""
        if fitting:
            self._validate_params()
        else:
            check_is_fitted(self, "autoencoder_")
        X = validate_data(self, X, reset=fitting, dtype=np.float32)
        if fitting:
            if len(X) < self.n_clusters:
                raise ValueError(f"X must have at least n_clusters={self.n_clusters} rows; got {len(X)}")
            if y is not None and len(y) != len(X):
                raise ValueError(f"y has {len(y)} labels but X has {len(X)} rows")
            self._check_fit(X)
        return X

    def _check_fit(self, X: np.ndarray) -> None:
        """Checks of the parameters against each other or against the data, before fitting."""

    def _network(self, X: np.ndarray, device: torch.device, seed: int) -> torch.nn.Module:
        """The network ``_fit`` trains: a copy of ``autoencoder``, or one pretrained on X."""
        if self.autoencoder is None:
            model, self.pretrain_history_ = pretrain_autoencoder(
                X, epochs=self.pretrain_epochs, batch_size=self.batch_size, device=str(device),
                random_state=seed, verbose=self.verbose, **self._architecture())
            return model
        return copy.deepcopy(self.autoencoder).to(device)

    def _architecture(self) -> dict:
        """The network pretrained when no ``autoencoder`` is given (DCEC overrides it)."""
        return {"hidden_dims": self.hidden_dims, "embedding_dim": self.embedding_dim}

    def fit(self, X, y=None, checkpoint: engine.Checkpoint = engine.NO_CHECKPOINT):
        """``checkpoint`` (engine.Checkpoint): where the training loop saves its state at epoch
        ends and resumes it from."""
        y = None if y is None else np.asarray(y)
        X = self._validate_input(X, y, fitting=True)
        seed = 0 if self.random_state is None else int(self.random_state)
        device = engine.resolve_device(self.device)
        generator = engine.seeded_generator(seed, device)
        model = self._network(X, device, seed).train()
        self.history_ = []
        loop = engine.TrainingLoop(type(self).__name__, generator, checkpoint, self.verbose)
        loop.keep(history=self.history_)
        self._fit(engine.as_tensor(X, device), y, model, loop, seed)
        self.autoencoder_ = model.eval()
        return self

    def _kmeans_init(self, z: torch.Tensor, seed: int) -> KMeans:
        """k-means (``n_init`` restarts) on an embedding: the clusters most methods start from."""
        return KMeans(self.n_clusters, n_init=self.n_init, random_state=seed).fit(z.cpu().numpy())

    def _monitor(self, row: dict, labels: np.ndarray, y) -> dict:
        if y is not None:
            row["acc"] = cluster_accuracy(y, labels)
            row["nmi"] = float(normalized_mutual_info_score(y, labels))
        self.history_.append(row)
        return row

    def transform(self, X) -> np.ndarray:
        """Embedding of X by the fine-tuned encoder."""
        X = self._validate_input(X, fitting=False)
        device = next(self.autoencoder_.parameters()).device
        return engine.full_pass(self.autoencoder_.encoder, engine.as_tensor(X, device)).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """Nearest cluster centre in the embedding (the argmax of DEC's q)."""
        z = torch.as_tensor(self.transform(X))
        return squared_distances(z, torch.as_tensor(self.cluster_centers_, dtype=z.dtype)).argmin(1).numpy()
