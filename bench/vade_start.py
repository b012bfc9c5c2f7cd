"""VaDE's start on a pretrained embedding: the diagonal Gaussian mixtures VaDE can start from
(`deepclust.methods.vade.initial_mixture`: GaussianMixture's own start, 1 or 10 fits, and the
authors' EM from k-means' centres), k-means on the same embedding, and EM / k-means from the true
classes' means, each with its ACC / NMI and its objective (mean log-likelihood per image; k-means:
inertia). Says whether a weak VaDE start is the embedding's fault or the mixture's choice among
partitions of it. Usage:
    .venv/bin/python bench/vade_start.py results/pretrain/mnist/ae/seed2/embedding.npy \\
        --data results/data/mnist.npz --seed 2 --out bench/results/vade_start_mnist_seed2.json
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.mixture import GaussianMixture

from cluster_composition import composition
from deepclust.methods.vade import initial_mixture
from deepclust.metrics import cluster_accuracy


def scored(name, labels, y, objective, objective_name, seconds):
    summary = composition(y, labels, [])
    weak = sorted(summary["acc_per_class"].items(), key=lambda kv: kv[1])[:3]
    return {"start": name, "acc": cluster_accuracy(y, labels), "nmi": normalized_mutual_info_score(y, labels),
            objective_name: objective, "seconds": round(seconds, 1), "weakest_classes": dict(weak),
            "mixed_clusters": [c for c in summary["clusters"] if c["top_shares"][0] < 0.8]}


def mixture_start(name, fit, embedding, y):
    start = time.perf_counter()
    gmm = fit()
    return scored(name, gmm.predict(embedding), y, float(gmm.score(embedding)), "log_likelihood",
                  time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("embedding", type=Path, help="a pretraining run's embedding.npy")
    parser.add_argument("--data", type=Path, required=True, help="the prepared dataset (.npz with y)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float64", action="store_true", help="fit in float64 (VaDE fits the float32 embedding)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    embedding, y = np.load(args.embedding), np.load(args.data)["y"]
    if args.float64:  # which mixture the fits find can flip with the precision alone
        embedding = embedding.astype(np.float64)
    k = len(np.unique(y))

    start = time.perf_counter()
    kmeans = KMeans(k, n_init=20, random_state=args.seed).fit(embedding)
    starts = [scored("k-means, 20 starts", kmeans.labels_, y, float(kmeans.inertia_), "inertia",
                     time.perf_counter() - start)]
    class_means = np.stack([embedding[y == c].mean(0) for c in np.unique(y)])
    oracle = KMeans(k, init=class_means, n_init=1).fit(embedding)
    starts.append(scored("k-means from the classes' means", oracle.labels_, y, float(oracle.inertia_), "inertia", 0.0))
    fits = {"mixture_init fit, n_init 1": lambda: initial_mixture(embedding, k, "fit", 1, args.seed),
            "mixture_init fit, n_init 10": lambda: initial_mixture(embedding, k, "fit", 10, args.seed),
            "mixture_init kmeans, n_init 10 (the authors' code)":
                lambda: initial_mixture(embedding, k, "kmeans", 10, args.seed),
            "EM from the classes' means": lambda: GaussianMixture(k, covariance_type="diag", means_init=class_means,
                                                                  random_state=args.seed).fit(embedding)}
    starts += [mixture_start(name, fit, embedding, y) for name, fit in fits.items()]
    result = {"embedding": str(args.embedding), "seed": args.seed, "samples": len(y), "dtype": str(embedding.dtype),
              "starts": starts}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
