"""What a cluster looks like, for the centres figure of image datasets: per cluster, its centre
drawn as an image beside the members nearest to it."""

import numpy as np

from deepclust.metrics import NOISE


def largest_clusters(labels: np.ndarray, limit: int) -> np.ndarray:
    """Cluster ids (noise left out), largest first (ties by id), at most ``limit`` of them."""
    ids, counts = np.unique(labels[labels != NOISE], return_counts=True)
    return ids[np.argsort(-counts, kind="stable")][:limit]


def centre_rows(images: np.ndarray, space: np.ndarray, labels: np.ndarray, clusters, n_nearest: int,
                decode=None) -> np.ndarray:
    """(len(clusters), 1 + n_nearest, image size): per cluster, its centre as an image, then its
    ``n_nearest`` members nearest that centre, nearest first (NaN where it has fewer).

    The centre is the mean of the cluster's members in ``space``, the features the method
    clustered (k-means' own centre, for k-means). ``decode`` (rows of ``space`` -> image rows)
    draws it; without one the centre image is the mean of the members' images."""
    rows = np.full((len(clusters), 1 + n_nearest, images.shape[1]), np.nan)
    centres = np.stack([space[labels == cluster].mean(0) for cluster in clusters])
    drawn = decode(centres) if decode is not None else None
    for row, (cluster, centre) in enumerate(zip(clusters, centres)):
        members = np.flatnonzero(labels == cluster)
        nearest = members[np.argsort(((space[members] - centre) ** 2).sum(1), kind="stable")[:n_nearest]]
        rows[row, 0] = drawn[row] if drawn is not None else images[members].mean(0)
        rows[row, 1:1 + len(nearest)] = images[nearest]
    return rows


def decoder(model):
    """A network's decoder as a function of embedding rows (numpy), giving rows in data space:
    a VAE's mean of p(x|z), an autoencoder's output (through the sigmoid of one that has it)."""
    import torch

    def decode(z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            z = torch.as_tensor(z, dtype=torch.float32, device=next(model.parameters()).device)
            if hasattr(model, "decode"):
                return model.decode(z).cpu().numpy()
            out = model.decoder(z)
            return (torch.sigmoid(out) if model.config.get("output") == "sigmoid" else out).cpu().numpy()

    return decode
