"""The user's own data files: formats, optional labels, and refusal of bad input with the reason."""

import numpy as np
import pandas as pd
import pytest

from deepclust import data
from deepclust.data.tabular import UserFileError


def load(path, **settings):
    return data.load("file", {"path": str(path), **settings}, preprocess="none")


def valid(suffix):
    """A valid file of each format: 10 samples x 3 features, labels in y (npz) or "label" (tables).
    Written to any path as is (np.save and np.savez would add their suffix to a path of another)."""
    def write(path):
        features = np.arange(30.0).reshape(10, 3)
        if suffix in (".npy", ".npz"):
            with open(path, "wb") as file:
                np.save(file, features) if suffix == ".npy" else np.savez(file, X=features, y=np.arange(10) % 2)
        else:
            table = pd.DataFrame(features, columns=["a", "b", "c"]).assign(label=np.arange(10) % 2)
            table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    return write


def truncated(suffix, keep=0.5):
    """The first ``keep`` of the bytes of a valid file (an interrupted copy)."""
    def make(p):
        valid(suffix)(p / f"whole{suffix}")
        whole = (p / f"whole{suffix}").read_bytes()
        (p / f"whole{suffix}").unlink()
        (p / f"x{suffix}").write_bytes(whole[:int(len(whole) * keep)])
    return make


def empty(name):
    return lambda p: (p / name).write_bytes(b"")


def garbage(name):
    return lambda p: (p / name).write_bytes(bytes(range(256)) * 4)


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


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".parquet"])
def test_the_valid_files_the_truncated_ones_come_from_load(tmp_path, suffix):
    valid(suffix)(tmp_path / f"x{suffix}")
    X, y, _ = load(tmp_path / f"x{suffix}", **({"label_column": "label"} if suffix in (".csv", ".parquet") else {}))
    assert X.shape == (10, 3) and (y is None) == (suffix == ".npy")


def test_image_shape_is_checked_and_recorded(tmp_path):
    np.save(tmp_path / "images.npy", np.zeros((3, 12)))
    assert load(tmp_path / "images.npy", image_shape=[1, 3, 4])[2]["image_shape"] == [1, 3, 4]
    with pytest.raises(ValueError, match=r"image_shape \[1, 3, 3\] has 9 values but rows have 12 features"):
        load(tmp_path / "images.npy", image_shape=[1, 3, 3])


