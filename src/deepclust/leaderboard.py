"""Which method is better, where, and by how much: ranks and tests across datasets and seeds.

The statistics follow Demšar (2006), "Statistical comparisons of classifiers over multiple data
sets" (JMLR 7), the standard for comparing learners over several datasets:

- per dataset, each method's mean ± std over seeds and its rank (1 = best; ties share the mean rank);
- across datasets, the mean rank, the Friedman test on the per-dataset means (scipy.stats) and the
  Nemenyi post-hoc test with its critical-difference diagram (scikit-posthocs);
- pairwise, each method against a reference (k-means on raw features, the best method), Wilcoxon's
  signed-rank test over the (dataset, seed) pairs both have (scipy.stats; zero differences split
  between the signs, as Demšar does), Holm's correction over the comparisons (statsmodels), and
  effect sizes: the median paired difference, wins / ties / losses and the matched-pairs
  rank-biserial correlation.

The tests come from maintained libraries: scipy for Friedman and Wilcoxon, scikit-posthocs for
Nemenyi and the diagram, statsmodels (which scikit-posthocs builds on) for Holm. The Friedman test
needs every method on every dataset, so methods missing from some datasets are left out of it (and
named); with a single dataset there is no Friedman test, and the seeds give the pairwise tests.
"""

import math

import numpy as np
import pandas as pd

METRICS = ("acc", "nmi", "ari")
ALPHA = 0.05


def _complete(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    return runs.dropna(subset=[metric])


def labelled_metrics(runs: pd.DataFrame, metrics=METRICS) -> list[str]:
    """The metrics of ``metrics`` that some run has (those that need labels: none without them)."""
    return [m for m in metrics if m in runs and runs[m].notna().any()]


def per_dataset(runs: pd.DataFrame, metrics=METRICS) -> pd.DataFrame:
    """One row per (dataset, method, metric): mean and std (ddof 0) over seeds, the number of
    seeds, and the method's rank on that dataset by its mean (1 = best, ties share the mean rank)."""
    from scipy.stats import rankdata

    rows = []
    for metric in metrics:
        if metric not in runs:
            continue
        grouped = _complete(runs, metric).groupby(["dataset", "method"])[metric]
        table = grouped.agg(mean="mean", std=lambda x: x.std(ddof=0), seeds="count").reset_index()
        table["metric"] = metric
        table["rank"] = table.groupby("dataset")["mean"].transform(lambda x: rankdata(-x.to_numpy()))
        rows.append(table)
    if not rows:
        raise ValueError(f"the runs hold none of the metrics {', '.join(metrics)}: no labels to rank by")
    return pd.concat(rows, ignore_index=True)[["dataset", "method", "metric", "mean", "std", "seeds", "rank"]]


def score_matrix(runs: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, list[str]]:
    """Datasets × methods of per-dataset means, restricted to the methods run on every dataset, and
    the methods left out because some dataset lacks them."""
    means = _complete(runs, metric).groupby(["dataset", "method"])[metric].mean().unstack("method")
    complete = [m for m in means.columns if means[m].notna().all()]
    return means[complete], sorted(set(means.columns) - set(complete))


def average_ranks(scores: pd.DataFrame) -> pd.Series:
    """Each method's mean rank over the rows of ``scores`` (blocks × methods; higher is better)."""
    from scipy.stats import rankdata

    ranks = np.vstack([rankdata(-row) for row in scores.to_numpy()])
    return pd.Series(ranks.mean(axis=0), index=scores.columns).sort_values()


def friedman(scores: pd.DataFrame) -> dict | None:
    """The Friedman test over the rows (datasets) of ``scores``: statistic and p-value; None when
    there are fewer than 2 datasets or 3 methods (the test needs both)."""
    from scipy.stats import friedmanchisquare

    if scores.shape[0] < 2 or scores.shape[1] < 3:
        return None
    result = friedmanchisquare(*scores.to_numpy().T)
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue), "datasets": scores.shape[0],
            "methods": scores.shape[1]}


def nemenyi(scores: pd.DataFrame) -> pd.DataFrame:
    """Nemenyi's post-hoc p-values between every pair of methods (columns of ``scores``)."""
    import scikit_posthocs

    p_values = scikit_posthocs.posthoc_nemenyi_friedman(scores.to_numpy())
    p_values.index = p_values.columns = scores.columns
    return p_values


