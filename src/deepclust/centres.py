"""What a cluster is: for image datasets (the centres figure), its centre drawn as an image beside
the members nearest to it; for documents (the cluster-terms table), the words that set it apart."""

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


def distinctive_terms(tfidf, terms, labels: np.ndarray, clusters, n_terms: int = 10) -> list[list[str]]:
    """Per cluster, the ``n_terms`` words whose mean TF-IDF over the cluster's documents exceeds
    their mean over all documents most, most distinctive first (ties by column).

    Ranked by the excess rather than the cluster's own mean so that words every document has
    (20 Newsgroups' "subject", "lines", "organization" headers) do not head every cluster.
    ``tfidf`` is n documents x len(terms), dense or sparse."""
    overall = np.asarray(tfidf.mean(axis=0)).ravel()
    ranked = []
    for cluster in clusters:
        excess = np.asarray(tfidf[labels == cluster].mean(axis=0)).ravel() - overall
        ranked.append([terms[i] for i in np.argsort(-excess, kind="stable")[:n_terms]])
    return ranked


def terms_table(title: str, note: str, sections: dict, class_names=None, y=None) -> str:
    """Markdown: per method (``sections``: method -> (labels, clusters, terms per cluster)), a
    table of its clusters: size, the true class most of its documents carry (with labels ``y``)
    and its words."""
    lines = [f"# {title}", "", note, ""]
    for method, (labels, clusters, words) in sections.items():
        header = ["Cluster", "Documents", *(["Most common class"] if y is not None else []), "Words"]
        lines += [f"## {method}", "", "| " + " | ".join(header) + " |", "|---:|---:|" + "---|" * (len(header) - 2)]
        for cluster, cluster_words in zip(clusters, words):
            members = labels == cluster
            cells = [str(cluster), f"{members.sum():,}"]
            if y is not None:
                counts = np.bincount(y[members], minlength=len(class_names))
                cells.append(f"{class_names[counts.argmax()]} ({counts.max() / members.sum():.0%})")
            lines.append("| " + " | ".join([*cells, ", ".join(cluster_words)]) + " |")
        if not len(clusters):
            lines.append("| – | – | " + ("– | " if y is not None else "") + "every document is noise |")
        lines.append("")
    return "\n".join(lines)
