"""Summary tables: dataset x method, mean ± std over seeds, best in bold."""

import math

import numpy as np
import pandas as pd

# (column in metrics.json, header, higher is better: True, False (lower is), None (neither))
COLUMNS = [("acc", "ACC", True), ("nmi", "NMI", True), ("ari", "ARI", True),
           ("silhouette", "Silhouette", True), ("davies_bouldin", "DB", False),
           ("calinski_harabasz", "CH", True), ("n_clusters_found", "Clusters", None),
           ("noise_fraction", "Noise", None), ("seconds", "Time (s)", None)]

EXTERNAL = ("acc", "nmi", "ari")  # need true labels


def collect(records: list[dict]) -> pd.DataFrame:
    """One row per (dataset, method, seed) from dicts holding those keys and the metrics."""
    return pd.DataFrame.from_records(records)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Long table: dataset, method, metric, mean, std, n_seeds."""
    metrics = [c for c, _, _ in COLUMNS if c in runs]
    grouped = runs.groupby(["dataset", "method"], sort=False)[metrics]
    mean = grouped.mean().stack(future_stack=True).rename("mean")
    std = grouped.std(ddof=0).stack(future_stack=True).rename("std")
    n = grouped.count().stack(future_stack=True).rename("n_seeds")
    out = pd.concat([mean, std, n], axis=1).reset_index()
    return out.rename(columns={out.columns[2]: "metric"})


def _cell(mean: float, std: float, digits: int) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown(summary: pd.DataFrame) -> str:
    """One markdown table per dataset; the best mean of each ranked metric is bold. Datasets
    without labels have only internal metrics, and their table says so."""
    lines = []
    for dataset, part in summary.groupby("dataset", sort=False):
        labelled = part.loc[part["metric"] == "acc", "n_seeds"].sum() > 0
        if not labelled:  # other datasets' label metrics show up as empty rows here
            part = part[~part["metric"].isin(EXTERNAL)]
        present = [c for c in COLUMNS if c[0] in set(part["metric"])]
        lines += [f"### {dataset}", "", "| Method | " + " | ".join(h for _, h, _ in present) + " |",
                  "|---|" + "---:|" * len(present)]
        wide_mean = part.pivot(index="method", columns="metric", values="mean")
        wide_std = part.pivot(index="method", columns="metric", values="std")
        methods = list(dict.fromkeys(part["method"]))
        rank_by = "acc" if labelled else "silhouette"
        if rank_by in wide_mean:  # best first
            methods.sort(key=lambda m: -np.nan_to_num(wide_mean.loc[m, rank_by], nan=-np.inf))
        for method in methods:
            cells = []
            for column, _, higher in present:
                value, spread = wide_mean.loc[method, column], wide_std.loc[method, column]
                digits = 1 if column in ("seconds", "n_clusters_found", "calinski_harabasz") else 3
                text = _cell(value, spread, digits)
                best = None if higher is None else (wide_mean[column].max() if higher else wide_mean[column].min())
                if best is not None and not math.isnan(value) and np.isclose(value, best):
                    text = f"**{text}**"
                cells.append(text)
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        n_seeds = int(part["n_seeds"].max())
        labels_note = ("ACC uses Hungarian matching; noise (-1) counts as wrong." if labelled else
                       "**No labels: only internal metrics** (silhouette, Davies–Bouldin, Calinski–Harabasz).")
        lines += ["", f"Mean ± std over {n_seeds} seed(s). {labels_note} Internal metrics are on the dataset's "
                  "input features, noise left out; DB is lower-is-better. Time is the fit time per run.", ""]
    return "\n".join(lines)