def pairwise(runs: pd.DataFrame, metric: str, reference: str) -> pd.DataFrame:
    """Every method against ``reference`` over the (dataset, seed) pairs both have: Wilcoxon's
    signed-rank test (two-sided), Holm-adjusted over the methods, and the effect sizes."""
    from scipy.stats import wilcoxon
    from statsmodels.stats.multitest import multipletests

    wide = _complete(runs, metric).pivot_table(index=["dataset", "seed"], columns="method", values=metric)
    if reference not in wide:
        raise ValueError(f"the reference method {reference!r} has no runs with {metric}")
    rows = []
    for method in wide.columns.drop(reference):
        pairs = wide[[method, reference]].dropna()
        difference = (pairs[method] - pairs[reference]).to_numpy()
        row = {"method": method, "reference": reference, "pairs": len(pairs),
               "median_difference": float(np.median(difference)) if len(pairs) else math.nan,
               "wins": int((difference > 0).sum()), "ties": int((difference == 0).sum()),
               "losses": int((difference < 0).sum()), "p_value": math.nan, "rank_biserial": math.nan}
        if len(pairs) and np.any(difference != 0):
            x, y = pairs[method], pairs[reference]
            row["p_value"] = float(wilcoxon(x, y, zero_method="zsplit").pvalue)
            # R+ (the rank sum of the method's wins); with R- the sums add up to n(n+1)/2
            r_plus = float(wilcoxon(x, y, zero_method="zsplit", alternative="greater").statistic)
            total = len(pairs) * (len(pairs) + 1) / 2
            row["rank_biserial"] = (2 * r_plus - total) / total
        rows.append(row)
    table = pd.DataFrame(rows)
    tested = table["p_value"].notna()
    table["p_holm"] = math.nan
    if tested.any():
        table.loc[tested, "p_holm"] = multipletests(table.loc[tested, "p_value"], method="holm")[1]
    table["significant"] = table["p_holm"] < ALPHA
    return table.sort_values("median_difference", ascending=False, ignore_index=True)


