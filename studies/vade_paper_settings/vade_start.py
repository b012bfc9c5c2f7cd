"""VaDE's start on a pretrained embedding: the mixtures VaDE can start from, and k-means.

The diagonal Gaussian mixtures VaDE can start from (`deepclust.methods.vade.initial_mixture`:
GaussianMixture's own start, 1 or 10 fits, and the authors' EM from k-means' centres), k-means on
the same embedding, and EM / k-means from the true classes' means, each with its ACC / NMI and its
objective (mean log-likelihood per image; k-means: inertia). Says whether a weak VaDE start is the
embedding's fault or the mixture's choice among partitions of it. One run per seed, written as one
record. From the repository root, after the workflow has pretrained the seeds' autoencoders (see
vade_paper_settings.py):

    python studies/vade_paper_settings/vade_start.py --seeds 1 2
    python studies/vade_paper_settings/vade_start.py --seeds 1 2 --float64
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.mixture import GaussianMixture

from deepclust import records
from deepclust.composition import composition
from deepclust.methods.vade import initial_mixture
from deepclust.metrics import cluster_accuracy

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def scored(name, labels, y, objective, objective_name, seconds):
    summary = composition(y, labels)
    weak = sorted(summary["acc_per_class"].items(), key=lambda kv: kv[1])[:3]
    return {"start": name, "acc": cluster_accuracy(y, labels), "nmi": normalized_mutual_info_score(y, labels),
            objective_name: objective, "seconds": round(seconds, 1), "weakest_classes": dict(weak),
            "mixed_clusters": [c for c in summary["clusters"] if c["top_shares"][0] < 0.8]}


def mixture_start(name, fit, embedding, y):
    start = time.perf_counter()
    gmm = fit()
    return scored(name, gmm.predict(embedding), y, float(gmm.score(embedding)), "log_likelihood",
                  time.perf_counter() - start)


def starts(embedding, y, seed):
    k = len(np.unique(y))
    start = time.perf_counter()
    kmeans = KMeans(k, n_init=20, random_state=seed).fit(embedding)
    found = [scored("k-means, 20 starts", kmeans.labels_, y, float(kmeans.inertia_), "inertia",
                    time.perf_counter() - start)]
    class_means = np.stack([embedding[y == c].mean(0) for c in np.unique(y)])
    oracle = KMeans(k, init=class_means, n_init=1).fit(embedding)
    found.append(scored("k-means from the classes' means", oracle.labels_, y, float(oracle.inertia_), "inertia", 0.0))
    fits = {"mixture_init fit, n_init 1": lambda: initial_mixture(embedding, k, "fit", 1, seed),
            "mixture_init fit, n_init 10": lambda: initial_mixture(embedding, k, "fit", 10, seed),
            "mixture_init kmeans, n_init 10 (the authors' code)":
                lambda: initial_mixture(embedding, k, "kmeans", 10, seed),
            "EM from the classes' means": lambda: GaussianMixture(k, covariance_type="diag", means_init=class_means,
                                                                  random_state=seed).fit(embedding)}
    return found + [mixture_start(name, fit, embedding, y) for name, fit in fits.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1],
                        help="one run per seed (its embedding, random_state)")
    parser.add_argument("--embedding", default="results/paper/pretrain/mnist/ae/seed{seed}/embedding.npy",
                        help="each seed's pretraining embedding ({seed} is replaced)")
    parser.add_argument("--data", default="results/paper/data/mnist.npz", help="the prepared dataset (.npz with y)")
    parser.add_argument("--float64", action="store_true", help="fit in float64 (VaDE fits the float32 embedding)")
    parser.add_argument("--out", type=Path, help="the record (default: records/mixture_start[_float64].json)")
    args = parser.parse_args()
    y = np.load(ROOT / args.data)["y"]
    runs = []
    for seed in args.seeds:
        path = args.embedding.format(seed=seed)
        embedding = np.load(ROOT / path)
        if args.float64:  # which mixture the fits find can flip with the precision alone
            embedding = embedding.astype(np.float64)
        runs.append({"seed": seed, "embedding": path, "samples": len(y), "dtype": str(embedding.dtype),
                     "starts": starts(embedding, y, seed)})
        print(json.dumps(runs[-1], indent=1))
    out = args.out or HERE / "records" / f"mixture_start{'_float64' if args.float64 else ''}.json"
    records.write(out, what=("VaDE's possible mixture starts, and k-means, on the pretrained autoencoders' "
                             f"embeddings of MNIST ({'float64' if args.float64 else 'float32'}), seeds "
                             f"{', '.join(map(str, args.seeds))}: ACC, NMI and each start's objective"),
                  params={"data": args.data, "float64": args.float64, "kmeans_n_init": 20},
                  runs=json.loads(json.dumps(runs, default=float)), root=ROOT)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
