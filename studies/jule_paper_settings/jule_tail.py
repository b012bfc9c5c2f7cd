"""Why JULE's from-scratch re-clustering collapses on all 70,000 MNIST images: the last merges of
the graph-degree-linkage agglomeration (agglomeration.cluster_from_scratch's steps) on L2-normalised raw
pixels (or, with --features, a JULE run's trained features), traced at given cluster counts (the
largest sizes, NMI, ACC), then every cluster alive at --inspect clusters with its best affinity and,
for a small one, its images' digits. With --size-floor F it then reruns the merges with JULE's
``outlier_fraction`` F, a remedy that is ours, not the authors': clusters under F * n / 10 images
count as outliers, and once ten larger ones remain and the best merge would join two of them,
merging stops and each outlier joins its best-affinity larger neighbour (else the nearest larger
mean). Writes a record (one run). Usage, from the repository root:

    DEEPCLUST_DATA_MIRROR=<a folder holding MNIST/raw> \
    python studies/jule_paper_settings/jule_tail.py --threads 1 --size-floor 0.01 \
        [--samples 10000] [--features FILE.npy] [--inspect 12] --out studies/jule_paper_settings/records/<name>.json

--samples N takes the last N of the 70,000 images (10000: MNIST-test). --features takes a
workflow run's embedding.npy (results/paper/runs/mnist/jule/seed0/embedding.npy) or the features that
jule_final_clustering.py --save-features keeps.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import normalized_mutual_info_score

from deepclust import records
from deepclust import agglomeration
from deepclust.metrics import cluster_accuracy
from jule_agglomeration import MIRROR, load_mnist

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

TRACE_AT = (2000, 1000, 500, 200, 100, 50, 30, 20, 15, 12, 11, 10)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", type=Path, help=f"folder holding MNIST's four .gz files (default: ${MIRROR}/MNIST/raw)")
    parser.add_argument("--samples", type=int, default=70000, help="the last N of the 70,000 images")
    parser.add_argument("--features", type=Path, help="cluster these (n x d .npy, MNIST's order) instead of pixels")
    parser.add_argument("--inspect", type=int, default=15, help="list every cluster alive at this count")
    parser.add_argument("--size-floor", type=float, help="also run the outlier remedy with this fraction")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "records" / "jule_tail.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = load_mnist(args.mnist, parser)
    if args.features is not None:  # a run's embedding, already L2-normalised by JULE's network
        X = np.load(args.features)
        if len(X) not in (len(y), args.samples):
            raise SystemExit(f"{args.features} has {len(X)} rows; expected all {len(y)} images or --samples "
                             f"{args.samples} (the last ones, e.g. 10000 for MNIST-test)")
        y = y[-len(X):]  # the features of the last len(X) images
    else:
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    X, y = X[-args.samples:], y[-args.samples:]
    start = time.perf_counter()

    # cluster_from_scratch, step by step
    distances, indices = agglomeration.nearest_neighbours(torch.as_tensor(X), 20)

    def start_clusters():
        return agglomeration.Agglomeration(agglomeration.sample_affinity(distances, indices),
                                           agglomeration.initial_clusters(indices[:, 0]), X, n_cluster_neighbors=5)

    clusters = start_clusters()
    initial = clusters.n_clusters
    clusters.absorb_isolated(10)
    trace, inspected = [], []
    while clusters.n_clusters > 10:
        labels = clusters.run(1)
        if clusters.n_clusters in TRACE_AT:
            trace.append({"clusters": clusters.n_clusters,
                          "largest_sizes": np.sort(clusters.sizes[clusters.alive])[::-1][:12].astype(int).tolist(),
                          "nmi": round(float(normalized_mutual_info_score(y, labels)), 4),
                          "acc": round(cluster_accuracy(y, labels), 4)})
            print(trace[-1], flush=True)
        if clusters.n_clusters == args.inspect:
            for c in np.flatnonzero(clusters.alive):
                best = max((clusters.affinity(c, b) for b in clusters.neighbours(c)), default=0.0)
                small = clusters.sizes[c] < 100
                inspected.append({"size": int(clusters.sizes[c]), "best_affinity": float(best),
                                  "digits": y[clusters.members[c]].tolist() if small else None})
    result = {"samples": args.samples, "features": str(args.features or "L2-normalised pixels"),
              "initial_clusters": initial, "seconds": round(time.perf_counter() - start),
              "trace": trace, f"alive_at_{args.inspect}": inspected}
    if args.size_floor is not None:
        result["size_floor"] = with_size_floor(start_clusters(), y, args.size_floor * args.samples / 10)
        print(result["size_floor"], flush=True)
    command = records.command_line(ROOT)
    if "--mnist" not in sys.argv:
        command = f"{MIRROR}=<a folder holding MNIST/raw> {command}"
    records.write(args.out, what=f"The last merges of JULE's from-scratch agglomeration on {result['features']} "
                                 f"of the last {args.samples} MNIST images: ACC, NMI and sizes on the way to 10 "
                                 "clusters, the clusters alive near the end, and the outlier remedy's result",
                  params={"samples": args.samples, "features": result["features"], "n_neighbors": 20,
                          "n_cluster_neighbors": 5, "inspect": args.inspect, "size_floor": args.size_floor,
                          "threads": args.threads}, runs=[result], root=ROOT, command=command)


def with_size_floor(clusters, y, floor, target=10):
    """cluster_from_scratch's merges with the remedy described at the top: ACC, NMI, sizes."""
    clusters.absorb_isolated(target)
    labels = clusters.run(clusters.n_clusters - target, target, outlier_size=floor)
    return {"floor_images": floor, "clusters": clusters.n_clusters, "sizes": np.bincount(labels).tolist(),
            "acc": round(cluster_accuracy(y, labels), 4),
            "nmi": round(float(normalized_mutual_info_score(y, labels)), 4)}


if __name__ == "__main__":
    main()
