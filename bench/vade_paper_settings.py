"""VaDE at config/paper.yaml's settings from a given pretrained autoencoder, one seed, with the
per-epoch history (ACC, NMI, -ELBO) in a JSON: the long run behind README's "VaDE's start".
A checkpoint every 10 epochs makes it resumable: rerun the same command after a stop (SIGTERM
saves at the end of the running epoch). Usage:
    .venv/bin/python bench/vade_paper_settings.py --data results/data/mnist.npz \\
        --autoencoder results/pretrain/mnist/ae/seed0/model.pt --seed 0 --threads 1 \\
        --checkpoint /tmp/vade_seed0.pt --out bench/results/vade_mnist_paper_seed0.json
``--latent-scale C`` sets VaDE's ``latent_scale`` (paper.yaml's value otherwise): the same
autoencoder and start with a C times wider latent space for Adam's fixed-size steps.
"""

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import yaml

from deepclust import engine, io
from deepclust.methods.vade import VaDE
from deepclust.nn import autoencoder
from machine import device_name

ROOT = Path(__file__).resolve().parent.parent

parser = argparse.ArgumentParser()
parser.add_argument("--data", type=Path, required=True, help="a prepared dataset (results/data/<name>.npz)")
parser.add_argument("--autoencoder", type=Path, required=True, help="a pretrained model.pt")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--device", default="cpu")
parser.add_argument("--epochs", type=int, help="override paper.yaml's 300 (a smoke test)")
parser.add_argument("--checkpoint", type=Path, help="resume from / save to this file every 10 epochs")
parser.add_argument("--latent-scale", type=float, help="override paper.yaml's latent_scale (see above)")
parser.add_argument("--out", type=Path)
args = parser.parse_args()

engine.set_threads(args.threads)
engine.set_precision("tf32")  # the workflow's default, before any tensor work (denormals flushed on the CPU)
params = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["methods"]["vade"]["params"]
if args.epochs is not None:
    params["max_epochs"] = args.epochs
if args.latent_scale is not None:
    params["latent_scale"] = args.latent_scale
X, y, _ = io.load_dataset(args.data)
model = VaDE(len(np.unique(y)), autoencoder=autoencoder.load(args.autoencoder, args.device), **params,
             device=args.device, random_state=args.seed, verbose=True)
start = time.perf_counter()
model.fit(X, y, checkpoint=engine.Checkpoint(args.checkpoint, key=json.dumps(params, sort_keys=True), every=10))
result = {"seed": args.seed, "samples": len(X), "params": params, "threads": args.threads, "device": args.device,
          "machine": device_name(args.device), "seconds_this_process": time.perf_counter() - start,
          "history": model.history_, "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
          "date": time.strftime("%Y-%m-%d")}
print(json.dumps({k: v for k, v in result.items() if k != "history"}, default=float))
if args.out:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
