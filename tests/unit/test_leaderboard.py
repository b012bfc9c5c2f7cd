"""Ranks and tests across datasets, checked on the worked example of Demšar (2006), "Statistical
comparisons of classifiers over multiple data sets", JMLR 7: AUC of four C4.5 variants on 14 UCI
datasets (Table 6), with its average ranks, its Friedman and Nemenyi conclusions (Section 3.2.2)
and its Wilcoxon test of C4.5+m against C4.5 (Section 3.1.3)."""

import numpy as np
import pandas as pd
import pytest

from deepclust import leaderboard

METHODS = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
AUC = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    # the table prints 0.975 twice here, but its ranks (2 and 3, not 2.5 each) come from unrounded values
    [0.972, 0.981, 0.97501, 0.975], [0.957, 0.978, 0.946, 0.970],
])


@pytest.fixture(scope="module")
def demsar():
    return pd.DataFrame([{"dataset": f"d{i}", "seed": 0, "method": m, "acc": AUC[i, j]}
                         for i in range(len(AUC)) for j, m in enumerate(METHODS)])


def test_average_ranks_are_the_papers(demsar):
    scores, left_out = leaderboard.score_matrix(demsar, "acc")
    ranks = leaderboard.average_ranks(scores)
    np.testing.assert_allclose(ranks[METHODS], [3.143, 2.000, 2.893, 1.964], atol=5e-4)
    assert left_out == []


def test_friedman_rejects_equal_methods_as_the_paper_does(demsar):
    scores, _ = leaderboard.score_matrix(demsar, "acc")
    result = leaderboard.friedman(scores)
    assert result["datasets"] == 14 and result["methods"] == 4
    assert result["p_value"] < 0.05  # the paper: F_F = 3.69 > F(3, 39) = 2.85 at alpha 0.05


def test_nemenyi_finds_the_papers_differences_at_010_and_none_at_005(demsar):
    scores, _ = leaderboard.score_matrix(demsar, "acc")
    p = leaderboard.nemenyi(scores)
    # CD at 0.05 is 1.25, at 0.10 it is 1.12: C4.5+m and C4.5+m+cf differ from C4.5 only at 0.10
    for better in ("C4.5+m", "C4.5+m+cf"):
        assert 0.05 < p.loc["C4.5", better] < 0.10
    others = [("C4.5", "C4.5+cf"), ("C4.5+m", "C4.5+cf"), ("C4.5+m", "C4.5+m+cf"), ("C4.5+cf", "C4.5+m+cf")]
    assert all(p.loc[a, b] > 0.10 for a, b in others)


def test_wilcoxon_of_c45m_against_c45_is_the_papers(demsar):
    table = leaderboard.pairwise(demsar, "acc", reference="C4.5").set_index("method")
    row = table.loc["C4.5+m"]
    # the paper: R+ = 93, R- = 12 (zero differences split), T = 12 < 21, the critical value for N = 14
    assert row["rank_biserial"] == pytest.approx((93 - 12) / 105)
    assert row["p_value"] < 0.05
    assert (row["wins"], row["ties"], row["losses"]) == (10, 2, 2)
    assert table.loc["C4.5+cf", "p_holm"] >= table.loc["C4.5+cf", "p_value"]  # Holm only raises p-values


def test_per_dataset_means_stds_and_ranks_over_seeds():
    runs = pd.DataFrame({"dataset": ["a"] * 4 + ["b"] * 4, "seed": [0, 1] * 4,
                         "method": ["x", "x", "y", "y"] * 2, "acc": [0.8, 0.6, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]})
    table = leaderboard.per_dataset(runs, metrics=("acc",)).set_index(["dataset", "method"])
    assert table.loc[("a", "x"), "mean"] == pytest.approx(0.7) and table.loc[("a", "x"), "std"] == pytest.approx(0.1)
    assert table.loc[("a", "x"), "rank"] == 1 and table.loc[("a", "y"), "rank"] == 2
    assert table.loc[("b", "x"), "rank"] == table.loc[("b", "y"), "rank"] == 1.5  # ties share the mean rank
    assert (table["seeds"] == 2).all()


