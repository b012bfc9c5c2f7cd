"""Seconds of one inference pass of DEC's d-500-500-2000-10 encoder over MNIST-sized data per
batch size (median of --repeats), and whether the outputs are bit-equal to batch 8192's; this
chose engine.full_pass's CPU default. Usage:
    .venv/bin/python bench/full_pass_batch.py [--device cpu] [--threads 2] [--repeats 3]
Writes the record bench/results/full_pass_batch_<device>.json."""

import argparse
import statistics
import time
from pathlib import Path

import torch

from deepclust import engine, records
from deepclust.nn.autoencoder import make

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
encoder = make("mlp", 784, hidden_dims=(500, 500, 2000), embedding_dim=10).encoder.to(args.device)
data = torch.rand(70000, 784, device=args.device)
reference = engine.full_pass(encoder, data, batch_size=8192)
runs = []
for batch_size in (256, 512, 1024, 2048, 4096, 8192):
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        out = engine.full_pass(encoder, data, batch_size=batch_size)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    runs.append({"batch_size": batch_size, "median_s": statistics.median(seconds), "seconds": seconds,
                 "bit_equal_to_8192": bool(torch.equal(out, reference))})
    print(runs[-1], flush=True)
root = Path(__file__).resolve().parents[1]
records.write(root / "bench" / "results" / f"full_pass_batch_{args.device.split(':')[0]}.json",
              what="seconds of one inference pass of DEC's encoder over 70,000 MNIST-sized rows, per batch size",
              params={"device": args.device, "threads": args.threads, "samples": 70000, "repeats": args.repeats},
              runs=runs, root=root, device=args.device)
