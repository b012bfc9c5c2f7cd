"""Clustering losses shared by the deep methods (DEC, IDEC, DCN, ...)."""

import torch


def squared_distances(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """||z_i - mu_j||^2 from the differences. cdist's default for more than 25 rows is the
    matrix-product form ||z||^2 + ||mu||^2 - 2 z.mu, whose cancellation loses distances that are
    small beside the norms (and, under TF32, most of their digits)."""
    return torch.cdist(z, centers, compute_mode="donot_use_mm_for_euclid_dist").pow(2)


def student_t_assignment(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """DEC's soft assignment q_ij: a Student's t kernel between embeddings and centres.

    q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha+1)/2), normalised over j.
    """
    q = (1.0 + squared_distances(z, centers) / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij.

    Squaring sharpens each row; dividing by the cluster frequency keeps large clusters
    from absorbing the rest. It must be computed over the whole dataset (f_j is global).
    """
    weight = q.pow(2) / q.sum(dim=0)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_clustering_loss(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(P || Q) summed over clusters, averaged over samples (as Keras' 'kld' in DEC/IDEC)."""
    return (p * (torch.log(p.clamp_min(1e-12)) - torch.log(q.clamp_min(1e-12)))).sum(dim=1).mean()


def kmeans_loss(z: torch.Tensor, centers: torch.Tensor, assignments: torch.Tensor) -> torch.Tensor:
    """DCN's clustering term: mean over samples of ||z_i - M s_i||^2 (squared distance to own centre)."""
    return (z - centers[assignments]).pow(2).sum(dim=1).mean()


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all elements (Keras' 'mse', which DEC/IDEC/DCN's reference code uses)."""
    return (x_hat - x).pow(2).mean()
