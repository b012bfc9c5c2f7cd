"""What every deep clustering estimator shares: the autoencoder it starts from, device, seeding,
k-means initialisation in the embedding, predict/transform, and monitoring against labels."""

import copy

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans

from deepclust import engine
from deepclust.metrics import cluster_accuracy
from deepclust.pretrain import pretrain_autoencoder
from sklearn.metrics import normalized_mutual_info_score


class DeepClusterer(ClusterMixin, BaseEstimator):
    supports_checkpoint = False  # whether _fit saves and resumes through self._checkpoint

    """Base class. Subclasses implement ``_fit(data, y, model, generator, device)`` and set
    ``cluster_centers_`` (in embedding space), ``labels_`` and ``history_``.

    ``autoencoder`` is a pretrained network shared between methods (it is copied, never
    modified); when it is None, ``fit`` pretrains one with the ``pretrain_*`` settings.
    ``y`` given to ``fit`` is used only to log ACC/NMI in ``history_``, never for training.
    """

    def _start(self, X):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or len(X) < self.n_clusters:
            raise ValueError(f"X must be 2-D with at least n_clusters={self.n_clusters} rows; got shape {X.shape}")
        seed = 0 if self.random_state is None else int(self.random_state)
        device = engine.resolve_device(self.device)
        generator = engine.seeded_generator(seed, device)
        if self.autoencoder is None:
            model, self.pretrain_history_ = pretrain_autoencoder(
                X, epochs=self.pretrain_epochs, batch_size=self.batch_size, device=str(device),
                random_state=seed, verbose=self.verbose, **self._architecture())
        else:
            model = copy.deepcopy(self.autoencoder).to(device)
        return engine.as_tensor(X, device), model.train(), generator, seed

    def _architecture(self) -> dict:
        """The network pretrained when no ``autoencoder`` is given (DCEC overrides it)."""
        return {"hidden_dims": self.hidden_dims, "embedding_dim": self.embedding_dim}

    def fit(self, X, y=None, checkpoint: engine.Checkpoint = engine.NO_CHECKPOINT):
        """``checkpoint`` (engine.Checkpoint): save and resume the fine-tuning state at epoch
        ends (methods with ``supports_checkpoint``; others ignore it and restart on a retry)."""
        data, model, generator, seed = self._start(X)
        self.history_ = []
        self._checkpoint = checkpoint
        try:
            self._fit(data, y, model, generator, seed)
        finally:
            del self._checkpoint
        self.autoencoder_ = model.eval()
        return self

    def _kmeans_init(self, z: torch.Tensor, seed: int) -> KMeans:
        return KMeans(self.n_clusters, n_init=self.n_init, random_state=seed).fit(z.cpu().numpy())

    def _initial_clusters(self, model, data: torch.Tensor, seed: int, saved: dict | None):
        """(centres, labels): k-means on the embedding, or those a checkpoint saved."""
        if saved is None:
            kmeans = self._kmeans_init(engine.full_pass(model.encoder, data), seed)
            return kmeans.cluster_centers_, kmeans.labels_
        return saved["centers"], saved["labels"].numpy()

    def _monitor(self, row: dict, labels: np.ndarray, y) -> dict:
        if y is not None:
            row["acc"] = cluster_accuracy(y, labels)
            row["nmi"] = float(normalized_mutual_info_score(y, labels))
        self.history_.append(row)
        return row

    def transform(self, X) -> np.ndarray:
        """Embedding of X by the fine-tuned encoder."""
        device = next(self.autoencoder_.parameters()).device
        return engine.full_pass(self.autoencoder_.encoder, engine.as_tensor(X, device)).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """Nearest cluster centre in the embedding (the argmax of DEC's q)."""
        z = torch.as_tensor(self.transform(X))
        return torch.cdist(z, torch.as_tensor(self.cluster_centers_, dtype=z.dtype)).argmin(1).numpy()
