"""DEC and IDEC end to end against ClustPy 0.0.3 at equal settings.

Both libraries get the same pixels in [0, 1] (MNIST's 70,000 images, or --dataset digits: scikit-learn's
1,797 8x8 digits), the same d-500-500-2000-10 autoencoder, the same pretraining (Adam, lr 1e-3, MSE,
batch 256, --pretrain-epochs), the same clustering phase (Adam, lr 1e-4, batch 256, --clustering-epochs,
IDEC's reconstruction weight 1 and clustering weight 0.1), one k-means++ initialisation (ClustPy's
default n_init; --n-init N gives both N), ReLU, the same torch thread count and device. ClustPy's MSE
sums over features where ours (and the papers') averages: with Adam that only matters for IDEC, whose
reconstruction term then weighs d times more in ClustPy (784 on MNIST, 64 on digits). The two run
alternately, each in a fresh process, in one invocation, so that a noisy machine slows both alike; the
JSON has every repeat and the medians, and each run's peak memory
(the worker process's RSS; on a GPU also torch's peak allocation), as a record (deepclust.records).

What differs by design: DEC (the paper) recomputes the target P on the whole dataset every
``update_interval`` steps; ClustPy computes P from each mini-batch alone. deepclust is given one
full target pass per epoch (update_interval = steps per epoch) and tol 0, so both train exactly
--clustering-epochs epochs. ClustPy's ``labels_`` re-cluster the final embedding with k-means;
its ``dec_labels_`` are DEC's own assignments: both ACCs are reported.

ClustPy lives in a venv of its own (its pins differ from ours):
    python3 -m venv ../clustpy-venv
    ../clustpy-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 clustpy==0.0.3
Usage:
    .venv/bin/python bench/clustpy_side_by_side.py --clustpy-python ../clustpy-venv/bin/python \\
        [--dataset mnist|digits] [--mnist <folder with MNIST's .gz files>] [--samples 70000] \\
        [--pretrain-epochs 5] [--clustering-epochs 5] [--threads 2] [--device cpu] [--seeds 0 1 2] \\
        [--methods dec idec] [--n-init 20 | --ours-n-init 20] [--ours-precision bf16]
--mnist defaults to $DEEPCLUST_DATA_MIRROR/MNIST/raw.
--n-init gives both libraries that many k-means++ starts (best inertia; the papers' code uses 20), which
takes most of the initialisation's luck out of a seed; --ours-n-init gives them to deepclust alone.
--ours-precision bf16 runs deepclust's training steps under bfloat16 autocast (the `precision: bf16`
setting), for a CPU with native bfloat16 (AVX-512 BF16 or AMX); ClustPy stays in float32.
--idec-objective clustpy gives deepclust's IDEC ClustPy's objective: its clustering weight divided by
the number of features, which with Adam (blind to the loss's scale) trains as ClustPy's summed MSE
does; the default keeps deepclust's own (the papers' code's) mean.
Writes bench/results/clustpy_side_by_side_<dataset>_<device>[_ours_n_init<N>][_ours_<precision>]
[_n_init<N>][_idec_clustpy_objective].json.
"""

import argparse
import json
import resource
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH, PRETRAIN_LR, CLUSTER_LR, GAMMA = 256, 1e-3, 1e-4, 0.1
HIDDEN, EMBEDDING = (500, 500, 2000), 10
ROOT = Path(__file__).resolve().parents[1]


def worker_ours(X, method, args):
    """deepclust: pretraining, then DEC or IDEC; returns labels and phase seconds."""
    from deepclust import engine
    from deepclust.methods.dec import DEC
    from deepclust.methods.idec import IDEC
    from deepclust.pretrain import pretrain_autoencoder

    engine.set_threads(args.threads)
    engine.set_precision(args.ours_precision)  # before any tensor work; tf32 (the default) flushes denormals on the CPU
    start = time.perf_counter()
    autoencoder, _ = pretrain_autoencoder(X, hidden_dims=HIDDEN, embedding_dim=EMBEDDING, epochs=args.pretrain_epochs,
                                          batch_size=BATCH, lr=PRETRAIN_LR, device=args.device, random_state=args.seed,
                                          verbose=False)
    pretrained = time.perf_counter()
    settings = dict(autoencoder=autoencoder, optimizer="adam", lr=CLUSTER_LR, batch_size=BATCH,
                    update_interval=math.ceil(len(X) / BATCH), tol=0.0, max_epochs=args.clustering_epochs,
                    n_init=args.n_init or args.ours_n_init,
                    device=args.device, random_state=args.seed)
    gamma = GAMMA / X.shape[1] if args.idec_objective == "clustpy" else GAMMA
    model = DEC(10, **settings) if method == "dec" else IDEC(10, gamma=gamma, **settings)
    model.fit(X)
    done = time.perf_counter()
    return {"labels": model.labels_.tolist(), "pretrain_s": pretrained - start, "clustering_s": done - pretrained,
            "total_s": done - start}


