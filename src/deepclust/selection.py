"""Choosing without labels: a sweep's setting by an internal criterion, and k when it is unknown.

**Settings.** Each setting of a swept method is scored, per seed, on one common space: the
embedding of the config's ``selection.space`` net pretrained with that seed (the network every
deep method of the seed starts from), or the input features. A method's own final embedding is
no common ground: a setting that collapses its embedding scores well there whatever it found. On
the common space the internal criteria are

- the silhouette (Rousseeuw 1987), the Davies–Bouldin index (lower is better) and the
  Calinski–Harabasz index, over non-noise points, mean over seeds (deepclust.metrics);
- stability across seeds: the mean adjusted Rand index between the partitions of every pair of
  seeds (Ben-Hur, Elisseeff and Guyon 2002, "A stability based method for discovering structure in
  clustered data", PSB; Lange, Roth, Braun and Buhmann 2004, "Stability-based validation of
  clustering solutions", Neural Computation 16; von Luxburg 2010, "Clustering stability: an
  overview"). A setting that finds the same clusters whatever the seed is taken to have found
  structure rather than noise. It needs no space and at least two seeds.

None of them reads a label. The label-best setting (highest mean ACC, or NMI) is reported beside
the label-free choice, with what the choice gives up.

**k.** ``n_clusters: auto`` picks the k of ``k_range`` whose k-means partition of the common space
(the first seed's) has the highest silhouette. The silhouette needs no reference distribution (the
gap statistic draws and clusters B reference sets per k) and no reading of a knee (the elbow), is
bounded, and peaks at the true k of well-separated clusters; it leans to fewer clusters when some
overlap, which the figure of the criterion over k shows.
"""

import math

import numpy as np
import pandas as pd

# criterion -> higher is better
CRITERIA = {"silhouette": True, "davies_bouldin": False, "calinski_harabasz": True, "stability": True}
INTERNAL = ("silhouette", "davies_bouldin", "calinski_harabasz")
LABELLED = ("acc", "nmi", "ari")
SAMPLE = 5000  # points the k choice clusters (a fixed random subset beyond it)
LABEL_FREE = "{method} (label-free)"  # a swept method's name in the leaderboard


# ----------------------------------------------------------------------------- scores

def internal_scores(space: np.ndarray, labels: np.ndarray) -> dict:
    """Silhouette, Davies–Bouldin and Calinski–Harabasz of ``labels`` on ``space`` (NaN where undefined)."""
    from deepclust.metrics import calinski_harabasz, davies_bouldin, silhouette

    return {"silhouette": silhouette(space, labels), "davies_bouldin": davies_bouldin(space, labels),
            "calinski_harabasz": calinski_harabasz(space, labels)}


def stability(partitions: list) -> float:
    """Mean adjusted Rand index over every pair of ``partitions`` (noise, -1, is one more label);
    NaN with fewer than two."""
    from sklearn.metrics import adjusted_rand_score

    pairs = [(a, b) for i, a in enumerate(partitions) for b in partitions[i + 1:]]
    if not pairs:
        return math.nan
    return float(np.mean([adjusted_rand_score(a, b) for a, b in pairs]))


