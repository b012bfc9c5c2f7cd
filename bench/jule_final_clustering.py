"""JULE at config/mnist.yaml's settings, one seed: the from-scratch final labels (labels_) and
the recurrent process's own (recurrent_labels_) from the same fit, as JSON on stdout. Usage:
    .venv/bin/python bench/jule_final_clustering.py SEED THREADS [--all]
MNIST-test (10,000) by default, all 70,000 images with --all; reads ../shared/data/MNIST/raw."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from deepclust import metrics
from deepclust.data.images import read_idx
from deepclust.methods.jule import JULE

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
raw = Path(__file__).resolve().parents[1] / "../shared/data/MNIST/raw"
X, y, _ = read_idx(raw, {}, splits=("train", "t10k") if "--all" in sys.argv else ("t10k",))
X = X.reshape(len(X), -1).astype(np.float32) / 255
t = time.perf_counter()
m = JULE(10, image_shape=(1, 28, 28), unrolling_rate=0.9, epochs_per_period=1, n_neighbors=20, n_cluster_neighbors=5,
         margin=0.2, batch_size=100, lr=0.01, device="cpu", random_state=int(sys.argv[1]), verbose=True).fit(X, y)
out = {"seed": int(sys.argv[1]), "seconds": time.perf_counter() - t,
       "from_scratch": {"acc": metrics.cluster_accuracy(y, m.labels_), "nmi": float(metrics.evaluate(m.labels_, y)["nmi"])},
       "recurrent": {"acc": metrics.cluster_accuracy(y, m.recurrent_labels_), "nmi": float(metrics.evaluate(m.recurrent_labels_, y)["nmi"])},
       "history_last": m.history_[-1]}
print(json.dumps(out, default=float))
