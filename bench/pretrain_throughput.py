"""Autoencoder pretraining throughput: samples per second of the training
engine on DEC's d-500-500-2000-10 MLP at MNIST's shape, per batch size, median over repeats.
Writes the record bench/results/pretrain_throughput_<device>[_<precision>][_graphs].json. Usage:
    .venv/bin/python bench/pretrain_throughput.py [--device cpu|cuda] [--threads 2] [--epochs 3] [--repeats 3]
        [--precision tf32] [--cuda-graphs]
The data are random [0, 1] pixels (speed does not depend on their content); the first epoch of each
repeat is a warm-up and is not counted.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from deepclust import engine, records
from deepclust.pretrain import pretrain_autoencoder

ROOT = Path(__file__).resolve().parents[1]


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
        peak = {"peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3)}
    else:
        import resource
        peak = {"peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}
    # the default precision keeps the plain name on the CPU
    variant = ("" if args.device == "cpu" and args.precision == "tf32" else f"_{args.precision}") + (
        "_graphs" if args.cuda_graphs else "")
    out = ROOT / "bench" / "results" / f"pretrain_throughput_{args.device.replace(':', '')}{variant}.json"
    params = {"device": args.device, "threads": args.threads, "samples": args.samples, "precision": args.precision,
              "cuda_graphs": args.cuda_graphs, "epochs_timed": args.epochs, "repeats": args.repeats,
              "torch": torch.__version__}
    records.write(out, what="autoencoder pretraining throughput, d-500-500-2000-10, Adam, per batch size",
                  params=params, runs=rows, root=ROOT, device=args.device, **peak)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
