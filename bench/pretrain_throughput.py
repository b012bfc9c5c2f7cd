"""Autoencoder pretraining throughput (issue 6, benchmark a): samples per second of the training
engine on DEC's d-500-500-2000-10 MLP at MNIST's shape, per batch size, median over repeats.
Writes bench/results/pretrain_throughput_<device>[_<precision>][_graphs].json. Usage:
    .venv/bin/python bench/pretrain_throughput.py [--device cpu|cuda] [--threads 2] [--epochs 3] [--repeats 3]
        [--precision tf32] [--cuda-graphs]
The data are random [0, 1] pixels (speed does not depend on their content); the first epoch of each
repeat is a warm-up and is not counted.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from deepclust import engine
from deepclust.pretrain import pretrain_autoencoder
from machine import device_name


def timed_pretraining(X, epochs, device="cpu", **settings) -> tuple[list[float], list[dict]]:
    """Pretrain from seed 0; return every epoch's wall-clock seconds and the loss history."""
    stamps = [time.perf_counter()]

    class Clock(engine.Checkpoint):  # called at every epoch end; saves nothing
        def epoch_end(self, epoch, state):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())

    _, history = pretrain_autoencoder(X, epochs=epochs, device=device, random_state=0, verbose=False,
                                      checkpoint=Clock(), **settings)
    return [b - a for a, b in zip(stamps, stamps[1:])], history


def epoch_seconds(X, batch_size, epochs, device, cuda_graphs=False) -> list[float]:
    """Seconds of each of ``epochs`` epochs after a first, untimed one."""
    seconds, _ = timed_pretraining(X, epochs + 1, device, batch_size=batch_size, cuda_graphs=cuda_graphs)
    return seconds[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--samples", type=int, default=70000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="tf32", choices=engine.PRECISIONS)
    parser.add_argument("--cuda-graphs", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    engine.set_precision(args.precision)
    X = np.random.default_rng(0).random((args.samples, 784), dtype=np.float32)
    rows = []
    for batch_size in args.batch_sizes:
        medians = [statistics.median(epoch_seconds(X, batch_size, args.epochs, args.device, args.cuda_graphs))
                   for _ in range(args.repeats)]
        seconds = statistics.median(medians)
        rows.append({"batch_size": batch_size, "epoch_seconds": seconds, "samples_per_second": args.samples / seconds,
                     "repeat_medians": medians})
        print(f"batch {batch_size}: {seconds:.3f} s/epoch, {args.samples / seconds:,.0f} samples/s", flush=True)
    if args.device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    result = {"benchmark": "AE pretraining throughput, d-500-500-2000-10, Adam", "device": args.device,
              "device_name": device_name(args.device), "threads": args.threads, "samples": args.samples,
              "precision": args.precision, "cuda_graphs": args.cuda_graphs,
              "epochs_timed": args.epochs, "repeats": args.repeats, "rows": rows,
              ("peak_gpu_memory_gib" if args.device.startswith("cuda") else "peak_rss_gib"): round(peak, 3),
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}
    # the default precision keeps the plain name on the CPU
    variant = ("" if args.device == "cpu" and args.precision == "tf32" else f"_{args.precision}") + (
        "_graphs" if args.cuda_graphs else "")
    out = Path(__file__).parent / "results" / f"pretrain_throughput_{args.device.replace(':', '')}{variant}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
