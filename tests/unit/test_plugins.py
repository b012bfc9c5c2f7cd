"""Methods of one's own ("package.module:Class"): what is refused before any job, with messages that
name the plugin, and what the workflow gives the class."""

import sys
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator, ClusterMixin

from deepclust import methods
from deepclust.methods import plugins

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def example_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield "deepclust_example.ae_spectral:AESpectral"
    sys.modules.pop("deepclust_example.ae_spectral", None)


def test_the_example_is_a_plugin_that_takes_the_autoencoder(example_on_path):
    assert methods.is_plugin(example_on_path) and not methods.is_plugin("dec")
    cls = plugins.check(example_on_path, {"n_neighbors": 5})
    assert plugins.takes(cls, "autoencoder") and plugins.takes(cls, "random_state") and not plugins.takes(cls, "device")
    assert hasattr(cls, "transform")
    assert plugins.source_file(example_on_path) == EXAMPLES / "deepclust_example" / "ae_spectral.py"
    assert methods.module_name(example_on_path) == "deepclust_example.ae_spectral"


@pytest.mark.parametrize("algorithm, params, message", [
    ("no_such_package.module:Method", {}, "cannot import 'no_such_package.module' (ModuleNotFoundError"),
    ("sklearn.cluster:NoSuchClass", {}, "'sklearn.cluster' has no class 'NoSuchClass'"),
    ("sklearn.decomposition:PCA", {}, "does not set labels_ in fit"),
    ("sklearn.cluster:KMeans", {"n_clusters": 3}, "n_clusters: set by the workflow"),
    ("sklearn.cluster:KMeans", {"n_inits": 3}, "unknown parameter(s) ['n_inits'] for sklearn.cluster:KMeans; valid:"),
    ("sklearn.cluster:KMeans", {"n_init": 0}, "The 'n_init' parameter of KMeans must be"),
])
def test_bad_plugins_are_refused_naming_them(algorithm, params, message):
    with pytest.raises(ValueError) as error:
        methods.check_params(algorithm, params)
    assert message in str(error.value)


def test_a_class_that_sets_labels_without_clustermixin_is_accepted(tmp_path, monkeypatch):
    (tmp_path / "own_method.py").write_text(
        "class Halves:\n"
        "    def __init__(self, n_clusters=2, **options):\n"
        "        self.n_clusters = n_clusters\n"
        "    def fit(self, X, y=None):\n"
        "        self.labels_ = [i * self.n_clusters // len(X) for i in range(len(X))]\n"
        "        return self\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = plugins.check("own_method:Halves", {"anything": 1})  # **options takes any keyword
    assert plugins.takes(cls, "n_clusters") and not plugins.takes(cls, "autoencoder")
    sys.modules.pop("own_method", None)


def test_a_plugin_with_no_source_falls_back_to_fit_predict():
    class Compiled(ClusterMixin, BaseEstimator):
        pass

    assert plugins.sets_labels(Compiled)
