"""Choosing without labels (deepclust.selection): the stability criterion, k on well-separated blobs,
each criterion's choice against the label-best setting, the leaderboard's label-free runs, the tables
and figures."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib import image
from sklearn.datasets import load_digits, make_blobs

from deepclust import selection


def test_stability_is_the_mean_pairwise_ari_between_seeds():
    a = np.array([0, 0, 1, 1, 2, 2])
    assert selection.stability([a, a, a]) == pytest.approx(1.0)
    assert selection.stability([a, (a + 1) % 3]) == pytest.approx(1.0)  # renamed clusters are the same partition
    b = np.array([0, 1, 0, 1, 0, 1])
    from sklearn.metrics import adjusted_rand_score
    expected = np.mean([1.0, adjusted_rand_score(a, b), adjusted_rand_score(a, b)])
    assert selection.stability([a, a, b]) == pytest.approx(expected)
    assert math.isnan(selection.stability([a]))


def test_internal_scores_are_the_metrics_on_the_given_space():
    X, y = make_blobs(200, centers=3, cluster_std=0.5, random_state=0)
    good, bad = selection.internal_scores(X, y), selection.internal_scores(X, np.arange(200) % 3)
    assert good["silhouette"] > 0.7 > bad["silhouette"]
    assert good["davies_bouldin"] < bad["davies_bouldin"] and good["calinski_harabasz"] > bad["calinski_harabasz"]


@pytest.mark.parametrize("centers", [3, 5])
def test_choose_k_finds_the_true_k_of_well_separated_blobs(centers):
    X, _ = make_blobs(600, n_features=6, centers=centers, cluster_std=0.6, center_box=(-20, 20), random_state=1)
    choice = selection.choose_k(X, [2, 9], seed=0)
    assert choice["k"] == centers
    assert choice["curve"]["k"] == list(range(2, 10)) and choice["points"] == 600


def test_choose_k_finds_a_plausible_k_on_digits():
    """Ten digits, some alike (4 and 9, 1 and 7): on the pixels the silhouette peaks near ten."""
    X, _ = load_digits(return_X_y=True)
    choice = selection.choose_k(X / 16, [2, 15], seed=0)
    assert 7 <= choice["k"] <= 13, choice["curve"]


def test_choose_k_clusters_a_fixed_subset_of_large_data_and_refuses_k_above_it():
    X, _ = make_blobs(300, centers=3, random_state=0)
    assert selection.choose_k(X, [2, 4], seed=0, sample=100)["points"] == 100
    with pytest.raises(ValueError, match="the largest k, 100, must be below the 100 points"):
        selection.choose_k(X, [2, 100], seed=0, sample=100)


def scores():
    """Per-run scores of a swept method with three settings and two seeds: 'a' is label-best, 'b' has
    the best silhouette, 'c' is the most stable."""
    rows = []
    for setting, acc, sil, stab in (("dec--lr-0.1", (0.9, 0.8), (0.2, 0.2), 0.5),
                                    ("dec--lr-0.01", (0.7, 0.7), (0.5, 0.3), 0.6),
                                    ("dec--lr-0.001", (0.6, 0.6), (0.1, 0.1), 0.9)):
        for seed in (0, 1):
            rows.append({"dataset": "digits", "method": "dec", "setting": setting, "seed": seed, "acc": acc[seed],
                         "nmi": acc[seed] - 0.1, "ari": acc[seed] - 0.2, "silhouette": sil[seed],
                         "davies_bouldin": 1 - sil[seed], "calinski_harabasz": 100 * sil[seed], "stability": stab})
    return pd.DataFrame(rows)


def test_per_setting_averages_over_seeds_in_grid_order():
    table = selection.per_setting(scores())
    assert list(table["setting"]) == ["dec--lr-0.1", "dec--lr-0.01", "dec--lr-0.001"]
    first = table.iloc[0]
    assert first["acc_mean"] == pytest.approx(0.85) and first["acc_std"] == pytest.approx(0.05)
    assert first["seeds"] == 2 and first["stability"] == 0.5


def test_each_criterion_picks_without_labels_and_the_table_says_what_it_gives_up():
    choices = selection.select(selection.per_setting(scores())).set_index("criterion")
    assert choices.loc["silhouette", "chosen"] == "dec--lr-0.01"
    assert choices.loc["davies_bouldin", "chosen"] == "dec--lr-0.01"  # lower is better
    assert choices.loc["calinski_harabasz", "chosen"] == "dec--lr-0.01"
    assert choices.loc["stability", "chosen"] == "dec--lr-0.001"
    assert (choices["best_acc_setting"] == "dec--lr-0.1").all()
    assert choices.loc["silhouette", "acc_given_up"] == pytest.approx(0.85 - 0.7)
    assert choices.loc["stability", "acc_given_up"] == pytest.approx(0.85 - 0.6)
    assert choices.loc["stability", "nmi_given_up"] == pytest.approx(0.75 - 0.5)


def test_without_labels_the_choice_stands_alone():
    table = selection.per_setting(scores().drop(columns=["acc", "nmi", "ari"]))
    choice = selection.select(table, ["silhouette"]).iloc[0]
    assert choice["chosen"] == "dec--lr-0.01" and math.isnan(choice["acc_given_up"])
    assert choice["best_acc_setting"] is None


def test_undefined_criteria_choose_nothing():
    data = scores().assign(silhouette=math.nan)
    choice = selection.select(selection.per_setting(data), ["silhouette"]).iloc[0]
    assert choice["chosen"] is None and math.isnan(choice["chosen_acc"])


def test_the_leaderboard_sees_each_swept_method_once_at_its_label_free_choice():
    runs = pd.concat([scores()[["dataset", "setting", "seed", "acc"]].rename(columns={"setting": "method"}),
                      pd.DataFrame({"dataset": "digits", "method": "kmeans-raw", "seed": [0, 1], "acc": [0.7, 0.8]})])
    choices = selection.select(selection.per_setting(scores()))
    method_of = {s: "dec" for s in ("dec--lr-0.1", "dec--lr-0.01", "dec--lr-0.001")}
    free = selection.label_free_runs(runs, choices, method_of, "stability")
    assert sorted(set(free["method"])) == ["dec (label-free)", "kmeans-raw"]
    assert list(free.loc[free["method"] == "dec (label-free)", "acc"]) == [0.6, 0.6]  # dec--lr-0.001's runs


def test_sensitivity_tables_mark_the_paper_the_label_free_and_the_label_best_settings():
    settings = selection.per_setting(scores())
    values = {"dec--lr-0.1": {"lr": 0.1}, "dec--lr-0.01": {"lr": 0.01}, "dec--lr-0.001": {"lr": 0.001}}
    table = selection.sensitivity_table(settings, values, {"dec": {"lr": 0.001}})
    assert list(table["lr"]) == ["0.1", "0.01", "0.001"] and list(table["paper"]) == [False, False, True]
    choices = selection.select(settings)
    text = selection.sensitivity_markdown(table, choices, values, "silhouette")
    assert "| 0.1 | 0.850 ± 0.050 |" in text and "| label-best |" in text
    assert "| 0.01 |" in text and "| label-free |" in text and "| paper |" in text
    summary = selection.selection_markdown(choices, "silhouette")
    assert "| digits | dec | **silhouette** | dec--lr-0.01 | 0.700 |" in summary
    assert "| digits | dec | stability | dec--lr-0.001 | 0.600 | 0.500 | dec--lr-0.1 | 0.850 | 0.250 | 0.250 |" in summary


def test_sensitivity_and_k_figures_are_drawn(tmp_path):
    data = scores()
    data = pd.concat([data, data.assign(setting=data["setting"] + "--update_interval-140",
                                        acc=data["acc"] - 0.1)], ignore_index=True)
    settings = selection.per_setting(data)
    values = {s: {"lr": float(s.split("--")[1][3:]), **({"update_interval": 140} if "update" in s else
                                                        {"update_interval": 30})} for s in settings["setting"]}
    selection.sensitivity_figure(settings, values, {"lr": 0.01}, "dec--lr-0.01", tmp_path / "s.png", "dec")
    assert image.imread(tmp_path / "s.png").shape[1] > 500
    X, _ = make_blobs(200, centers=3, random_state=0)
    selection.k_figure(selection.choose_k(X, [2, 5]), tmp_path / "k.png", "k")
    assert (tmp_path / "k.png").stat().st_size > 1000