@pytest.mark.parametrize("make, settings, message", [
    (lambda p: np.save(p / "x.npy", np.array([[1.0, np.nan], [0.0, 1.0], [2.0, np.inf]])), {},
     r"x.npy: 2 row\(s\) contain NaN or infinite values \(first: row 0, counting from 0\)"),
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
    # empty files
    (empty("x.csv"), {}, r"x.csv: the file is empty \(0 bytes\)"),
    (empty("x.npy"), {}, r"x.npy: the file is empty \(0 bytes\)"),
    (empty("x.npz"), {}, r"x.npz: the file is empty \(0 bytes\)"),
    (empty("x.parquet"), {}, r"x.parquet: the file is empty \(0 bytes\)"),
    (lambda p: (p / "x.csv").write_text("\n\n"), {}, r"x.csv: the file is empty \(no header, no rows\)"),
    (lambda p: (p / "x.csv").write_text("a,b,label\n"), {"label_column": "label"},
     r"x.csv: no samples \(columns a, b, label but no rows\)"),
    (lambda p: pd.DataFrame({"a": [], "b": []}).to_parquet(p / "x.parquet"), {}, r"x.parquet: no samples"),
    (lambda p: np.save(p / "x.npy", np.zeros((0, 3))), {},
     r"x.npy: no samples \(the features array has shape \(0, 3\)\)"),
    (lambda p: np.savez(p / "x.npz"), {}, r"x.npz: the .npz archive holds no arrays"),
    (lambda p: np.savez(p / "x.npz", y=np.arange(4)), {}, r"x.npz: no features array, only the labels 'y'"),
    (lambda p: pd.DataFrame({"label": [0, 1, 0]}).to_csv(p / "x.csv", index=False), {"label_column": "label"},
     r"x.csv: no feature columns, only the labels 'label'"),
    # truncated or corrupted files: the library's error, quoted, after the path and the format
    (truncated(".npy"), {}, r"x.npy: cannot read it as a .npy file \(ValueError: Failed to read all data"),
    (truncated(".npy", keep=0.3), {}, r"x.npy: cannot read it as a .npy file \(ValueError: EOF: reading array header"),
    (truncated(".npz"), {}, r"x.npz: cannot read it as a .npz file \(BadZipFile: File is not a zip file\)"),
    (truncated(".parquet"), {}, r"x.parquet: cannot read it as a .parquet file \(ArrowInvalid: .*magic bytes"),
    (garbage("x.npy"), {}, r"x.npy: cannot read it as a .npy file \(it does not start with the .npy header"),
    (garbage("x.npz"), {}, r"x.npz: cannot read it as a .npz file \(not a zip archive"),
    (garbage("x.parquet"), {}, r"x.parquet: cannot read it as a .parquet file \(ArrowInvalid: "),
    (garbage("x.csv"), {}, r"x.csv: cannot read it as a .csv file \((UnicodeDecodeError|ParserError): "),
    (lambda p: (p / "x.csv").write_text("a,b\n1,2\n3,4,5\n"), {},
     r"x.csv: cannot read it as a .csv file \(ParserError: .*Expected 2 fields in line 3, saw 3\)"),
    (lambda p: valid(".npz")(p / "x.npy"), {}, r"x.npy: this is an .npz archive .* rename it .npz"),
    (lambda p: valid(".npy")(p / "x.npz"), {}, r"x.npz: this is a .npy file .* rename it .npy"),
    # labels that do not fit the features
    (lambda p: np.savez(p / "x.npz", X=np.zeros((10, 2)), y=np.arange(7) % 2), {},
     r"x.npz: 7 labels for 10 samples; there must be one label per sample"),
    (lambda p: np.savez(p / "x.npz", X=np.zeros((10, 2)), y=np.zeros((10, 2))), {},
     r"x.npz: labels must be a 1-D array, one label per sample; got shape \(10, 2\)$"),
    (lambda p: np.savez(p / "x.npz", X=np.zeros((10, 2)), y=np.zeros((10, 1))), {},
     r"x.npz: labels must be a 1-D array, .* got shape \(10, 1\) \(flatten it with .ravel\(\)\)"),
    # features that are not numbers
    (lambda p: np.savez(p / "x.npz", X=np.array([["a", "b"], ["c", "d"], ["e", "f"]])), {},
     r"x.npz: features must be real numbers, got dtype <U1 \(text\)"),
    (lambda p: np.savez(p / "x.npz", X=np.array([[1, "a"], [2, "b"]], dtype=object)), {},
     r"x.npz: array 'X' holds Python objects \(a pickled object array\)"),
    (lambda p: np.savez(p / "x.npz", X=np.zeros((4, 2)), y=np.array(["a", None, "b", "a"], dtype=object)), {},
     r"x.npz: array 'y' holds Python objects"),
    (lambda p: np.save(p / "x.npy", np.array([[1, "a"], [2, {}]], dtype=object), allow_pickle=True), {},
     r"x.npy: the array holds Python objects \(a pickled object array\), which are not loaded for safety"),
    (lambda p: np.save(p / "x.npy", np.ones((3, 2), dtype=bool)), {},
     r"x.npy: features must be real numbers, got dtype bool \(booleans\)"),
    (lambda p: np.savez(p / "x.npz", X=np.zeros((4, 2)), y=np.arange(4)), {"features_key": "data"},
     r"x.npz: no array 'data' \(features_key\); arrays: X, y"),
])
def test_bad_user_files_are_refused_with_the_reason(tmp_path, make, settings, message):
    make(tmp_path)
    path = next(tmp_path.iterdir())
    with pytest.raises(UserFileError, match=message) as refused:
        load(path, **settings)
    assert str(refused.value).startswith(f"{path}: ")  # the full path, first


def test_a_library_error_is_kept_as_the_cause(tmp_path):
    truncated(".npz")(tmp_path)
    with pytest.raises(UserFileError) as refused:
        load(tmp_path / "x.npz")
    assert type(refused.value.__cause__).__name__ == "BadZipFile"


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"nothere.csv: no such file"):
        load(tmp_path / "nothere.csv")
