"""What flushing denormals to zero does to CPU pretraining (issue 6): per-epoch seconds of MNIST
autoencoder pretraining (d-500-500-2000-10, batch 256) under `precision: fp32` (IEEE: denormals
kept) and `tf32` (the default: flushed on the CPU), alternating in fresh processes so both see
the same machine, plus the final losses (they should agree to print precision).
Writes bench/results/denormal_flush_<optimizer>.json. Usage:
    .venv/bin/python bench/denormal_flush.py [--optimizer adam|sgd] [--epochs 8] [--repeats 2] [--threads 1]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = """
import json, sys
import numpy as np
from deepclust import engine
from deepclust.data.images import read_idx
from pretrain_throughput import timed_pretraining
precision, optimizer, epochs, threads, mnist = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
engine.set_threads(threads)
engine.set_precision(precision)  # before any tensor work, as the job scripts do
X, _, _ = read_idx(mnist, {}, splits=("train", "t10k"))
X = X.reshape(len(X), -1).astype(np.float32) / 255
settings = {"optimizer": "sgd", "lr": 1.0, "momentum": 0.9} if optimizer == "sgd" else {"optimizer": "adam", "lr": 1e-3}
seconds, history = timed_pretraining(X, epochs, batch_size=256, **settings)
print(json.dumps({"epoch_seconds": seconds, "losses": [row["loss"] for row in history]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mnist", type=Path, default=ROOT / "../shared/data/MNIST/raw")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from machine import device_name

    runs = {"fp32": [], "tf32": []}
    for _ in range(args.repeats):
        for precision in runs:
            out = subprocess.run([sys.executable, "-c", ONE_RUN, precision, args.optimizer, str(args.epochs),
                                  str(args.threads), str(args.mnist.resolve())],
                                 capture_output=True, text=True, check=True, cwd=Path(__file__).parent)
            runs[precision].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(precision, [round(s, 1) for s in runs[precision][-1]["epoch_seconds"]], flush=True)
    summary = {}
    for precision, rows in runs.items():
        per_epoch = [statistics.median(r["epoch_seconds"][e] for r in rows) for e in range(args.epochs)]
        summary[precision] = {"median_epoch_seconds": per_epoch,
                              "median_of_epochs_3_on": statistics.median(per_epoch[2:]),
                              "final_loss": rows[0]["losses"][-1]}
    summary["speedup_epochs_3_on"] = summary["fp32"]["median_of_epochs_3_on"] / summary["tf32"]["median_of_epochs_3_on"]
    result = {"benchmark": "MNIST AE pretraining, denormals kept (fp32) vs flushed (tf32 on the CPU)",
              "optimizer": args.optimizer, "epochs": args.epochs, "repeats": args.repeats, "threads": args.threads,
              "machine": device_name("cpu"), "runs": runs, "summary": summary, "date": time.strftime("%Y-%m-%d")}
    out = Path(__file__).parent / "results" / f"denormal_flush_{args.optimizer}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
