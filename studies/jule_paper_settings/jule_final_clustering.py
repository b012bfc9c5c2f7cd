"""JULE at config/paper.yaml's settings (`methods.jule.params`: the authors' defaults, 20 CNN epochs
per period) on MNIST-test's 10,000 images, or all 70,000 with --all; one run per seed, written as a
record. Each run holds the from-scratch final labels' scores (labels_, what the workflow reports),
the recurrent process's own last clusters' (recurrent_labels_) from the same fit, both clusterings'
per-cluster composition and the per-period history. Usage, from the repository root:

    DEEPCLUST_DATA_MIRROR=<a folder holding MNIST/raw> \\
    python studies/jule_paper_settings/jule_final_clustering.py --seeds 0 1 2 3 4 --threads 1 \\
        --triplet-gradient anchor [--outlier-fraction 0.01] [--paper-comparison] \\
        [--save-features FILE.npy] --out studies/jule_paper_settings/records/<name>.json

--triplet-gradient picks the paper's loss (`all`) or JULE.torch's (`anchor`, paper.yaml's);
--outlier-fraction is JULE's `outlier_fraction` (ours, not the paper's; default 0 = the authors'
merges), and the runs' method id is then `jule-outliers`, as config/jule_outliers.yaml names it.
--epochs-per-period 1 is config/mnist.yaml's cut for a small CPU. --save-features (one seed only)
keeps the trained network's features in MNIST's order; jule_tail.py --features traces their
from-scratch merges.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from deepclust import metrics, records
from deepclust.composition import composition
from deepclust.data.images import read_idx
from deepclust.methods.jule import JULE

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MIRROR = "DEEPCLUST_DATA_MIRROR"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="all 70,000 images (default: the 10,000 test images)")
    parser.add_argument("--epochs-per-period", type=int, help="override paper.yaml's 20")
    parser.add_argument("--triplet-gradient", choices=["all", "anchor"], help="override paper.yaml's")
    parser.add_argument("--outlier-fraction", type=float, help="JULE's outlier_fraction (ours; default 0)")
    parser.add_argument("--paper-comparison", action="store_true",
                        help="mark the record as a comparison with the JULE paper (runs at its settings)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mnist", type=Path, help=f"folder holding MNIST's four .gz files (default: ${MIRROR}/MNIST/raw)")
    parser.add_argument("--out", type=Path, default=HERE / "records" / "jule_final_clustering.json")
    parser.add_argument("--save-features", type=Path, help="the trained network's features (.npy, one seed only)")
    args = parser.parse_args()
    if args.save_features and len(args.seeds) != 1:
        parser.error("--save-features keeps one seed's features: give one seed")
    if args.mnist is None:
        if not os.environ.get(MIRROR):
            parser.error(f"give --mnist or set {MIRROR} to a folder holding MNIST/raw")
        args.mnist = Path(os.environ[MIRROR]) / "MNIST" / "raw"
    return args


def plain(row: dict) -> dict:
    """A history row as JSON can hold it: numbers as Python numbers, NaN (no loss yet) as null."""
    out = {}
    for key, value in row.items():
        if isinstance(value, (float, np.floating)):
            value = None if np.isnan(value) else float(value)
        elif isinstance(value, np.integer):
            value = int(value)
        out[key] = value
    return out


def scores(y, labels) -> dict:
    found = metrics.evaluate(labels, y)
    return {"acc": found["acc"], "nmi": found["nmi"], "ari": found["ari"],
            "clusters": composition(y, labels, without=[])["clusters"]}


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    params = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["methods"]["jule"]["params"]
    if args.epochs_per_period is not None:
        params["epochs_per_period"] = args.epochs_per_period
    if args.triplet_gradient is not None:
        params["triplet_gradient"] = args.triplet_gradient
    if args.outlier_fraction is not None:
        params["outlier_fraction"] = args.outlier_fraction
    method = "jule-outliers" if params.get("outlier_fraction") else "jule"
    X, y, _ = read_idx(args.mnist, {}, splits=("train", "t10k") if args.all else ("t10k",))
    X = X.reshape(len(X), -1).astype(np.float32) / 255
    runs = []
    for seed in args.seeds:
        start = time.perf_counter()
        model = JULE(10, image_shape=(1, 28, 28), **params, device=args.device, random_state=seed,
                     verbose=True).fit(X, y)
        final, recurrent = scores(y, model.labels_), scores(y, model.recurrent_labels_)
        runs.append({"dataset": "mnist" if args.all else "mnist_test", "method": method, "seed": seed,
                     "acc": final["acc"], "nmi": final["nmi"], "ari": final["ari"],
                     "seconds": time.perf_counter() - start,
                     "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                     "clusters": final["clusters"], "recurrent": recurrent, "history": [plain(row) for row in model.history_]})
        print({k: runs[-1][k] for k in ("seed", "acc", "nmi", "ari", "seconds")}, file=sys.stderr, flush=True)
        if args.save_features:
            args.save_features.parent.mkdir(parents=True, exist_ok=True)
            np.save(args.save_features, model.transform(X))
    command = records.command_line(ROOT)
    if "--mnist" not in sys.argv:
        command = f"{MIRROR}=<a folder holding MNIST/raw> {command}"
    extra = {"paper_comparison": True} if args.paper_comparison else {}
    if args.paper_comparison and method != "jule":
        extra["paper_methods"] = {method: "jule"}
    images = "all 70,000 MNIST images" if args.all else "MNIST-test (10,000 images)"
    records.write(args.out, what=f"JULE at config/paper.yaml's settings (triplet gradient "
                                 f"{params.get('triplet_gradient', 'all')}, outlier_fraction "
                                 f"{params.get('outlier_fraction', 0)}) on {images}: the from-scratch final "
                                 "labels and the recurrent process's last clusters, per seed",
                  params={**params, "seeds": args.seeds, "threads": args.threads, "samples": len(X)},
                  runs=runs, root=ROOT, command=command, device=args.device, **extra)


if __name__ == "__main__":
    main()
