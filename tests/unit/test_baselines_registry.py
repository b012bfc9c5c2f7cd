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


def test_check_params_takes_each_methods_own_parameters():
    methods.check_params("dec", {"update_interval": 5, "tol": 0, "alpha": 1, "optimizer": "adam"})
    methods.check_params("idec", {"gamma": 0.1})
    methods.check_params("dcn", {"lambda_": 0.5, "initial_count": 10})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['gamma'\] for DEC; valid: .*update_interval"):
        methods.check_params("dec", {"gamma": 0.1})


@pytest.mark.parametrize("name", sorted(methods.ALGORITHMS))
def test_check_params_refuses_what_the_workflow_sets(name):
    with pytest.raises(ValueError, match="^n_clusters, random_state: set by the workflow"):
        methods.check_params(name, {"random_state": 1, "n_clusters": 3})


def test_check_params_refuses_pretraining_settings_of_methods_that_start_from_a_net():
    with pytest.raises(ValueError, match="^embedding_dim, hidden_dims: in the workflow dec starts from its net"):
        methods.check_params("dec", {"hidden_dims": [8], "embedding_dim": 2})
    with pytest.raises(ValueError, match="^image_shape: dcec takes it from the dataset"):
        methods.check_params("dcec", {"image_shape": [1, 8, 8]})
    methods.check_params("jule", {"filters": 4, "hidden_dim": 8})  # its own network's


@pytest.mark.parametrize("name, params, message", [
    ("kmeans", {"foo": 1}, r"unknown parameter\(s\) \['foo'\] for KMeans; valid: init, n_init"),
    ("kmeans", {"n_init": 0}, r"The 'n_init' parameter of KMeans must be .*Got 0"),
    ("gmm", {"n_components": 3}, r"unknown parameter\(s\) \['n_components'\] for Float64GaussianMixture"),
    ("gmm", {"covariance_type": "diagonal"}, "The 'covariance_type' parameter of Float64GaussianMixture must be a str among"),
    ("agglomerative", {"linkage": "centroid"}, "The 'linkage' parameter of AgglomerativeClustering must be"),
    ("dbscan", {"eps_quantile": 2}, r"The 'eps_quantile' parameter of AutoEpsDBSCAN must be a float in the range "
                                    r"\[0.0, 1.0\]"),
    ("dbscan", {"eps": "large"}, r"The 'eps' parameter of AutoEpsDBSCAN must be .* or a str among \{'auto'\}"),
    ("hdbscan", {"alpha": 1}, r"The 'alpha' parameter of HDBSCAN must be a float in the range \(0.0, inf\). Got 1"),
    ("hdbscan", {"min_cluster_size": 1}, "The 'min_cluster_size' parameter of HDBSCAN must be an int"),
    ("hdbscan", {"metric_kwarg": 1}, r"unknown parameter\(s\) \['metric_kwarg'\] for HDBSCAN"),
])
def test_bad_baseline_params_are_refused_by_the_check_and_by_the_estimator(name, params, message, blobs):
    with pytest.raises(ValueError, match=message):
        methods.check_params(name, params)
    with pytest.raises((TypeError, ValueError)):  # the estimator's own signature or constraints
        methods.get(name)(N_CLUSTERS, random_state=0, **params).fit(blobs[0])


def test_hdbscan_constraints_name_the_estimators_parameters():
    import inspect

    import hdbscan

    named = [name for name, parameter in inspect.signature(hdbscan.HDBSCAN).parameters.items()
             if parameter.kind is not parameter.VAR_KEYWORD]
    assert sorted(baselines.HDBSCAN_CONSTRAINTS) == sorted(named)
    # the defaults pass
    methods.check_params("hdbscan", {name: inspect.signature(hdbscan.HDBSCAN).parameters[name].default
                                     for name in named})


def test_registry_and_provenance_import_no_torch():
    code = ("import sys, deepclust.methods as m, deepclust.provenance as p; m.check_params('dec', {'lr': 0.1}); "
            "m.module_name('dcn'); p.code_fingerprint('deepclust.methods.dcn'); "
            "print(sorted(k for k in ('torch', 'deepclust.methods.dec', 'deepclust.methods.base') "
            "if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_schema_names_exactly_the_registered_algorithms():
    import re
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).parents[2] / "config" / "schema.yaml").read_text())
    algorithm = schema["properties"]["methods"]["additionalProperties"]["properties"]["algorithm"]
    listed = re.search(r"registry name \(([^)]*)\)", algorithm["description"]).group(1)
    assert sorted(name.strip() for name in listed.split(",")) == sorted(methods.ALGORITHMS)


def test_gmm_fits_in_float64_whatever_the_features_dtype():
    # in float32, reg_covar (1e-6) is lost to rounding: UMAP features of 20 Newsgroups (18,846 x 20)
    # failed the fit with an ill-defined covariance that float64 fits
    X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    model = baselines.gmm(2, n_init=1).fit(X)
    assert model.means_.dtype == np.float64 and model.covariances_.dtype == np.float64
    assert np.array_equal(model.predict(X), baselines.gmm(2, n_init=1).fit_predict(X.astype(np.float64)))