def test_one_dataset_has_no_friedman_test_and_a_method_missing_somewhere_is_left_out():
    runs = pd.DataFrame({"dataset": ["a", "a", "a", "b", "b"], "seed": 0, "method": ["x", "y", "z", "x", "y"],
                         "acc": [0.9, 0.8, 0.7, 0.6, 0.5]})
    scores, left_out = leaderboard.score_matrix(runs, "acc")
    assert list(scores.columns) == ["x", "y"] and left_out == ["z"]
    assert leaderboard.friedman(scores) is None  # two methods: nothing to test beyond the pairwise test
    one, _ = leaderboard.score_matrix(runs[runs["dataset"] == "a"], "acc")
    assert leaderboard.friedman(one) is None


def test_unknown_reference_and_unlabelled_runs_are_refused():
    runs = pd.DataFrame({"dataset": ["a"], "seed": [0], "method": ["x"], "acc": [0.5]})
    with pytest.raises(ValueError, match="reference method 'kmeans-raw' has no runs with acc"):
        leaderboard.pairwise(runs, "acc", reference="kmeans-raw")
    with pytest.raises(ValueError, match="no labels to rank by"):
        leaderboard.per_dataset(runs.drop(columns="acc"))


def test_critical_difference_figure(demsar, tmp_path):
    scores, _ = leaderboard.score_matrix(demsar, "acc")
    path = tmp_path / "cd.png"
    leaderboard.critical_difference_figure({"ACC": (leaderboard.average_ranks(scores), leaderboard.nemenyi(scores)),
                                            "NMI": None}, path)
    assert path.stat().st_size > 5000


def small_field(datasets=("digits", "mnist_test", "fashion"), seeds=3):
    """k-means and a method that beats it everywhere, and one in between."""
    rng = np.random.default_rng(0)
    rows = []
    for d, dataset in enumerate(datasets):
        for seed in range(seeds):
            for method, level in (("kmeans-raw", 0.5), ("dec", 0.7), ("n2d", 0.9)):
                value = level + 0.05 * d + 0.01 * rng.random()
                rows.append({"dataset": dataset, "seed": seed, "method": method, "acc": value, "nmi": value - 0.1})
    return pd.DataFrame(rows)


def test_the_leaderboard_page_ranks_tests_and_compares_with_kmeans_and_the_best():
    board = leaderboard.build(small_field())
    assert list(board["metrics"]) == ["acc", "nmi"]  # ARI absent from the runs
    acc = board["metrics"]["acc"]
    assert list(acc["ranks"].index) == ["n2d", "dec", "kmeans-raw"] and acc["friedman"]["p_value"] < 0.05
    assert set(acc["pairwise"]) == {"kmeans-raw", "n2d"}
    against_kmeans = acc["pairwise"]["kmeans-raw"].set_index("method")
    assert against_kmeans.loc["n2d", "wins"] == 9 and against_kmeans.loc["n2d", "rank_biserial"] == 1.0
    page = leaderboard.markdown(board)
    for heading in ("## Per dataset", "### mnist_test", "## Across datasets", "Friedman test over 3 datasets",
                    "### ACC: against kmeans-raw", "### NMI: against n2d"):
        assert heading in page, heading
    tex = leaderboard.latex(board)
    assert tex.count("\\begin{tabular}") == 3 and "\\toprule" in tex and "mnist-test" in tex


def test_one_dataset_gets_ranks_and_pairwise_tests_and_says_why_no_friedman():
    board = leaderboard.build(small_field(datasets=("digits",)))
    assert board["metrics"]["acc"]["friedman"] is None
    page = leaderboard.markdown(board)
    assert "One dataset: no Friedman test" in page and "### ACC: against kmeans-raw" in page


def test_a_dataset_without_labels_is_named_not_ranked():
    runs = pd.DataFrame({"dataset": ["a", "a", "a", "a", "u", "u"], "seed": [0, 1, 0, 1, 0, 0],
                         "method": ["x", "x", "kmeans-raw", "kmeans-raw", "x", "kmeans-raw"],
                         "acc": [0.9, 0.8, 0.5, 0.6, None, None], "nmi": [0.7, 0.6, 0.4, 0.5, None, None]})
    board = leaderboard.build(runs)
    assert board["datasets"] == ["a"] and board["unlabelled"] == ["u"]
    page = leaderboard.markdown(board)
    assert "Not ranked (no labels, so no ACC, NMI or ARI): u." in page and "### u" not in page
    assert "% u" not in leaderboard.latex(board)