def critical_difference_figure(panels: dict, path) -> None:
    """scikit-posthocs' critical-difference diagrams, one panel per ``{title: (mean ranks, Nemenyi
    p-values)}``: methods on the mean-rank axis, joined by a bar where Nemenyi's test finds no
    difference at ALPHA. A panel whose value is None says why it has no diagram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scikit_posthocs

    heights = [0.8 + 0.28 * (len(panel[0]) if panel else 1) for panel in panels.values()]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (title, panel) in zip(axes.flat, panels.items()):
        if panel is None:
            ax.axis("off")
            ax.text(0.5, 0.5, f"{title}: no diagram (it needs 2+ datasets and 3+ methods on all of them)",
                    ha="center", va="center", fontsize=9)
            continue
        scikit_posthocs.critical_difference_diagram(panel[0], panel[1], ax=ax, alpha=ALPHA)
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------------------- the leaderboard

def _fmt_p(p: float) -> str:
    return "" if p != p else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def build(runs: pd.DataFrame, reference: str = "kmeans-raw", metrics=METRICS) -> dict:
    """Everything the leaderboard shows, from the runs (runs.csv's rows): ``per_dataset``; per metric
    the mean ranks, the methods left out of the across-dataset tests, Friedman, Nemenyi and the
    pairwise tables against ``reference`` (when it ran) and against the best method by mean rank."""
    present = labelled_metrics(runs, metrics)
    # a dataset without labels has no ACC, NMI or ARI: it is named, not ranked
    labelled = runs[runs[present].notna().any(axis=1)] if present else runs.iloc[:0]
    unlabelled = sorted(set(runs["dataset"]) - set(labelled["dataset"]))
    runs = labelled
    board = {"per_dataset": per_dataset(runs, present), "metrics": {}, "datasets": sorted(runs["dataset"].unique()),
             "unlabelled": unlabelled}
    for metric in present:
        scores, left_out = score_matrix(runs, metric)
        ranks = average_ranks(scores) if scores.shape[1] else pd.Series(dtype=float)
        test = friedman(scores)
        entry = {"ranks": ranks, "left_out": left_out, "friedman": test,
                 "nemenyi": nemenyi(scores) if test is not None else None, "pairwise": {}}
        references = [r for r in (reference, ranks.index[0] if len(ranks) else None) if r in set(runs["method"])]
        for ref in dict.fromkeys(references):
            entry["pairwise"][ref] = pairwise(runs, metric, ref)
        board["metrics"][metric] = entry
    return board


def markdown(board: dict) -> str:
    """The leaderboard page: per dataset, across datasets, pairwise."""
    names = {"acc": "ACC", "nmi": "NMI", "ari": "ARI"}
    table, lines = board["per_dataset"], ["# Leaderboard", ""]
    metrics = list(board["metrics"])
    lines += ["## Per dataset", "",
              f"Mean ± std over seeds (ddof 0); rank by mean {names[metrics[0]]} (1 = best; ties share the mean rank).", ""]
    for dataset in board["datasets"]:
        wide = table[table["dataset"] == dataset].pivot_table(index="method", columns="metric",
                                                               values=["mean", "std", "rank", "seeds"])
        wide = wide.sort_values(("rank", metrics[0]))
        lines += [f"### {dataset}", "", "| Method | " + " | ".join(names[m] for m in metrics)
                  + f" | Rank ({names[metrics[0]]}) | Seeds |", "|---|" + "---:|" * (len(metrics) + 2)]
        for method, row in wide.iterrows():
            cells = [f"{row[('mean', m)]:.3f} ± {row[('std', m)]:.3f}" for m in metrics]
            lines.append(f"| {method} | " + " | ".join(cells) + f" | {row[('rank', metrics[0])]:g} | "
                         f"{int(row[('seeds', metrics[0])])} |")
        lines.append("")
    if board.get("unlabelled"):
        lines += [f"Not ranked (no labels, so no ACC, NMI or ARI): {', '.join(board['unlabelled'])}.", ""]
    lines += ["## Across datasets", ""]
    if len(board["datasets"]) < 2:
        lines += ["One dataset: no Friedman test or critical-difference diagram (they compare methods across "
                  "datasets). The pairwise tests below run over the seeds.", ""]
    for metric, entry in board["metrics"].items():
        if len(board["datasets"]) >= 2:
            lines += [f"### {names[metric]}", "", "| Method | Mean rank |", "|---|---:|"]
            lines += [f"| {method} | {rank:.2f} |" for method, rank in entry["ranks"].items()]
            lines.append("")
            test = entry["friedman"]
            if test is None:
                lines.append("No Friedman test: it needs at least 2 datasets and 3 methods run on all of them.")
            else:
                verdict = "differ" if test["p_value"] < ALPHA else "do not differ significantly"
                lines.append(f"Friedman test over {test['datasets']} datasets and {test['methods']} methods: "
                             f"χ² = {test['statistic']:.2f}, p = {_fmt_p(test['p_value'])}: the methods {verdict} "
                             f"at α = {ALPHA}. Nemenyi's pairs: `critical_difference.png`.")
            if entry["left_out"]:
                lines.append(f"Left out of the ranks and tests (not run on every dataset): {', '.join(entry['left_out'])}.")
            lines.append("")
    lines += ["## Pairwise", "",
              "Wilcoxon's signed-rank test (two-sided) over the (dataset, seed) pairs both methods ran, p-values "
              f"Holm-corrected over the methods; significant at α = {ALPHA}. Effect sizes: the median difference "
              "(method − reference), wins / ties / losses over the pairs and the matched-pairs rank-biserial "
              "correlation r (1: the method wins every pair).", ""]
    for metric, entry in board["metrics"].items():
        for ref, rows in entry["pairwise"].items():
            lines += [f"### {names[metric]}: against {ref}", "",
                      "| Method | Pairs | Median Δ | Wins / ties / losses | r | p | p (Holm) | |",
                      "|---|---:|---:|---:|---:|---:|---:|---|"]
            for row in rows.itertuples():
                lines.append(f"| {row.method} | {row.pairs} | {row.median_difference:+.3f} | "
                             f"{row.wins} / {row.ties} / {row.losses} | "
                             f"{'' if row.rank_biserial != row.rank_biserial else f'{row.rank_biserial:+.2f}'} | "
                             f"{_fmt_p(row.p_value)} | {_fmt_p(row.p_holm)} | {'significant' if row.significant else ''} |")
            lines.append("")
    return "\n".join(lines)


def latex(board: dict) -> str:
    """Per dataset, mean ± std of each metric (booktabs), then the mean ranks."""
    names = {"acc": "ACC", "nmi": "NMI", "ari": "ARI"}
    table, metrics = board["per_dataset"], list(board["metrics"])
    out = []
    for dataset in board["datasets"]:
        wide = table[table["dataset"] == dataset].pivot_table(index="method", columns="metric", values=["mean", "std",
                                                                                                        "rank"])
        wide = wide.sort_values(("rank", metrics[0]))
        out += [f"% {dataset.replace('_', '-')}", "\\begin{tabular}{l" + "r" * (len(metrics) + 1) + "}", "\\toprule",
                " & ".join(["Method", *(names[m] for m in metrics), "Rank"]) + " \\\\", "\\midrule"]
        for method, row in wide.iterrows():
            cells = [f"${row[('mean', m)]:.3f} \\pm {row[('std', m)]:.3f}$" for m in metrics]
            out.append(" & ".join([method.replace("_", "\\_"), *cells, f"{row[('rank', metrics[0])]:g}"]) + " \\\\")
        out += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(out)
