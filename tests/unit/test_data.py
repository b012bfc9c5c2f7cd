import numpy as np
import pytest

from deepclust import data
from deepclust.data import preprocessing


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


def test_digits_shapes_and_minmax_range(digits):
    X, y, meta = digits
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and set(np.unique(y)) == set(range(10))
    assert X.min() == 0.0 and X.max() == 1.0
    assert meta["n_samples"] == 1797 and meta["n_features"] == 64 and meta["n_classes"] == 10
    assert meta["name"] == "digits" and meta["preprocess"] == "minmax" and meta["image_shape"] == [1, 8, 8]


def test_minmax_divides_by_the_known_maximum(digits):
    raw, _, _ = data.load("digits", preprocess="none")
    np.testing.assert_allclose(digits[0], raw / 16.0)
    assert raw.max() == 16.0


def test_unknown_dataset_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset source 'mnsit'; valid sources: .*digits.*mnist"):
        data.load("mnsit")


def test_unknown_features_list_valid_ones():
    with pytest.raises(ValueError, match="features 'resnet50' is not available for digits; valid: raw"):
        data.load("digits", {"features": "resnet50"})


def test_every_registered_source_resolves_without_heavy_imports():
    import subprocess
    import sys

    code = ("import sys; from deepclust import data\n"
            "for name in data.SOURCES: data.source(name)\n"
            "heavy = sorted(m for m in ('torch', 'torchvision', 'sklearn', 'pandas') if m in sys.modules)\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_preprocessing_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown preprocessing 'zscore'.*minmax.*standard.*dec"):
        data.load("digits", preprocess="zscore")


def test_dec_preprocessing_gives_unit_mean_squared_norm_per_dimension():
    X, _, _ = data.load("digits", preprocess="dec")
    assert np.mean(np.sum(X.astype(np.float64) ** 2, axis=1)) / X.shape[1] == pytest.approx(1.0, rel=1e-5)
    # one global factor: proportional to the raw data
    raw, _, _ = data.load("digits", preprocess="none")
    ratio = X[raw > 0] / raw[raw > 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)


def test_standard_preprocessing():
    X = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]])
    Z = preprocessing.apply("standard", X, {})
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-6)  # float32
    np.testing.assert_allclose(Z.std(axis=0), [1.0, 0.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(Z[:, 1], 0.0)  # constant feature stays 0 (no division by zero)


def test_minmax_without_known_maximum_uses_the_data_max():
    np.testing.assert_allclose(preprocessing.apply("minmax", np.array([[1.0, 4.0]]), {}), [[0.25, 1.0]])


def test_subsample_is_deterministic_and_consistent(digits):
    X_full, y_full, _ = digits
    X, y, meta = data.load("digits", subsample=100, seed=3)
    assert X.shape == (100, 64) and y.shape == (100,) and meta["n_samples"] == 100
    X2, y2, _ = data.load("digits", subsample=100, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _, _ = data.load("digits", subsample=100, seed=4)
    assert not np.array_equal(X, X3)
    # every kept row is a row of the full dataset with its own label, and no row is kept twice
    index = {row.tobytes(): label for row, label in zip(X_full, y_full)}
    assert all(index[row.tobytes()] == label for row, label in zip(X, y))
    from collections import Counter

    full_counts = Counter(row.tobytes() for row in X_full)
    assert all(n <= full_counts[key] for key, n in Counter(row.tobytes() for row in X).items())


def test_subsample_larger_than_the_dataset_keeps_everything(digits):
    X, y, _ = data.load("digits", subsample=5000)
    np.testing.assert_array_equal(X, digits[0])
    np.testing.assert_array_equal(y, digits[1])


def test_schema_lists_exactly_the_registered_sources():
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).parents[2] / "config" / "schema.yaml").read_text())
    source = schema["properties"]["datasets"]["additionalProperties"]["properties"]["source"]
    assert sorted(source["enum"]) == sorted(data.SOURCES)


def test_auto_preprocessing_follows_the_kind_of_data():
    assert preprocessing.auto({"max_value": 255.0}) == "minmax"  # pixels
    assert preprocessing.auto({}) == "standard"  # features of unknown scale
    assert preprocessing.auto({"default_preprocess": "none", "max_value": 1.0}) == "none"  # the loader decides
    X, _, meta = data.load("digits")
    assert meta["preprocess"] == "minmax" and X.max() == 1.0
