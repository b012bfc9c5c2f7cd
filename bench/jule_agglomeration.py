"""JULE's forward pass alone at MNIST scale: nearest-neighbour links, then graph-degree-linkage
merges down to 10 clusters, on L2-normalised raw pixels. Time, peak RSS, ACC and NMI go to
bench/results/jule_agglomeration.json.

    .venv/bin/python bench/jule_agglomeration.py --mnist ../shared/data/MNIST --samples 10000 70000
"""

import argparse
import gzip
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import normalized_mutual_info_score

from deepclust.methods.jule import cluster_from_scratch
from deepclust.metrics import cluster_accuracy

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def read(folder: Path, name: str, offset: int) -> np.ndarray:
    path = next(folder.rglob(name))
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=offset)


def mnist(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """All 70,000 images, train then test (so the last 10,000 are MNIST-test)."""
    images = [read(folder, FILES[part][0], 16).reshape(-1, 784) for part in ("train", "test")]
    labels = [read(folder, FILES[part][1], 8) for part in ("train", "test")]
    return np.concatenate(images).astype(np.float32) / 255, np.concatenate(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", type=Path, required=True, help="folder holding MNIST's four .gz files")
    parser.add_argument("--samples", type=int, nargs="+", default=[10000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "jule_agglomeration.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = mnist(args.mnist)
    rows = []
    for n in args.samples:  # one process measures them in order; peak RSS is the process's so far
        features, labels = X[-n:], y[-n:]
        features = features / np.linalg.norm(features, axis=1, keepdims=True)
        start = time.perf_counter()
        found = cluster_from_scratch(features, 10, n_neighbors=20, n_cluster_neighbors=5)
        rows.append({"samples": n, "seconds": round(time.perf_counter() - start, 1),
                     "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                     "acc": round(cluster_accuracy(labels, found), 4),
                     "nmi": round(float(normalized_mutual_info_score(labels, found)), 4)})
        print(rows[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "threads": args.threads,
                                    "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