def per_setting(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, method, setting) from per-run scores (selection_scores' rows): mean and
    std over seeds of each metric and criterion, the stability and the number of seeds; settings in
    the order they first appear."""
    metrics = [m for m in (*LABELLED, *INTERNAL) if m in scores]
    keys = ["dataset", "method", "setting"]
    grouped = scores.groupby(keys, sort=False)
    table = grouped.size().rename("seeds").reset_index()
    for metric in metrics:
        table[f"{metric}_mean"] = grouped[metric].mean().to_numpy()
        table[f"{metric}_std"] = grouped[metric].std(ddof=0).to_numpy()
    table["stability"] = grouped["stability"].first().to_numpy()
    return table


def _pick(rows: pd.DataFrame, column: str, higher: bool):
    """The row with the best ``column`` (first in order on ties; None when every value is NaN)."""
    values = rows[column].to_numpy(dtype=float)
    if np.isnan(values).all():
        return None
    index = np.nanargmax(values) if higher else np.nanargmin(values)
    return rows.iloc[int(index)]


def select(settings: pd.DataFrame, criteria=tuple(CRITERIA)) -> pd.DataFrame:
    """Per (dataset, method, criterion): the setting the criterion picks without labels, its mean ACC
    and NMI, the label-best settings by ACC and by NMI, and the ACC and NMI the choice gives up
    (best − chosen, in the metric's units; NaN without labels)."""
    rows = []
    for (dataset, method), part in settings.groupby(["dataset", "method"], sort=False):
        best = {m: _pick(part, f"{m}_mean", True) if f"{m}_mean" in part else None for m in ("acc", "nmi")}
        for criterion in criteria:
            column = criterion if criterion == "stability" else f"{criterion}_mean"
            chosen = _pick(part, column, CRITERIA[criterion])
            row = {"dataset": dataset, "method": method, "criterion": criterion,
                   "chosen": None if chosen is None else chosen["setting"],
                   "criterion_value": math.nan if chosen is None else float(chosen[column])}
            for metric in ("acc", "nmi"):
                top = best[metric]
                ours = math.nan if chosen is None or top is None else float(chosen[f"{metric}_mean"])
                row[f"chosen_{metric}"] = ours
                row[f"best_{metric}_setting"] = None if top is None else top["setting"]
                row[f"best_{metric}"] = math.nan if top is None else float(top[f"{metric}_mean"])
                row[f"{metric}_given_up"] = row[f"best_{metric}"] - ours
            rows.append(row)
    return pd.DataFrame(rows)


def label_free_runs(runs: pd.DataFrame, choices: pd.DataFrame, method_of: dict, criterion: str) -> pd.DataFrame:
    """``runs`` (runs.csv's rows) with each swept method's settings replaced, per dataset, by the runs
    of the setting ``criterion`` picks, named "<method> (label-free)"; other methods as they are."""
    picked = choices[choices["criterion"] == criterion]
    chosen = {(row.dataset, row.chosen) for row in picked.itertuples() if row.chosen is not None}
    picked_runs = np.array([(d, m) in chosen for d, m in zip(runs["dataset"], runs["method"])], dtype=bool)
    keep = runs[~runs["method"].isin(method_of.keys()).to_numpy() | picked_runs].copy()
    keep["method"] = [LABEL_FREE.format(method=method_of[m]) if m in method_of else m for m in keep["method"]]
    return keep.reset_index(drop=True)


# ----------------------------------------------------------------------------- k

def choose_k(X: np.ndarray, k_range, seed: int = 0, sample: int = SAMPLE) -> dict:
    """The k of ``k_range`` ([lowest, highest]) with the highest silhouette of k-means on X (a fixed
    random subset of ``sample`` points): {"k", "k_range", "points", "curve": {k, inertia,
    silhouette}}."""
    from deepclust.features import kmeans_curve

    low, high = k_range
    rows = np.arange(len(X))
    if len(X) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), sample, replace=False))
    if high >= len(rows):
        raise ValueError(f"k_range: the largest k, {high}, must be below the {len(rows)} points it clusters")
    curve = kmeans_curve(np.asarray(X)[rows], range(low, high + 1), seed)
    k = curve["k"][int(np.nanargmax(curve["silhouette"]))]
    return {"k": int(k), "k_range": [int(low), int(high)], "points": int(len(rows)), "criterion": "silhouette",
            "curve": curve}


# ----------------------------------------------------------------------------- tables

