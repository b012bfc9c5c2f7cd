"""What a run's clusters hold: sizes, matched classes, largest shares, accuracy without chosen classes."""

import numpy as np

from deepclust.composition import composition


def test_composition_of_a_known_partition():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([1, 1, 0, 0, 0, 2])  # cluster 0 holds both 1s and one 2

    result = composition(y_true, y_pred, without=[2])

    assert result["acc"] == 5 / 6
    assert result["acc_per_class"] == {0: 1.0, 1: 1.0, 2: 0.5}
    assert result["acc_without"] == 1.0 and result["without"] == [2]
    mixed = next(c for c in result["clusters"] if c["cluster"] == 0)
    assert mixed == {"cluster": 0, "size": 3, "matched_class": 1, "top_classes": [1, 2],
                     "top_shares": [0.667, 0.333]}


def test_tables_of_runs_compositions():
    from deepclust.composition import class_accuracy_table, mixed_clusters_table

    y_true = np.array([0, 0, 1, 1, 2, 2])
    runs = [{"seed": 0, "composition": composition(y_true, np.array([1, 1, 0, 0, 0, 2]))},
            {"seed": 1, "composition": composition(y_true, y_true)}]

    assert class_accuracy_table(runs).splitlines()[2:] == ["| 0 | 1.000 | 1.000 | 0.500 |",
                                                         "| 1 | 1.000 | 1.000 | 1.000 |"]
    mixed = mixed_clusters_table(runs, below=0.7, footer="(record)")
    assert "| 0 | 3 | 66.7 % 1s + 33.3 % 2s |" in mixed
    assert mixed.endswith("Seed 1: no cluster below 70 % of one digit. (record)")
