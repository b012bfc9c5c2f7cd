"""The user's own data files: formats, optional labels, and refusal of bad input with the reason."""

import numpy as np
import pandas as pd
import pytest

from deepclust import data


def load(path, **settings):
    return data.load("file", {"path": str(path), **settings}, preprocess="none")


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=12), "b": rng.normal(size=12),
                         "species": ["cat", "dog", "emu"] * 4})


def test_csv_with_a_label_column(tmp_path, table):
    table.to_csv(tmp_path / "mine.csv", index=False)
    X, y, meta = load(tmp_path / "mine.csv", label_column="species")
    np.testing.assert_allclose(X, table[["a", "b"]].to_numpy(), rtol=1e-6)
    assert y.tolist() == [0, 1, 2] * 4 and meta["class_names"] == ["cat", "dog", "emu"]
    assert meta["n_classes"] == 3 and meta["n_features"] == 2


def test_csv_without_labels_has_no_y(tmp_path, table):
    table.drop(columns="species").to_csv(tmp_path / "mine.csv", index=False)
    X, y, meta = load(tmp_path / "mine.csv")
    assert X.shape == (12, 2) and y is None and "n_classes" not in meta


def test_parquet_npz_and_npy(tmp_path, table):
    table.to_parquet(tmp_path / "mine.parquet")
    X, y, _ = load(tmp_path / "mine.parquet", label_column="species")
    assert X.shape == (12, 2) and y.tolist() == [0, 1, 2] * 4
    features = table[["a", "b"]].to_numpy()
    np.savez(tmp_path / "mine.npz", X=features, y=np.array([5, 7] * 6))
    X, y, _ = load(tmp_path / "mine.npz")  # "y" is picked up without label_column
    assert X.shape == (12, 2) and y.tolist() == [0, 1] * 6
    np.save(tmp_path / "mine.npy", features)
    X, y, _ = load(tmp_path / "mine.npy")
    assert X.shape == (12, 2) and y is None


def test_image_shape_is_checked_and_recorded(tmp_path):
    np.save(tmp_path / "images.npy", np.zeros((3, 12)))
    assert load(tmp_path / "images.npy", image_shape=[1, 3, 4])[2]["image_shape"] == [1, 3, 4]
    with pytest.raises(ValueError, match=r"image_shape \[1, 3, 3\] has 9 values but rows have 12 features"):
        load(tmp_path / "images.npy", image_shape=[1, 3, 3])


@pytest.mark.parametrize("make, settings, message", [
    (lambda p: np.save(p / "x.npy", np.array([[1.0, np.nan], [0.0, 1.0], [2.0, np.inf]])), {},
     r"x.npy: 2 row\(s\) contain NaN or infinite values \(first: row 0\)"),
    (lambda p: np.save(p / "x.npy", np.zeros(5)), {}, r"x.npy: features must be a 2-D .* got shape \(5,\)"),
    (lambda p: np.save(p / "x.npy", np.zeros((1, 3))), {}, r"at least 2 rows; got shape \(1, 3\)"),
    (lambda p: pd.DataFrame({"id": range(4), "v": range(4)}).to_csv(p / "x.csv", index=False),
     {"label_column": "id"}, r"x.csv: every sample has a label of its own \(4 classes for 4 samples\)"),
    (lambda p: pd.DataFrame({"v": range(4)}).to_csv(p / "x.csv", index=False), {"label_column": "class"},
     r"x.csv: no label column 'class'; columns: v"),
    (lambda p: pd.DataFrame({"v": range(4), "name": list("abcd")}).to_csv(p / "x.csv", index=False), {},
     r"x.csv: non-numeric feature column\(s\) \['name'\]"),
    (lambda p: pd.DataFrame({"v": range(4), "c": [1, None, 1, 2]}).to_csv(p / "x.csv", index=False),
     {"label_column": "c"}, r"x.csv: some labels are missing"),
    (lambda p: np.save(p / "x.npy", np.zeros((4, 2))), {"label_column": "y"}, r"x.npy: a .npy file holds one array"),
    (lambda p: np.savez(p / "x.npz", a=np.zeros((4, 2)), b=np.zeros((4, 2))), {},
     r"x.npz: cannot tell which array holds the features \(a, b\)"),
    (lambda p: (p / "x.txt").write_text("1 2\n"), {}, r"x.txt: unsupported file type '.txt'"),
])
def test_bad_user_files_are_refused_with_the_reason(tmp_path, make, settings, message):
    make(tmp_path)
    path = next(tmp_path.iterdir())
    with pytest.raises(ValueError, match=message):
        load(path, **settings)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"nothere.csv: no such file"):
        load(tmp_path / "nothere.csv")
