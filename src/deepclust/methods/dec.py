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
from deepclust.methods.base import DeepClusterer


class DEC(DeepClusterer):
    supports_checkpoint = True

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

    def _fit(self, data, y, model, generator, seed):
        name = type(self).__name__
        checkpoint = self._checkpoint
        saved = checkpoint.load()
        initial_centers, labels = self._initial_clusters(model, data, seed, saved)
        centers = torch.nn.Parameter(torch.as_tensor(initial_centers, dtype=torch.float32, device=data.device))
        optimizer = engine.make_optimizer(self.optimizer, [*model.parameters(), centers], self.lr, self.momentum)
        soft_assign = lambda x: student_t_assignment(model.encoder(x), centers, self.alpha)  # noqa: E731
        progress = engine.Progress(name, self.max_epochs, self.verbose)

        zero = lambda: torch.zeros((), device=data.device)  # noqa: E731
        iteration, since_update, steps_since_update, converged, first_epoch, p = 0, zero(), 0, False, 0, None
        if saved is not None:
            engine.restore_training_state(saved, model, optimizer, generator)
            p, self.history_ = saved["p"].to(data.device), saved["history"]
            iteration, steps_since_update = saved["iteration"], saved["steps_since_update"]
            since_update = saved["since_update"].to(data.device)
            first_epoch = saved["epoch"] + 1

        def state():
            return {**engine.training_state(model, optimizer, generator), "centers": centers.detach().cpu(),
                    "labels": torch.as_tensor(labels), "p": p.cpu(),
                    "history": self.history_, "iteration": iteration, "since_update": since_update.cpu(),
                    "steps_since_update": steps_since_update}

        with checkpoint:
            for epoch in range(first_epoch, self.max_epochs):
                epoch_loss, epoch_steps = zero(), 0
                batches = engine.minibatches(len(data), self.batch_size, generator)
                for step, idx in enumerate(batches):
                    if iteration % self.update_interval == 0:  # new target P from the whole dataset
                        q = engine.full_pass(soft_assign, data)
                        p = target_distribution(q)
                        new_labels = q.argmax(1).cpu().numpy()
                        label_change = float(np.mean(new_labels != labels))
                        labels = new_labels
                        self._monitor({"epoch": round(epoch + step / len(batches), 3), "iteration": iteration,
                                       "loss": since_update.item() / steps_since_update if steps_since_update
                                       else float("nan"), "label_change": label_change}, labels, y)
                        since_update, steps_since_update = zero(), 0
                        if iteration > 0 and label_change < self.tol:
                            converged = True
                            break
                    with engine.autocast(data.device):
                        loss = self._loss(model, data[idx], p[idx], centers)
                    engine.optimizer_step(optimizer, loss)
                    since_update += loss.detach()
                    epoch_loss += loss.detach()
                    steps_since_update += 1
                    epoch_steps += 1
                    iteration += 1
                if epoch_steps:
                    progress.epoch_done(epoch, epoch_loss.item() / epoch_steps)
                if converged:
                    break
                checkpoint.epoch_end(epoch, state)

        self.n_iter_, self.converged_ = iteration, converged
        self.cluster_centers_ = centers.detach().cpu().numpy()
        self.labels_ = engine.full_pass(soft_assign, data).argmax(1).cpu().numpy()
