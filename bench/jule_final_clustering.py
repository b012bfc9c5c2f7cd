"""JULE on MNIST, one seed: the from-scratch final labels (labels_) and the recurrent process's
own (recurrent_labels_) from the same fit, as JSON on stdout and in --out. The settings are
config/paper.yaml's `methods.jule.params` (the authors' defaults: 20 CNN epochs per period);
--epochs-per-period 1 is config/mnist.yaml's cut for a 2-core CPU. Usage:
    .venv/bin/python bench/jule_final_clustering.py [--seed 0] [--threads 1] [--all]
        [--epochs-per-period N] [--triplet-gradient all|anchor] [--outlier-fraction F] [--device cpu]
        [--mnist ../shared/data/MNIST/raw] [--out FILE] [--save-features FILE.npy]
MNIST-test (10,000) by default, all 70,000 images with --all. The JSON holds each final clustering's
per-cluster composition; --save-features keeps the trained features (bench/jule_tail.py --features
traces their from-scratch merges)."""
import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from deepclust import metrics
from deepclust.data.images import read_idx
from deepclust.methods.jule import JULE
from cluster_composition import composition
from machine import device_name

ROOT = Path(__file__).resolve().parents[1]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--all", action="store_true", help="all 70,000 images (default: the 10,000 test images)")
parser.add_argument("--epochs-per-period", type=int, help="override paper.yaml's 20")
parser.add_argument("--triplet-gradient", choices=["all", "anchor"], help="override the estimator's default")
parser.add_argument("--outlier-fraction", type=float, help="JULE's outlier_fraction (ours; default 0)")
parser.add_argument("--device", default="cpu")
parser.add_argument("--mnist", type=Path, default=ROOT / "../shared/data/MNIST/raw")
parser.add_argument("--out", type=Path)
parser.add_argument("--save-features", type=Path, help="the trained network's features (.npy), in MNIST's order")
args = parser.parse_args()

torch.set_num_threads(args.threads)
params = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["methods"]["jule"]["params"]
if args.epochs_per_period is not None:
    params["epochs_per_period"] = args.epochs_per_period
if args.triplet_gradient is not None:
    params["triplet_gradient"] = args.triplet_gradient
if args.outlier_fraction is not None:
    params["outlier_fraction"] = args.outlier_fraction
X, y, _ = read_idx(args.mnist, {}, splits=("train", "t10k") if args.all else ("t10k",))
X = X.reshape(len(X), -1).astype(np.float32) / 255
start = time.perf_counter()
model = JULE(10, image_shape=(1, 28, 28), **params, device=args.device, random_state=args.seed,
             verbose=True).fit(X, y)


def scores(labels):
    return {"acc": metrics.cluster_accuracy(y, labels), "nmi": float(metrics.evaluate(labels, y)["nmi"]),
            "clusters": composition(y, labels, without=[])["clusters"]}


result = {"seed": args.seed, "samples": len(X), "params": params, "threads": args.threads, "device": args.device,
          "machine": device_name(args.device),
          "seconds": time.perf_counter() - start, "from_scratch": scores(model.labels_),
          "recurrent": scores(model.recurrent_labels_), "history": model.history_,
          "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "date": time.strftime("%Y-%m-%d")}
print(json.dumps(result, default=float))
if args.save_features:
    np.save(args.save_features, model.transform(X))
if args.out:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
