"""JULE's forward pass (Yang, Parikh, Batra, CVPR 2016): agglomerative clustering by graph degree
linkage (Zhang et al., ECCV 2012) on a k-nearest-neighbour sample affinity, with JULE's merge
criterion. deepclust.methods.jule runs it between the training periods of its CNN; the method's
docstring gives the criterion and where it differs from the authors' code.

W is a sparse matrix (n * K_s entries) and affinities are updated exactly after every merge, so
memory is O(n * K_s) plus the cluster graph; the k-nearest-neighbour search is O(n^2 d), in
chunks on the features' device.
"""

import heapq
import math

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from deepclust import engine

# the authors' code adds the local-structure term only while more clusters than this remain
LOCAL_STRUCTURE_MIN_CLUSTERS = 100


def nearest_neighbours(features: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(squared distances, indices), each (n, k): every row's k nearest other rows, nearest first,
    computed on the features' device in float32 (TF32 off). Rows are compared in chunks of ~2^25
    distances (128 MB), never the whole n x n matrix."""
    n = len(features)
    chunk = max(1, 2**25 // n)
    if not 1 <= k < n:
        raise ValueError(f"need 1 <= n_neighbors < n_samples; got n_neighbors={k} for {n} samples")
    distances, indices = [], []
    squared_norms = features.pow(2).sum(1)
    with torch.inference_mode(), engine.float32_only():
        for start in range(0, n, chunk):
            block = features[start:start + chunk]
            squared = (squared_norms[start:start + chunk, None] + squared_norms[None, :]
                       - 2 * block @ features.T).clamp_min(0)
            rows = torch.arange(len(block), device=features.device)
            squared[rows, rows + start] = torch.inf  # never one's own neighbour
            d, i = squared.topk(k, dim=1, largest=False)
            distances.append(d.cpu())
            indices.append(i.cpu())
    return torch.cat(distances).double().numpy(), torch.cat(indices).numpy()


def sample_affinity(distances: np.ndarray, indices: np.ndarray) -> sp.csr_matrix:
    """W_ij = exp(-d_ij^2 / sigma^2) for j among i's neighbours, sigma^2 the mean squared distance."""
    n, k = indices.shape
    sigma_squared = distances.mean() or 1.0  # all neighbours coincide: any scale will do
    rows = np.repeat(np.arange(n), k)
    return sp.csr_matrix((np.exp(-distances.ravel() / sigma_squared), (rows, indices.ravel())), shape=(n, n))


def initial_clusters(nearest: np.ndarray) -> np.ndarray:
    """Labels 0..C-1: the connected components of the links from each sample to its nearest neighbour."""
    n = len(nearest)
    links = sp.csr_matrix((np.ones(n), (np.arange(n), nearest)), shape=(n, n))
    return connected_components(links, directed=True, connection="weak")[1]


def _sparse_column(matrix: sp.csc_matrix, column: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = matrix.indptr[column], matrix.indptr[column + 1]
    return matrix.indices[start:end].copy(), matrix.data[start:end].copy()


def _add_sparse(a, b):
    indices = np.concatenate([a[0], b[0]])
    unique, inverse = np.unique(indices, return_inverse=True)
    return unique, np.bincount(inverse, weights=np.concatenate([a[1], b[1]]))


class Agglomeration:
    """Graph-degree-linkage agglomerative clustering with JULE's merge criterion, from given
    clusters on a sample affinity W (sparse n x n).

    With in_c(j) = sum_{i in c} W_ij and out_c(j) = sum_{k in c} W_jk, the unnormalised affinity
    u(a, b) = 1'W_ab W_ba 1 = sum_{j in b} in_a(j) out_a(j). Merging a and b into m is then exact
    and cheap: u(i, m) = u(i, a) + u(i, b), and u(m, i) follows from in_m = in_a + in_b and
    out_m = out_a + out_b.
    """

    def __init__(self, W: sp.csr_matrix, labels: np.ndarray, features: np.ndarray, n_cluster_neighbors: int = 5):
        if n_cluster_neighbors < 2:
            raise ValueError(f"n_cluster_neighbors must be >= 2; got {n_cluster_neighbors}")
        labels = np.unique(labels, return_inverse=True)[1]
        n, n_initial = len(labels), int(labels.max()) + 1
        self.labels, self.features, self.k_c = labels.copy(), features, n_cluster_neighbors
        self.sizes = np.bincount(labels, minlength=n_initial).astype(np.float64)
        self.alive = np.ones(n_initial, dtype=bool)
        self.members = [list(m) for m in np.split(np.argsort(labels, kind="stable"), np.cumsum(self.sizes)[:-1].astype(int))]
        Y = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, n_initial))
        out_ = (W @ Y).tocsc()
        in_ = (W.T @ Y).tocsc()
        self.out_vec = [_sparse_column(out_, c) for c in range(n_initial)]
        self.in_vec = [_sparse_column(in_, c) for c in range(n_initial)]
        u = (Y.T @ in_.multiply(out_)).T.tocsr()  # u[a, b] = sum_{j in b} in_a(j) out_a(j)
        u.setdiag(0)
        u.eliminate_zeros()
        self.u = [dict(zip(u.indices[u.indptr[c]:u.indptr[c + 1]].tolist(), u.data[u.indptr[c]:u.indptr[c + 1]].tolist()))
                  for c in range(n_initial)]
        u_t = u.T.tocsr()  # u_t[b] = {a: u(a, b)}
        self.u_t = [dict(zip(u_t.indices[u_t.indptr[c]:u_t.indptr[c + 1]].tolist(),
                             u_t.data[u_t.indptr[c]:u_t.indptr[c + 1]].tolist())) for c in range(n_initial)]
        self.n_clusters = n_initial
        self.score = np.full(n_initial, -np.inf)
        self.partner = np.full(n_initial, -1)
        self._rescore(range(n_initial))

    def affinity(self, a: int, b: int) -> float:
        """A(C_a, C_b), symmetric."""
        return self.u[a].get(b, 0.0) / self.sizes[a] ** 2 + self.u[b].get(a, 0.0) / self.sizes[b] ** 2

    def neighbours(self, c: int) -> set:
        return self.u[c].keys() | self.u_t[c].keys()

    def _rescore(self, clusters) -> None:
        local = self.n_clusters > LOCAL_STRUCTURE_MIN_CLUSTERS
        for c in clusters:
            top = heapq.nlargest(self.k_c, ((self.affinity(c, b), b) for b in self.neighbours(c)))
            if not top:
                self.score[c], self.partner[c] = -np.inf, -1
                continue
            best, self.partner[c] = top[0]
            score = best
            if local:
                values = [value for value, _ in top[1:]] + [0.0] * (self.k_c - len(top))
                score += sum(best - value for value in values) / (self.k_c - 1)
            self.score[c] = score

    def merge(self, a: int, b: int) -> None:
        """Merge cluster b into cluster a."""
        a, b = min(a, b), max(a, b)
        old_neighbours = (self.neighbours(a) | self.neighbours(b)) - {a, b}
        self.labels[self.members[b]] = a
        self.members[a] += self.members[b]
        self.sizes[a] += self.sizes[b]
        self.in_vec[a] = _add_sparse(self.in_vec[a], self.in_vec[b])
        self.out_vec[a] = _add_sparse(self.out_vec[a], self.out_vec[b])
        # u(i, m) = u(i, a) + u(i, b)
        column = {i: self.u_t[a].get(i, 0.0) + self.u_t[b].get(i, 0.0) for i in self.u_t[a].keys() | self.u_t[b].keys()}
        column.pop(a, None), column.pop(b, None)
        for i in old_neighbours:
            self.u[i].pop(b, None)
            self.u_t[i].pop(a, None), self.u_t[i].pop(b, None)
        for i, value in column.items():
            self.u[i][a] = value
        # u(m, i) = sum_{j in i} in_m(j) out_m(j)
        common, in_at, out_at = np.intersect1d(self.in_vec[a][0], self.out_vec[a][0], assume_unique=True,
                                               return_indices=True)
        products = self.in_vec[a][1][in_at] * self.out_vec[a][1][out_at]
        clusters, inverse = np.unique(self.labels[common], return_inverse=True)
        row = dict(zip(clusters.tolist(), np.bincount(inverse, weights=products).tolist()))
        row.pop(a, None)
        for i, value in row.items():
            self.u_t[i][a] = value
        self.u[a], self.u_t[a] = row, column
        self.u[b], self.u_t[b], self.members[b] = {}, {}, []
        self.in_vec[b] = self.out_vec[b] = (np.empty(0, dtype=np.int64), np.empty(0))
        self.alive[b], self.score[b], self.partner[b] = False, -np.inf, -1
        self.n_clusters -= 1
        if self.n_clusters == LOCAL_STRUCTURE_MIN_CLUSTERS:  # the criterion changes for everyone
            self._rescore(np.flatnonzero(self.alive))
        else:
            self._rescore({a} | old_neighbours | self.neighbours(a))

    def _nearest_mean(self, c: int, among: np.ndarray | None = None) -> int:
        """The other living cluster (of ``among``, a mask, if given) whose mean feature is nearest
        to cluster c's."""
        alive = np.flatnonzero(self.alive if among is None else self.alive & among)
        means = np.stack([self.features[self.members[i]].mean(0) for i in alive])
        distances = ((means - self.features[self.members[c]].mean(0)) ** 2).sum(1)
        distances[alive == c] = np.inf
        return int(alive[np.argmin(distances)])

    def absorb_isolated(self, minimum: int) -> None:
        """Merge each cluster with no affinity to any other into the one with the nearest mean, as
        the authors' code does before a period's merges (while more than ``minimum`` remain).
        Otherwise they would stay apart to the end, and the last merges would join real clusters."""
        for c in np.flatnonzero(self.alive & ~np.isfinite(self.score)):
            if self.n_clusters <= minimum:
                break
            if self.alive[c] and not self.neighbours(c):
                self.merge(c, self._nearest_mean(c))

    def run(self, steps: int, target: int = 1, outlier_size: float = 0.0) -> np.ndarray:
        """Merge ``steps`` times, not below ``target`` clusters; return labels 0..C-1.

        With ``outlier_size`` > 0 (ours, not the authors'), clusters smaller than that are
        outliers: once ``target`` larger clusters remain and the best merge would join two of
        them, merging stops and each outlier joins a larger cluster instead (attach_outliers), so
        that micro-clusters with almost no links cannot keep places among the last ``target``."""
        for _ in range(min(steps, self.n_clusters - target)):
            c = int(np.argmax(self.score))
            if outlier_size > 0 and self._would_join_final_clusters(c, target, outlier_size):
                self.attach_outliers(outlier_size)
                break
            if np.isfinite(self.score[c]) and self.score[c] > 0:
                self.merge(c, int(self.partner[c]))
            else:  # no affinity left anywhere: the smallest cluster joins the nearest mean
                smallest = int(np.flatnonzero(self.alive)[np.argmin(self.sizes[self.alive])])
                self.merge(smallest, self._nearest_mean(smallest))
        return np.unique(self.labels, return_inverse=True)[1]

    def _would_join_final_clusters(self, c: int, target: int, outlier_size: float) -> bool:
        partner = self.partner[c]
        # the O(C) count last: while clusters are small, most merges fail the cheap tests
        return (np.isfinite(self.score[c]) and partner >= 0 and self.sizes[c] >= outlier_size
                and self.sizes[partner] >= outlier_size
                and np.count_nonzero(self.alive & (self.sizes >= outlier_size)) == target)

    def attach_outliers(self, outlier_size: float) -> None:
        """Merge every cluster smaller than ``outlier_size`` into the larger cluster it has the
        highest affinity with (without any, the larger cluster with the nearest mean). Nothing
        changes when no cluster is that large."""
        if not (self.alive & (self.sizes >= outlier_size)).any():
            return
        for c in np.flatnonzero(self.alive & (self.sizes < outlier_size)):
            large = self.sizes >= outlier_size
            linked = [b for b in self.neighbours(c) if large[b]]
            self.merge(c, max(linked, key=lambda b: self.affinity(c, b)) if linked else self._nearest_mean(c, large))