def _fmt(value, digits=3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _pm(row, metric, digits=3) -> str:
    mean = row.get(f"{metric}_mean", math.nan)
    return "–" if mean != mean else f"{mean:.{digits}f} ± {row[f'{metric}_std']:.{digits}f}"


def sensitivity_table(settings: pd.DataFrame, values: dict, paper: dict) -> pd.DataFrame:
    """per_setting's table with each swept key's value as a column (as text) and ``paper``: whether
    the setting is the method's paper setting (every key the paper setting names at its value)."""
    from deepclust.sweeps import value_text

    table = settings.copy()
    keys = list(dict.fromkeys(key for setting in table["setting"] for key in values[setting]))
    for key in keys:
        table[key] = [value_text(values[s][key], key) if key in values[s] else "" for s in table["setting"]]
    table["paper"] = [bool(paper.get(m)) and all(values[s].get(k) == v for k, v in paper[m].items())
                      for m, s in zip(table["method"], table["setting"])]
    return table


def sensitivity_markdown(table: pd.DataFrame, choices: pd.DataFrame, values: dict, criterion: str) -> str:
    """Per dataset and swept method: every setting's mean ± std over seeds of ACC, NMI and the
    silhouette on the common space, its stability, and which setting is the paper's, the label-free
    choice (``criterion``) and the label-best (ACC)."""
    lines = ["# Sensitivity", ""]
    for (dataset, method), part in table.groupby(["dataset", "method"], sort=False):
        keys = list(dict.fromkeys(key for setting in part["setting"] for key in values[setting]))
        pick = choices[(choices["dataset"] == dataset) & (choices["method"] == method)
                       & (choices["criterion"] == criterion)].iloc[0]
        lines += [f"## {dataset}: {method}", "",
                  "| " + " | ".join(keys) + " | ACC | NMI | Silhouette | Stability | Seeds | |",
                  "|" + "---:|" * (len(keys) + 5) + "---|"]
        for row in part.to_dict("records"):
            marks = [name for name, on in (("paper", row["paper"]), ("label-free", row["setting"] == pick["chosen"]),
                                           ("label-best", row["setting"] == pick["best_acc_setting"])) if on]
            cells = [row[key] for key in keys] + [_pm(row, "acc"), _pm(row, "nmi"), _pm(row, "silhouette"),
                                                  _fmt(row["stability"]), str(row["seeds"]), ", ".join(marks)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"Mean ± std over seeds (ddof 0). Silhouette: on the common space (selection.space), not the method's "
              f"own embedding. Stability: mean ARI between the seeds' partitions. label-free: the setting "
              f"{criterion} picks; label-best: the highest mean ACC.", ""]
    return "\n".join(lines)


def selection_markdown(choices: pd.DataFrame, criterion: str) -> str:
    """Per dataset and swept method, each criterion's choice against the label-best setting."""
    lines = ["# Label-free selection", "",
             f"The leaderboard shows each swept method at the choice of **{criterion}** (selection.criterion).", "",
             "| Dataset | Method | Criterion | Label-free choice | ACC | NMI | Label-best (ACC) | ACC | ACC given up "
             "| NMI given up |", "|---|---|---|---|---:|---:|---|---:|---:|---:|"]
    for row in choices.to_dict("records"):
        name = f"**{row['criterion']}**" if row["criterion"] == criterion else row["criterion"]
        lines.append(f"| {row['dataset']} | {row['method']} | {name} | {row['chosen'] or '–'} | "
                     f"{_fmt(row['chosen_acc'])} | {_fmt(row['chosen_nmi'])} | {row['best_acc_setting'] or '–'} | "
                     f"{_fmt(row['best_acc'])} | {_fmt(row['acc_given_up'])} | {_fmt(row['nmi_given_up'])} |")
    lines += ["", "Mean over seeds. Given up: the label-best setting's mean minus the label-free choice's (ACC "
              "against the best ACC, NMI against the best NMI); 0 when the criterion finds the label-best "
              "setting. Silhouette, Davies–Bouldin and Calinski–Harabasz are on the common space; stability is "
              "the mean ARI between seeds. None reads a label.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figures

def _axis(values: list) -> tuple[dict, bool]:
    """x position of each of a key's values (by repr), and whether a log scale suits them: numbers
    stand at their value, anything else at its place in the grid."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return {repr(v): float(i) for i, v in enumerate(values)}, False
    log = all(v > 0 for v in values) and max(values) / min(values) >= 10
    return {repr(v): float(v) for v in values}, log


def sensitivity_figure(part: pd.DataFrame, values: dict, paper: dict, chosen, path, title: str) -> None:
    """One column per swept key, one row per metric (ACC and NMI where there are labels, the
    silhouette on the common space, the stability): the metric against the key's values, a line per
    combination of the other keys, mean ± std over seeds; the paper setting as a dashed line, the
    label-free choice ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepclust.sweeps import label, value_text

    part = part.set_index("setting")
    keys = list(dict.fromkeys(key for s in part.index for key in values[s]))
    metrics = [m for m in ("acc", "nmi") if f"{m}_mean" in part and part[f"{m}_mean"].notna().any()]
    metrics += ["silhouette", "stability"]
    fig, axes = plt.subplots(len(metrics), len(keys), figsize=(max(5.5, 3.4 * len(keys)), 2.3 * len(metrics)), squeeze=False)
    for column, key in enumerate(keys):
        grid = list(dict.fromkeys(values[s][key] for s in part.index if key in values[s]))
        positions, log = _axis(grid)
        lines = {}  # the other keys' values -> the settings along this key
        for s in part.index:
            if key in values[s]:
                lines.setdefault(label({k: v for k, v in values[s].items() if k != key}), []).append(s)
        for row, metric in enumerate(metrics):
            ax = axes[row, column]
            for name, members in lines.items():
                x = [positions[repr(values[s][key])] for s in members]
                y = part.loc[members, "stability" if metric == "stability" else f"{metric}_mean"]
                spread = None if metric == "stability" else part.loc[members, f"{metric}_std"]
                ax.errorbar(x, y, yerr=spread, marker="o", ms=3, capsize=2, lw=1, label=name or None)
                if chosen in members:
                    ax.plot(positions[repr(values[chosen][key])], y.loc[chosen], "o", ms=10, mfc="none", mec="black")
            if key in paper and (repr(paper[key]) in positions or isinstance(paper[key], (int, float))):
                ax.axvline(positions.get(repr(paper[key]), paper[key]), color="grey", ls="--", lw=1)
            if log:
                ax.set_xscale("log")
            ax.set_xticks(list(positions.values()), [value_text(v, key) for v in grid], fontsize=7)
            ax.minorticks_off()
            ax.set_xlabel(key if row == len(metrics) - 1 else "")
            ax.set_ylabel(metric.upper() if metric in LABELLED else metric)
            ax.grid(alpha=0.3)
        if len(lines) > 1:
            axes[0, column].legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def k_figure(choice: dict, path, title: str) -> None:
    """The silhouette over k (the criterion, chosen k marked) and the k-means inertia (the elbow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = choice["curve"]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    axes[0].plot(curve["k"], curve["silhouette"], marker=".")
    axes[0].axvline(choice["k"], color="tab:red", ls="--", lw=1, label=f"chosen k = {choice['k']}")
    axes[0].set(xlabel="k", ylabel="silhouette (the criterion)")
    axes[0].legend(fontsize=8)
    axes[1].plot(curve["k"], np.asarray(curve["inertia"]) / curve["inertia"][0], marker=".")
    axes[1].set(xlabel="k", ylabel="k-means inertia (relative to the smallest k)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