def worker_clustpy(X, method, args):
    """ClustPy 0.0.3's DEC / IDEC; the clustering phase is timed by wrapping its module's fit."""
    import clustpy.deep.dec as clustpy_dec
    import torch
    from clustpy.deep import DEC, IDEC
    from clustpy.deep.neural_networks import FeedforwardAutoencoder

    torch.set_num_threads(args.threads)
    import torch._dynamo  # noqa: F401  torch.optim imports it at its first step (~1 s): not timed
    timer = {}
    fit = clustpy_dec._DEC_Module.fit

    def timed_fit(self, *a, **k):
        begin = time.perf_counter()
        result = fit(self, *a, **k)
        timer["clustering_s"] = time.perf_counter() - begin
        return result

    clustpy_dec._DEC_Module.fit = timed_fit
    settings = dict(batch_size=BATCH, pretrain_optimizer_params={"lr": PRETRAIN_LR},
                    clustering_optimizer_params={"lr": CLUSTER_LR}, pretrain_epochs=args.pretrain_epochs,
                    clustering_epochs=args.clustering_epochs, embedding_size=EMBEDDING, device=args.device,
                    random_state=args.seed,
                    initial_clustering_params={"n_init": args.n_init} if args.n_init else None,
                    # DEC's architecture: ReLU (ClustPy's default is LeakyReLU)
                    neural_network=(FeedforwardAutoencoder, {"layers": [X.shape[1], *HIDDEN, EMBEDDING],
                                                             "activation_fn": torch.nn.ReLU}))
    model = DEC(10, **settings) if method == "dec" else IDEC(10, clustering_loss_weight=GAMMA, ssl_loss_weight=1.0,
                                                             **settings)
    start = time.perf_counter()
    model.fit(X)
    total = time.perf_counter() - start
    return {"labels": model.dec_labels_.tolist(), "kmeans_labels": model.labels_.tolist(),
            "clustering_s": timer["clustering_s"], "pretrain_s": total - timer["clustering_s"], "total_s": total}


def run_worker(python, side, method, data_path, args) -> dict:
    out = Path(data_path).with_suffix(f".{side}.{method}.json")
    command = [python, __file__, "--worker", side, "--method", method, "--data", str(data_path), "--out", str(out),
               "--pretrain-epochs", str(args.pretrain_epochs), "--clustering-epochs", str(args.clustering_epochs),
               "--threads", str(args.threads), "--device", args.device, "--seed", str(args.seed),
               "--ours-n-init", str(args.ours_n_init), "--n-init", str(args.n_init), "--ours-precision", args.ours_precision,
               "--idec-objective", args.idec_objective]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    subprocess.run(command, check=True, env=env)
    return json.loads(out.read_text())


