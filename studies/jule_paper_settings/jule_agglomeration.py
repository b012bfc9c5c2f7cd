"""JULE's forward pass alone at MNIST scale: nearest-neighbour links, then graph-degree-linkage
merges down to 10 clusters (agglomeration.cluster_from_scratch, K_s 20, K_c 5), on the L2-normalised raw
pixels of the last N of MNIST's 70,000 images (10000: MNIST-test). Time, peak RSS (the whole
process, torch included), ACC and NMI per size, written as a record. Usage, from the repository root:

    DEEPCLUST_DATA_MIRROR=<a folder holding MNIST/raw> \\
    python studies/jule_paper_settings/jule_agglomeration.py --samples 10000 [70000]

One process measures the sizes in order, so a size's peak RSS is the process's so far: give each
size its own process to measure it alone. 70,000 images take minutes of CPU, mostly the 784-d
k-NN search.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import normalized_mutual_info_score

from deepclust import records
from deepclust.data.images import read_idx
from deepclust.agglomeration import cluster_from_scratch
from deepclust.metrics import cluster_accuracy

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MIRROR = "DEEPCLUST_DATA_MIRROR"


def load_mnist(folder: Path | None, parser: argparse.ArgumentParser) -> tuple[np.ndarray, np.ndarray]:
    """All 70,000 images in [0, 1], train then test (so the last 10,000 are MNIST-test), from
    ``folder`` or else $DEEPCLUST_DATA_MIRROR/MNIST/raw."""
    if folder is None:
        if not os.environ.get(MIRROR):
            parser.error(f"give --mnist or set {MIRROR} to a folder holding MNIST/raw")
        folder = Path(os.environ[MIRROR]) / "MNIST" / "raw"
    X, y, _ = read_idx(folder, {}, splits=("train", "t10k"))
    return X.astype(np.float32) / 255, y


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", type=Path, help=f"folder holding MNIST's four .gz files (default: ${MIRROR}/MNIST/raw)")
    parser.add_argument("--samples", type=int, nargs="+", default=[10000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "records" / "jule_agglomeration.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = load_mnist(args.mnist, parser)
    runs = []
    for n in args.samples:
        features, labels = X[-n:], y[-n:]
        features = features / np.linalg.norm(features, axis=1, keepdims=True)
        start = time.perf_counter()
        found = cluster_from_scratch(features, 10, n_neighbors=20, n_cluster_neighbors=5)
        runs.append({"samples": n, "seconds": round(time.perf_counter() - start, 1),
                     "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
                     "acc": round(cluster_accuracy(labels, found), 4),
                     "nmi": round(float(normalized_mutual_info_score(labels, found)), 4)})
        print(runs[-1], flush=True)
    command = records.command_line(ROOT)
    if "--mnist" not in sys.argv:
        command = f"{MIRROR}=<a folder holding MNIST/raw> {command}"
    records.write(args.out, what="JULE's agglomerative pass alone (k-NN links, then graph-degree-linkage merges to "
                                 "10 clusters) on L2-normalised MNIST pixels: time, peak RSS, ACC and NMI per size",
                  params={"samples": args.samples, "threads": args.threads, "n_neighbors": 20,
                          "n_cluster_neighbors": 5, "features": "L2-normalised pixels"},
                  runs=runs, root=ROOT, command=command)


if __name__ == "__main__":
    main()
