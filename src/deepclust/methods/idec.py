"""IDEC: Improved Deep Embedded Clustering with local structure preservation (Guo et al., IJCAI 2017).

DEC's procedure with the decoder kept: loss = reconstruction + gamma * KL(P || Q), so the
embedding keeps the data's local structure while it is pulled towards the clusters.
Paper settings: Adam lr 0.001, batch 256, gamma 0.1, update interval 140, tol 0.001.
"""

from deepclust.losses import kl_clustering_loss, reconstruction_loss, student_t_assignment
from deepclust.methods.dec import DEC


class IDEC(DEC):
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
