"""DEC end to end on all of MNIST at the paper's settings, per seed (the GPU goal: under 60 s per
seed): the autoencoder pretrained as config/paper.yaml's `nets.ae` says (DEC-keras'
SGD recipe, 300 epochs at batch 256), then DEC with paper.yaml's `methods.dec.params` (SGD 0.01,
target every 140 iterations, tol 0.1 %, 20 k-means starts). The settings are read from that file,
so this measures what `make paper` runs. Each phase is timed (CUDA synchronised), with ACC of
AE + k-means and of DEC, peak memory, and the device's name. Usage:
    .venv/bin/python bench/dec_paper_settings.py [--device cuda] [--seeds 0 1 2] [--precision tf32]
        [--cuda-graphs] [--mnist <folder with MNIST's .gz files>] [--samples 70000] [--pretrain-epochs N]
        [--threads N]
--mnist defaults to $DEEPCLUST_DATA_MIRROR/MNIST/raw. --samples and --pretrain-epochs shorten it for a smoke
test on a CPU (the record says so). Writes the record bench/results/dec_paper_settings_<device>.json (or --out).
"""

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from deepclust import engine, records
from deepclust.data.images import read_idx
from deepclust.methods.dec import DEC
from deepclust.metrics import cluster_accuracy
from deepclust.pretrain import embed, pretrain_autoencoder

ROOT = Path(__file__).resolve().parents[1]


def synchronised_clock(device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter()


def one_seed(X, y, seed, net, dec_params, args) -> dict:
    from sklearn.cluster import KMeans

    start = synchronised_clock(args.device)
    model, history = pretrain_autoencoder(X, **net, device=args.device, random_state=seed, verbose=False,
                                          cuda_graphs=args.cuda_graphs)
    pretrained = synchronised_clock(args.device)
    dec = DEC(10, autoencoder=model, **dec_params, device=args.device, random_state=seed).fit(X)
    done = synchronised_clock(args.device)
    z = embed(model, X)  # not timed: AE + k-means is the reference point, not part of DEC
    kmeans = KMeans(10, n_init=dec_params.get("n_init", 20), random_state=seed).fit_predict(z)
    return {"seed": seed, "pretrain_s": pretrained - start, "dec_s": done - pretrained, "total_s": done - start,
            "pretrain_final_loss": history[-1]["loss"], "dec_iterations": int(dec.n_iter_),
            "dec_converged": bool(dec.converged_), "acc_ae_kmeans": cluster_accuracy(y, kmeans),
            "acc_dec": cluster_accuracy(y, dec.labels_)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--precision", default="tf32", choices=engine.PRECISIONS)
    parser.add_argument("--cuda-graphs", action="store_true")
    parser.add_argument("--mnist", type=Path, default=Path(os.environ.get("DEEPCLUST_DATA_MIRROR", "")) / "MNIST" / "raw")
    parser.add_argument("--samples", type=int, default=70000)
    parser.add_argument("--pretrain-epochs", type=int, help="override paper.yaml's (smoke tests)")
    parser.add_argument("--threads", type=int, help="torch threads (the CPU)")
    parser.add_argument("--config", type=Path, default=ROOT / "config/paper.yaml")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    engine.set_threads(args.threads)
    engine.set_precision(args.precision)

    config = yaml.safe_load(args.config.read_text())
    net = dict(config["nets"]["ae"])
    dec_params = dict(config["methods"]["dec"]["params"])
    if args.pretrain_epochs:
        net["epochs"] = args.pretrain_epochs
    X, y, _ = read_idx(args.mnist, {})
    X = (X.reshape(len(X), -1).astype(np.float32) / 255.0)[:args.samples]
    y = y[:args.samples]

    runs = []
    for seed in args.seeds:
        runs.append(one_seed(X, y, seed, net, dec_params, args))
        print(json.dumps(runs[-1]), flush=True)
    peak = ({"peak_gpu_memory_gib": torch.cuda.max_memory_allocated() / 2**30} if args.device.startswith("cuda")
            else {})
    out = args.out or ROOT / "bench" / "results" / f"dec_paper_settings_{args.device.split(':')[0]}.json"
    params = {"device": args.device, "precision": args.precision, "cuda_graphs": args.cuda_graphs,
              "threads": torch.get_num_threads(), "samples": len(X), "pretraining": net, "dec": dec_params,
              "full_settings": args.samples == 70000 and not args.pretrain_epochs, "torch": torch.__version__}
    summary = {"median": {key: statistics.median(r[key] for r in runs) for key in ("pretrain_s", "dec_s", "total_s")},
               "mean_acc": {key: statistics.mean(r[key] for r in runs) for key in ("acc_ae_kmeans", "acc_dec")}}
    records.write(out, what="DEC end to end on MNIST at config/paper.yaml's settings", params=params, runs=runs,
                  summary=summary, root=ROOT, device=args.device,
                  peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, **peak)
    print(json.dumps(summary, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