def agglomerate(features, labels: np.ndarray, target: int, unrolling_rate: float,
                n_neighbors: int, n_cluster_neighbors: int, outlier_size: float = 0.0) -> np.ndarray:
    """One forward pass on new features (a tensor, whose device runs the neighbour search, or an
    array): absorb isolated clusters, then merge ceil(eta * C) times, not below ``target``
    clusters (``outlier_size``: Agglomeration.run)."""
    if len(np.unique(labels)) <= target:
        return labels
    features = torch.as_tensor(features)
    distances, indices = nearest_neighbours(features, n_neighbors)
    clusters = Agglomeration(sample_affinity(distances, indices), labels, features.cpu().numpy(), n_cluster_neighbors)
    clusters.absorb_isolated(target)
    return clusters.run(math.ceil(unrolling_rate * clusters.n_clusters), target, outlier_size)


def cluster_from_scratch(features, target: int, n_neighbors: int, n_cluster_neighbors: int,
                         outlier_size: float = 0.0) -> np.ndarray:
    """Nearest-neighbour links (on the device of ``features``, a tensor or an array), then merges
    down to ``target`` clusters (``outlier_size``: Agglomeration.run)."""
    features = torch.as_tensor(features)
    distances, indices = nearest_neighbours(features, n_neighbors)
    labels = initial_clusters(indices[:, 0])
    if len(np.unique(labels)) <= target:
        return labels
    clusters = Agglomeration(sample_affinity(distances, indices), labels, features.cpu().numpy(), n_cluster_neighbors)
    clusters.absorb_isolated(target)
    return clusters.run(clusters.n_clusters - target, target, outlier_size)
