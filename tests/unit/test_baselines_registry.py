import math
import subprocess
import sys

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from deepclust import methods
from deepclust.methods import baselines
from deepclust.metrics import evaluate

from .helpers import N_CLUSTERS


@pytest.mark.parametrize("name", sorted(methods.BASELINES))
def test_every_baseline_clusters_blobs(name, blobs):
    X, y = blobs
    estimator = methods.get(name)(n_clusters=N_CLUSTERS, random_state=0)
    labels = np.asarray(estimator.fit_predict(X))
    assert labels.shape == (len(X),)
    result = evaluate(labels, y, X)
    assert result["n_clusters_found"] == N_CLUSTERS
    if name in ("kmeans", "gmm", "agglomerative"):
        assert result["acc"] == 1.0
        assert result["noise_fraction"] == 0.0
    else:  # density based: may call a few points noise
        assert result["acc"] >= 0.85


def test_factories_pass_parameters_through():
    assert baselines.kmeans(4, random_state=2, n_init=3).get_params()["n_clusters"] == 4
    assert baselines.gmm(5, covariance_type="diag").get_params()["covariance_type"] == "diag"
    assert baselines.agglomerative(2, random_state=123, linkage="average").get_params()["linkage"] == "average"
    assert baselines.dbscan(n_clusters=7, random_state=1, min_samples=4).min_samples == 4
    assert baselines.hdbscan(n_clusters=7, min_cluster_size=9).min_cluster_size == 9


def k_distance_quantile(X, k, quantile):
    """Distance of every point to its k-th nearest neighbour, the point itself counting as the first."""
    distances = np.sort(np.linalg.norm(X[:, None] - X[None], axis=2), axis=1)
    return float(np.quantile(distances[:, k - 1], quantile))


@pytest.mark.parametrize("min_samples, quantile", [(10, 0.5), (5, 0.9)])
def test_auto_eps_is_the_k_distance_quantile(blobs, min_samples, quantile):
    X = blobs[0].astype(np.float64)
    model = baselines.AutoEpsDBSCAN(min_samples=min_samples, eps_quantile=quantile).fit(X)
    assert model.eps_ == pytest.approx(k_distance_quantile(X, min_samples, quantile))
    reference = DBSCAN(eps=model.eps_, min_samples=min_samples).fit(X)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    np.testing.assert_array_equal(model.core_sample_indices_, reference.core_sample_indices_)


def test_fixed_eps_is_used_as_given(blobs):
    model = baselines.AutoEpsDBSCAN(eps=0.3, min_samples=5).fit(blobs[0])
    assert model.eps_ == 0.3
    np.testing.assert_array_equal(model.labels_, DBSCAN(eps=0.3, min_samples=5).fit(blobs[0]).labels_)


def test_auto_eps_uses_the_configured_metric(blobs):
    X = blobs[0].astype(np.float64)
    model = baselines.dbscan(min_samples=5, metric="manhattan").fit(X)
    distances = np.sort(np.abs(X[:, None] - X[None]).sum(axis=2), axis=1)
    assert model.eps_ == pytest.approx(float(np.quantile(distances[:, 4], 0.5)))


def test_hdbscan_labelling_everything_noise_still_evaluates(blobs):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(150, 2))
    labels = methods.get("hdbscan")(min_cluster_size=100).fit_predict(X)
    assert (labels == -1).all()
    result = evaluate(labels, blobs[1], X)
    assert result["n_clusters_found"] == 0
    assert result["noise_fraction"] == 1.0
    assert result["acc"] == 0.0
    assert math.isnan(result["silhouette"])


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as error:
        methods.get("kmeanz")
    message = str(error.value)
    assert "'kmeanz'" in message
    for name in methods.ALGORITHMS:
        assert name in message
    with pytest.raises(ValueError, match="valid algorithms"):
        methods.module_name("nope")


def test_get_known_names():
    from deepclust.methods.dcn import DCN
    from deepclust.methods.dec import DEC
    from deepclust.methods.idec import IDEC

    assert methods.get("dec") is DEC and methods.get("idec") is IDEC and methods.get("dcn") is DCN
    assert methods.get("kmeans") is baselines.kmeans
    assert methods.module_name("idec") == "deepclust.methods.idec"
    assert set(methods.DEEP_METHODS) >= {"dec", "idec", "dcn", "dcec"}
    assert set(methods.BASELINES) == {"kmeans", "gmm", "agglomerative", "dbscan", "hdbscan"}


def test_init_parameters_dec():
    names = methods.init_parameters("dec")
    assert "update_interval" in names and "tol" in names and "alpha" in names
    assert not set(names) & {"n_clusters", "random_state", "autoencoder", "device", "verbose"}


@pytest.mark.parametrize("name", sorted(methods.DEEP_METHODS))
def test_init_parameters_are_the_estimator_params_minus_workflow_ones(name):
    expected = set(methods.get(name)().get_params()) - methods.WORKFLOW_SET
    assert set(methods.init_parameters(name)) == expected
    assert len(methods.init_parameters(name)) == len(expected)


def test_init_parameters_specific_to_each_method():
    assert "gamma" in methods.init_parameters("idec")
    assert {"lambda_", "initial_count"} <= set(methods.init_parameters("dcn"))
    assert "gamma" not in methods.init_parameters("dec")


def test_init_parameters_of_a_baseline_raises():
    with pytest.raises(ValueError, match="has no class kmeans"):
        methods.init_parameters("kmeans")


def test_registry_and_provenance_import_no_torch():
    code = ("import sys, deepclust.methods as m, deepclust.provenance as p; m.init_parameters('dec'); "
            "m.module_name('dcn'); p.code_fingerprint('deepclust.methods.dcn'); "
            "print(sorted(k for k in ('torch', 'sklearn', 'deepclust.methods.dec') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_schema_lists_exactly_the_registered_algorithms():
    import yaml
    from pathlib import Path

    schema = yaml.safe_load((Path(__file__).parents[2] / "config" / "schema.yaml").read_text())
    algorithm = schema["properties"]["methods"]["additionalProperties"]["properties"]["algorithm"]
    assert sorted(algorithm["enum"]) == sorted(methods.ALGORITHMS)
