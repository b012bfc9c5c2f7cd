"""DCEC: Deep Convolutional Embedded Clustering (Guo, Liu, Zhu, Yin, ICONIP 2017).

IDEC's loss (reconstruction + gamma * KL(P || Q)) on a convolutional autoencoder (conv 32 5x5/2,
conv 64 5x5/2, conv 128 3x3/2, dense 10; deepclust.nn.autoencoder.ConvAutoencoder), so images keep
their spatial structure. Paper settings: gamma 0.1, Adam lr 0.001, batch 256, update interval
140, tol 0.001, CAE pretrained 200 epochs.
"""

from deepclust.methods.idec import IDEC
from deepclust.nn.autoencoder import ConvAutoencoder


class DCEC(IDEC):
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

    def _start(self, X):
        # checked where the autoencoder is taken, so DCEC keeps the shared fit (and its checkpoint)
        if self.autoencoder is not None and not isinstance(self.autoencoder, ConvAutoencoder):
            raise ValueError(f"DCEC needs a convolutional autoencoder (net kind cae), got "
                             f"{type(self.autoencoder).__name__}; use IDEC for fully connected ones")
        return super()._start(X)
