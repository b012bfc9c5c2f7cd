import math

import numpy as np
import pandas as pd
import pytest

from deepclust import tables


@pytest.fixture
def runs():
    return tables.collect([
        {"dataset": "d1", "method": "A", "seed": 0, "acc": 0.8, "nmi": 0.5, "seconds": 10.0},
        {"dataset": "d1", "method": "A", "seed": 1, "acc": 0.6, "nmi": 0.7, "seconds": 12.0},
        {"dataset": "d1", "method": "B", "seed": 0, "acc": 0.9, "nmi": 0.4, "seconds": 1.0},
        {"dataset": "d1", "method": "B", "seed": 1, "acc": 0.9, "nmi": 0.4, "seconds": 3.0},
        {"dataset": "d2", "method": "A", "seed": 0, "acc": 0.5, "nmi": float("nan"), "seconds": 2.0},
    ])


def lookup(summary, dataset, method, metric):
    row = summary[(summary.dataset == dataset) & (summary.method == method) & (summary.metric == metric)]
    assert len(row) == 1
    return row.iloc[0]


def test_summarise_mean_std_over_seeds(runs):
    summary = tables.summarise(runs)
    assert list(summary.columns) == ["dataset", "method", "metric", "mean", "std", "n_seeds"]
    a_acc = lookup(summary, "d1", "A", "acc")
    assert a_acc["mean"] == pytest.approx(0.7) and a_acc["std"] == pytest.approx(0.1)  # population std
    assert a_acc["n_seeds"] == 2
    assert lookup(summary, "d1", "B", "acc")["std"] == pytest.approx(0.0)
    assert lookup(summary, "d1", "A", "seconds")["mean"] == pytest.approx(11.0)
    assert lookup(summary, "d1", "A", "nmi")["std"] == pytest.approx(0.1)
    nan_row = lookup(summary, "d2", "A", "nmi")
    assert math.isnan(nan_row["mean"]) and nan_row["n_seeds"] == 0
    assert set(summary.metric) == {"acc", "nmi", "seconds"}  # only the metrics present, "seed" is not one


def test_markdown_bolds_the_best_and_sorts_best_first(runs):
    text = tables.markdown(tables.summarise(runs))
    lines = text.splitlines()
    start = lines.index("### d1")
    assert lines[start + 2] == "| Method | ACC | NMI | Time (s) |"
    assert lines[start + 3] == "|---|---:|---:|---:|"
    # B has the better ACC: first row, ACC bold; A has the better NMI: bold there; time is never bold
    assert lines[start + 4] == "| B | **0.900 ± 0.000** | 0.400 ± 0.000 | 2.0 ± 1.0 |"
    assert lines[start + 5] == "| A | 0.700 ± 0.100 | **0.600 ± 0.100** | 11.0 ± 1.0 |"
    assert "Mean ± std over 2 seed(s)" in text
    d2 = lines[lines.index("### d2"):]
    assert d2[4] == "| A | **0.500 ± 0.000** | – | 2.0 ± 0.0 |"
    assert "Mean ± std over 1 seed(s)" in "\n".join(d2)


def test_markdown_ties_are_all_bold_and_nan_acc_sorts_last():
    runs = pd.DataFrame([
        {"dataset": "d", "method": "nan", "acc": np.nan, "n_clusters_found": 0},
        {"dataset": "d", "method": "x", "acc": 0.5, "n_clusters_found": 3},
        {"dataset": "d", "method": "y", "acc": 0.5, "n_clusters_found": 4},
    ])
    lines = tables.markdown(tables.summarise(runs)).splitlines()
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| Method")]
    assert [r.split(" | ")[0] for r in rows] == ["| x", "| y", "| nan"]
    assert rows[0] == "| x | **0.500 ± 0.000** | 3.0 ± 0.0 |"
    assert rows[1] == "| y | **0.500 ± 0.000** | 4.0 ± 0.0 |"
    assert rows[2] == "| nan | – | 0.0 ± 0.0 |"


def test_unlabelled_dataset_table_says_only_internal_metrics_and_bolds_lowest_davies_bouldin():
    runs = pd.DataFrame([
        {"dataset": "mine", "method": "a", "silhouette": 0.2, "davies_bouldin": 0.9, "calinski_harabasz": 50.0},
        {"dataset": "mine", "method": "b", "silhouette": 0.4, "davies_bouldin": 1.2, "calinski_harabasz": 80.0},
    ])
    text = tables.markdown(tables.summarise(runs))
    lines = text.splitlines()
    assert lines[2] == "| Method | Silhouette | DB | CH |"
    # ranked by silhouette when there is no ACC; DB bold where lowest
    assert lines[4] == "| b | **0.400 ± 0.000** | 1.200 ± 0.000 | **80.0 ± 0.0** |"
    assert lines[5] == "| a | 0.200 ± 0.000 | **0.900 ± 0.000** | 50.0 ± 0.0 |"
    assert "No labels: only internal metrics" in text and "ACC uses" not in text


def test_unlabelled_dataset_beside_a_labelled_one_shows_no_label_columns():
    runs = pd.DataFrame([
        {"dataset": "digits", "method": "a", "acc": 0.8, "nmi": 0.7, "silhouette": 0.3},
        {"dataset": "mine", "method": "a", "silhouette": 0.2},
    ])
    text = tables.markdown(tables.summarise(runs))
    digits, mine = text.split("### mine")
    assert "| Method | ACC | NMI | Silhouette |" in digits and "ACC uses" in digits
    assert "| Method | Silhouette |" in mine and "No labels" in mine
