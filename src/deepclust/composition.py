"""What a finished run's clusters hold: each cluster's two largest classes, each class's accuracy
under the best one-to-one matching, and the accuracy without chosen classes. For explaining a gap
to a paper (e.g. a method whose clusters split 4s and 9s by writing style instead of by digit).

    python -m deepclust.composition results/paper/runs/mnist/infogan/seed0 --data results/paper/data/mnist.npz --without 4 9
"""

import argparse
import json
from pathlib import Path

import numpy as np

from deepclust.metrics import best_matching, contingency


def composition(y_true: np.ndarray, y_pred: np.ndarray, without=()) -> dict:
    """acc, acc_per_class, acc_without (classes ``without`` left out) and per cluster its size,
    matched class and two largest classes with their shares."""
    counts, pred_ids, true_ids = contingency(y_true, y_pred)
    mapping = best_matching(y_true, y_pred)
    correct = np.array([mapping.get(int(c)) == t for c, t in zip(y_pred, y_true)])
    clusters = []
    for row, cluster in zip(counts, pred_ids):
        top, size = np.argsort(-row)[:2], row.sum()
        clusters.append({"cluster": int(cluster), "size": int(size), "matched_class": mapping.get(int(cluster)),
                         "top_classes": [int(true_ids[i]) for i in top],
                         "top_shares": [round(float(row[i] / size), 3) for i in top]})
    kept = ~np.isin(y_true, without)
    return {"acc": float(correct.mean()),
            "acc_per_class": {int(t): round(float(correct[y_true == t].mean()), 4) for t in true_ids},
            "without": list(without), "acc_without": float(correct[kept].mean()) if kept.any() else None,
            "clusters": clusters}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run folder holding labels.npy")
    parser.add_argument("--data", type=Path, required=True, help="the prepared dataset (.npz with y)")
    parser.add_argument("--without", type=int, nargs="*", default=[], help="classes left out of acc_without")
    args = parser.parse_args()
    y_true = np.load(args.data)["y"]
    y_pred = np.load(args.run_dir / "labels.npy")
    if len(y_true) != len(y_pred):
        raise SystemExit(f"{args.run_dir}/labels.npy has {len(y_pred)} labels, {args.data} {len(y_true)} samples")
    print(json.dumps(composition(y_true, y_pred, args.without), indent=1))


if __name__ == "__main__":
    main()


# ----------------------------------------------------------------------------- tables of runs' compositions

def class_accuracy_table(runs: list[dict]) -> str:
    """Markdown: per run (its ``seed`` and ``composition``), each class's accuracy under the best
    one-to-one matching of clusters to classes."""
    from deepclust.records import markdown_table

    per_run = [{int(c): acc for c, acc in run["composition"]["acc_per_class"].items()} for run in runs]  # JSON: str keys
    classes = sorted({c for accuracies in per_run for c in accuracies})
    rows = [[run["seed"], *(f"{accuracies[c]:.3f}" for c in classes)] for run, accuracies in zip(runs, per_run)]
    return markdown_table(["seed", *map(str, classes)], rows)


def mixed_clusters_table(runs: list[dict], below: float, noun: str = "cluster", footer: str = "") -> str:
    """Markdown: the clusters whose largest class holds less than ``below`` of them, with their two
    largest classes, then a line naming the runs that have none, and ``footer``."""
    from deepclust.records import markdown_table

    rows = [[run["seed"], f"{c['size']:,}",
             " + ".join(f"{100 * share:.1f} % {label}s" for label, share in zip(c["top_classes"], c["top_shares"]))]
            for run in runs for c in run["composition"]["clusters"] if c["top_shares"][0] < below]
    clean = [run["seed"] for run in runs if run["seed"] not in {row[0] for row in rows}]
    note = f"Seed {', '.join(map(str, clean))}: no {noun} below {100 * below:.0f} % of one digit." if clean else ""
    lines = " ".join(part for part in (note, footer) if part)
    return markdown_table(["seed", f"{noun} size", "its two largest digits"], rows, "---:|---:|---") + \
        (f"\n\n{lines}" if lines else "")
