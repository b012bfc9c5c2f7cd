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


def critical_difference_figure(ranks: pd.Series, p_values: pd.DataFrame, path, title: str) -> None:
    """scikit-posthocs' critical-difference diagram: methods on the mean-rank axis, joined by a bar
    where Nemenyi's test finds no difference at ALPHA."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scikit_posthocs

    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.28 * len(ranks)))
    scikit_posthocs.critical_difference_diagram(ranks, p_values, ax=ax, alpha=ALPHA)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