def load_pixels(dataset: str, directory: Path, samples: int):
    """Pixels in [0, 1] and labels: the first ``samples`` of MNIST's 70,000, or scikit-learn's digits."""
    import numpy as np

    if dataset == "digits":
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        return (X / 16.0).astype(np.float32)[:samples], y[:samples]
    from deepclust.data.images import read_idx

    X, y, _ = read_idx(directory, {})
    X = (X.astype(np.float32) / 255.0)[:samples]
    return X, y[:samples]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clustpy-python", help="the interpreter of the venv holding ClustPy 0.0.3")
    parser.add_argument("--dataset", choices=["mnist", "digits"], default="mnist")
    parser.add_argument("--mnist", type=Path, default=Path(os.environ.get("DEEPCLUST_DATA_MIRROR", "")) / "MNIST" / "raw")
    parser.add_argument("--samples", type=int, default=70000)
    parser.add_argument("--pretrain-epochs", type=int, default=5)
    parser.add_argument("--clustering-epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one repeat per seed")
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ours-n-init", type=int, default=1, help="deepclust's k-means starts (ClustPy: 1)")
    parser.add_argument("--n-init", type=int, default=0,
                        help="both libraries' k-means starts (default: ClustPy's own, one k-means++ start)")
    parser.add_argument("--ours-precision", choices=["fp32", "tf32", "bf16"], default="tf32",
                        help="deepclust's precision (ClustPy: float32); bf16 only where the CPU has it natively")
    parser.add_argument("--idec-objective", choices=["ours", "clustpy"], default="ours",
                        help="clustpy: deepclust's IDEC weighs its terms as ClustPy's does (see above)")
    parser.add_argument("--methods", nargs="+", default=["dec", "idec"], choices=["dec", "idec"])
    parser.add_argument("--worker", choices=["ours", "clustpy"], help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:  # one side, one method, in a fresh process
        import numpy as np
        X = np.load(args.data)
        result = (worker_ours if args.worker == "ours" else worker_clustpy)(X, args.method, args)
        result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        if args.device.startswith("cuda"):
            import torch
            result["peak_gpu_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
        Path(args.out).write_text(json.dumps(result))
        return
    if args.n_init < 0 or args.ours_n_init < 1:
        parser.error("--n-init and --ours-n-init count k-means starts: give a positive number")
    if args.n_init and args.ours_n_init != 1:
        parser.error("--n-init sets both libraries' k-means starts: leave --ours-n-init out")
    if not args.clustpy_python:
        parser.error("--clustpy-python is required (see the module docstring for the venv)")

    import numpy as np

    from deepclust import records
    from deepclust.metrics import cluster_accuracy

    X, y = load_pixels(args.dataset, args.mnist, args.samples)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / f"{args.dataset}.npy"
        np.save(data_path, X)
        for method in args.methods:
            for seed in args.seeds:
                args.seed = seed
                for side, python in (("ours", sys.executable), ("clustpy", args.clustpy_python)):
                    result = run_worker(python, side, method, data_path, args)
                    result = {"method": method, "library": side, "seed": seed, **result,
                              "acc": float(cluster_accuracy(y, np.asarray(result.pop("labels"))))}
                    if "kmeans_labels" in result:
                        result["acc_kmeans_relabelled"] = float(cluster_accuracy(y, np.asarray(result.pop("kmeans_labels"))))
                    runs.append(result)
                    print(f"{method} {side} seed {seed}: {json.dumps(result)}", flush=True)
    params = {k: v for k, v in vars(args).items() if k not in ("worker", "method", "data", "out", "seed", "mnist",
                                                               "clustpy_python")}
    variant = ("" if args.ours_n_init == 1 else f"_ours_n_init{args.ours_n_init}") + \
        ("" if args.ours_precision == "tf32" else f"_ours_{args.ours_precision}") + \
        ("" if not args.n_init else f"_n_init{args.n_init}") + \
        ("" if args.idec_objective == "ours" else f"_idec_{args.idec_objective}_objective")
    out = ROOT / "bench" / "results" / f"clustpy_side_by_side_{args.dataset}_{args.device.split(':')[0]}{variant}.json"
    record = records.write(out, what=f"DEC and IDEC end to end, deepclust against ClustPy 0.0.3 at equal settings "
                                     f"on {args.dataset} ({len(X)} samples)", params={**params, "samples": len(X)},
                           runs=runs, summary=summarise(runs, args.pretrain_epochs + args.clustering_epochs),
                           root=ROOT, device=args.device)
    print(json.dumps(record["summary"], indent=1))
    print(f"wrote {out}")


def summarise(runs: list[dict], epochs: int) -> dict:
    """Per method and library: median times, ACC mean and std over seeds; the time ratios."""
    summary = {}
    for method in dict.fromkeys(r["method"] for r in runs):
        sides = {}
        for side in ("ours", "clustpy"):
            rs = [r for r in runs if r["method"] == method and r["library"] == side]
            sides[side] = {key: statistics.median(r[key] for r in rs) for key in rs[0]
                           if isinstance(rs[0][key], float) and key != "acc"}
            sides[side]["acc_mean"] = statistics.mean(r["acc"] for r in rs)
            sides[side]["acc_std"] = statistics.pstdev(r["acc"] for r in rs)
            sides[side]["seconds_per_epoch"] = sides[side]["total_s"] / epochs
        summary[method] = {**sides, "time_ratio_clustpy_over_ours": sides["clustpy"]["total_s"] / sides["ours"]["total_s"],
                           "pretrain_ratio": sides["clustpy"]["pretrain_s"] / sides["ours"]["pretrain_s"],
                           "clustering_ratio": sides["clustpy"]["clustering_s"] / sides["ours"]["clustering_s"]}
    return summary


if __name__ == "__main__":
    main()
