"""Metric-learning losses on a batch of embeddings z (one row per sample) and their
(pseudo-)labels, each f(z, labels, setting) -> a scalar: triplet losses with batch hard and
semi-hard mining and the contrastive loss (Euclidean distances, with a margin), and the angular
and multi-class N-pair losses (log-sum-exps over every negative of each same-label pair).
``deepclust.methods.metric_learning`` trains on them (its docstring names the papers)."""

import math

import torch
import torch.nn.functional as F


def pair_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(positive, negative) boolean matrices: same label but not the sample itself, and other label."""
    same = labels[:, None] == labels[None, :]
    itself = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~itself, ~same


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of values where mask holds (0 when it holds nowhere), with no data-dependent shapes,
    so nothing waits on the device."""
    return torch.where(mask, values, 0.0).sum() / mask.sum().clamp_min(1)


def pairwise_distances(z: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between the rows of z, from explicit differences (no cancellation).
    Coincident rows get exactly 0 with a zero gradient, not sqrt's NaN."""
    squared = (z[:, None, :] - z[None, :, :]).pow(2).sum(-1)
    nonzero = squared > 0
    return torch.where(nonzero, torch.where(nonzero, squared, 1.0).sqrt(), 0.0)


def batch_hard_triplet_loss(z: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """Hermans et al.'s batch hard triplet loss: mean over anchors of
    max(0, max_p d(a, p) - min_n d(a, n) + margin). Anchors without a positive or a negative in
    the batch are skipped."""
    distances = pairwise_distances(z)
    positive, negative = pair_masks(labels)
    hardest_positive = distances.masked_fill(~positive, -torch.inf).amax(1)
    hardest_negative = distances.masked_fill(~negative, torch.inf).amin(1)
    losses = F.relu(hardest_positive - hardest_negative + margin)
    return masked_mean(losses, positive.any(1) & negative.any(1))


def semi_hard_triplet_loss(z: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """FaceNet's triplet loss with semi-hard negatives, as TF-addons' triplet_semihard_loss: mean
    over anchor-positive pairs (a, p) of max(0, d(a, p) - d(a, n) + margin), n being the closest
    negative with d(a, n) > d(a, p). When no negative is that far (all are hard), n is the
    FARTHEST negative, i.e. the least hard one (TF-addons' fallback), never the hardest.

    A chosen negative beyond the margin gives zero loss, which is FaceNet's rule that
    semi-hard negatives lie within the margin. Anchors without a negative are skipped."""
    distances = pairwise_distances(z)
    positive, negative = pair_masks(labels)
    # each anchor's negative distances in increasing order, non-negatives (inf) last
    sorted_negatives = distances.masked_fill(~negative, torch.inf).sort(dim=1).values
    n_negatives = negative.sum(1, keepdim=True)
    # per pair, the index of the first negative strictly farther than the positive
    first_farther = torch.searchsorted(sorted_negatives.detach(), distances.detach(), right=True)
    semi_hard = sorted_negatives.gather(1, first_farther.clamp(max=len(z) - 1))
    farthest = sorted_negatives.gather(1, (n_negatives - 1).clamp_min(0))
    chosen = torch.where(first_farther < n_negatives, semi_hard, farthest)
    losses = F.relu(distances - chosen + margin)
    return masked_mean(losses, positive & (n_negatives > 0))


def contrastive_loss(z: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """Hadsell et al.'s contrastive loss, mean over the batch's unordered pairs of
    (1/2) d^2 (same label) or (1/2) max(0, margin - d)^2 (different labels)."""
    distances = pairwise_distances(z)
    same = labels[:, None] == labels[None, :]
    per_pair = 0.5 * torch.where(same, distances.pow(2), F.relu(margin - distances).pow(2))
    pairs = torch.ones_like(same).triu(diagonal=1)
    return masked_mean(per_pair, pairs)


def log1p_sum_exp(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log(1 + sum of exp(logits) where mask holds) over the last axis, stably (a log-sum-exp with
    a 0 logit for the 1); 0 where mask holds nowhere."""
    masked = logits.masked_fill(~mask, -torch.inf)
    return torch.logsumexp(torch.cat([torch.zeros_like(masked[..., :1]), masked], dim=-1), dim=-1)


def _pairs_against_negatives(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over ordered (anchor a, positive p) pairs of log(1 + sum_n exp(logits[a, p, n])),
    n running over the samples whose label differs from a's; pairs without a negative skipped."""
    positive, negative = pair_masks(labels)
    per_pair = log1p_sum_exp(logits, negative[:, None, :].expand_as(logits))
    return masked_mean(per_pair, positive & negative.any(1, keepdim=True))


def npair_loss(z: torch.Tensor, labels: torch.Tensor, norm_weight: float = 0.002) -> torch.Tensor:
    """Sohn's multi-class N-pair loss (NeurIPS 2016), on a batch of labels: mean over ordered
    same-label pairs (anchor a, positive p) of

        log(1 + sum_n exp(f_a . f_n - f_a . f_p)),  n over the samples of other labels,

    plus ``norm_weight`` * mean_i ||f_i||^2: the paper keeps the embedding unnormalised and
    regularises its L2 norm to be small instead, with weight 0.002 on the squared norm.
    TensorFlow's ``npairs_loss`` (reg_lambda=0.002) spreads the same weight as
    0.25 * weight * (mean ||f_a||^2 + mean ||f_p||^2), half this term when every sample is both.

    Sohn's batch holds one pair of each of N classes and takes the other pairs' positives as an
    anchor's N - 1 negatives; here every same-label pair of a P x K batch is an (anchor, positive)
    and every sample of another label a negative, which is the paper's (N+1)-tuplet loss with all
    of them. Without the regulariser the loss falls by scaling the embedding up, so it is meant for
    the unnormalised embedding; on normalised rows the regulariser is a constant."""
    similarity = z @ z.T
    logits = similarity[:, None, :] - similarity[:, :, None]   # [a, p, n] = f_a.f_n - f_a.f_p
    return _pairs_against_negatives(logits, labels) + norm_weight * z.pow(2).sum(1).mean()


def angular_loss(z: torch.Tensor, labels: torch.Tensor, angle: float = 45.0) -> torch.Tensor:
    """Wang et al.'s angular loss (ICCV 2017, "Deep Metric Learning with Angular Loss"), in its
    batch (N-pair) form: mean over ordered same-label pairs (anchor a, positive p) of

        log(1 + sum_n exp(4 tan^2(alpha) (f_a + f_p) . f_n - 2 (1 + tan^2(alpha)) f_a . f_p)),

    n over the samples of other labels; ``angle`` is alpha in degrees, the bound on the angle at
    the negative of the triangle (a, p, n) (the triplet form penalises
    ||f_a - f_p||^2 - 4 tan^2(alpha) ||f_n - f_c||^2 > 0, f_c the pair's centre). The batch form
    drops terms that are constant for L2-normalised embeddings, which it assumes. The paper's
    batches are N pairs of N classes; here every same-label pair of a P x K batch is a pair."""
    tan2 = math.tan(math.radians(angle)) ** 2
    similarity = z @ z.T
    logits = 4 * tan2 * (similarity[:, None, :] + similarity[None, :, :]) - 2 * (1 + tan2) * similarity[:, :, None]
    return _pairs_against_negatives(logits, labels)


LOSSES = {"batch_hard": batch_hard_triplet_loss, "semi_hard": semi_hard_triplet_loss,
          "contrastive": contrastive_loss, "angular": angular_loss, "npair": npair_loss}
