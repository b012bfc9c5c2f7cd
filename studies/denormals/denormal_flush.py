"""Denormal floats and Adam on a CPU: per-epoch seconds of MNIST autoencoder pretraining
(d-500-500-2000-10, batch 256, all 70,000 images) under `precision: fp32` (IEEE: denormals kept)
and `tf32` (the default: denormals flushed to zero on the CPU), alternating in fresh processes so
both see the same machine, plus every epoch's loss (they should agree to the bit).

Writes the record studies/denormals/records/denormal_flush_<optimizer>.json. Usage, from the
repository root, with MNIST's IDX files (train-images-idx3-ubyte.gz, ...) in
$DEEPCLUST_DATA_MIRROR/MNIST/raw:

    DEEPCLUST_DATA_MIRROR=<a folder holding MNIST/raw> python studies/denormals/denormal_flush.py \\
        [--optimizer adam|sgd] [--epochs 8] [--repeats 2] [--threads 1]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from deepclust import engine, records
from deepclust.data.images import read_idx
from deepclust.pretrain import pretrain_autoencoder

ROOT = Path(__file__).resolve().parents[2]
PRECISIONS = ("fp32", "tf32")
OPTIMIZERS = {"adam": {"optimizer": "adam", "lr": 1e-3}, "sgd": {"optimizer": "sgd", "lr": 1.0, "momentum": 0.9}}


def timed_pretraining(X, epochs, **settings) -> tuple[list[float], list[dict]]:
    """Pretrain from seed 0 on the CPU; return every epoch's wall-clock seconds and the loss history."""
    stamps = [time.perf_counter()]

    class Clock(engine.Checkpoint):  # called at every epoch end; saves nothing
        def epoch_end(self, epoch, state):
            stamps.append(time.perf_counter())

    _, history = pretrain_autoencoder(X, epochs=epochs, device="cpu", random_state=0, verbose=False,
                                      checkpoint=Clock(), **settings)
    return [b - a for a, b in zip(stamps, stamps[1:])], history


def one_run(precision: str, optimizer: str, epochs: int, threads: int, mnist: Path) -> dict:
    """One pretraining in this process: threads and precision first, before any tensor work, as the
    workflow's job scripts do (the flush flag is per thread; torch's workers copy it when they start)."""
    engine.set_threads(threads)
    engine.set_precision(precision)
    X, _, _ = read_idx(mnist, {}, splits=("train", "t10k"))
    X = X.reshape(len(X), -1).astype(np.float32) / 255
    seconds, history = timed_pretraining(X, epochs, batch_size=256, **OPTIMIZERS[optimizer])
    return {"epoch_seconds": seconds, "losses": [row["loss"] for row in history]}


def summarise(runs: list[dict], epochs: int) -> dict:
    """Per precision the median over repeats of each epoch's seconds, their median from epoch 3 on
    (after the denormals have appeared) and the final loss; the speed-up from epoch 3 on."""
    summary = {}
    for precision in PRECISIONS:
        rows = [run for run in runs if run["precision"] == precision]
        per_epoch = [statistics.median(r["epoch_seconds"][e] for r in rows) for e in range(epochs)]
        summary[precision] = {"median_epoch_seconds": per_epoch, "median_of_epochs_3_on": statistics.median(per_epoch[2:]),
                              "final_loss": rows[0]["losses"][-1]}
    summary["speedup_epochs_3_on"] = summary["fp32"]["median_of_epochs_3_on"] / summary["tf32"]["median_of_epochs_3_on"]
    summary["losses_identical"] = len({json.dumps(run["losses"]) for run in runs}) == 1
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--one-run", choices=PRECISIONS, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if not os.environ.get("DEEPCLUST_DATA_MIRROR"):
        parser.error("set DEEPCLUST_DATA_MIRROR to a folder holding MNIST/raw (MNIST's IDX files)")
    mnist = Path(os.environ["DEEPCLUST_DATA_MIRROR"]).expanduser() / "MNIST" / "raw"
    if args.one_run:
        print(json.dumps(one_run(args.one_run, args.optimizer, args.epochs, args.threads, mnist)))
        return

    runs = []
    for repeat in range(args.repeats):
        for precision in PRECISIONS:  # alternating, each in a fresh process
            out = subprocess.run([sys.executable, __file__, "--one-run", precision, "--optimizer", args.optimizer,
                                  "--epochs", str(args.epochs), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            runs.append({"precision": precision, "repeat": repeat, **json.loads(out.stdout.strip().splitlines()[-1])})
            print(precision, [round(s, 1) for s in runs[-1]["epoch_seconds"]], flush=True)
    summary = summarise(runs, args.epochs)
    settings = OPTIMIZERS[args.optimizer]
    records.write(ROOT / "studies" / "denormals" / "records" / f"denormal_flush_{args.optimizer}.json",
                  what=f"MNIST autoencoder pretraining (d-500-500-2000-10, {args.optimizer}, batch 256, 70,000 "
                       "images) per epoch: denormals kept (precision fp32) against flushed to zero (tf32), "
                       "alternating in fresh processes",
                  command=f"DEEPCLUST_DATA_MIRROR=<a folder holding MNIST/raw> {records.command_line(ROOT)}",
                  root=ROOT, params={"optimizer": args.optimizer, **settings, "batch_size": 256, "epochs": args.epochs,
                                     "repeats": args.repeats, "threads": args.threads, "precisions": list(PRECISIONS)},
                  runs=runs, summary=summary)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
