"""Every registered deep method behaves as a scikit-learn estimator at its edges: each parameter is
declared (``_parameter_constraints``) and a bad value is refused by ``fit`` and by the workflow's
config check with the same message; bad rows, wrong feature counts, sparse input, labels of the
wrong length and unfitted use are refused with scikit-learn's messages; clone, get_params and
set_params round-trip; a fitted estimator pickles; scikit-learn's own estimator checks pass, but
those listed in EXPECTED_FAILURES with the reason. Parametrised over the registry, so a newly
registered method is checked too (its tiny settings come from helpers.DEEP_CASES)."""

import pickle

import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import (InvalidParameterError, Interval, generate_invalid_param_val,
                                            make_constraint)
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepclust import engine, methods
from deepclust.methods import parameters

from .helpers import N_CLUSTERS

DEEP = sorted(methods.DEEP_METHODS)
NOT_A_VALUE = "not-a-valid-value"


@pytest.fixture(scope="module")
def fitted(deep_case):
    """name -> (estimator fitted with its tiny settings, the X it was fitted on), fitted once."""
    cache = {}

    def fit(name):
        if name not in cache:
            estimator, X, y = deep_case(name)
            cache[name] = estimator.fit(X, y), X
        return cache[name]

    return fit


def bad_values():
    """(method, parameter, value) for each parameter of each deep method: a value of the wrong
    type, and one outside each interval the parameter takes (device takes any string)."""
    cases = []
    for name in DEEP:
        for parameter, constraints in parameters.CONSTRAINTS[name].items():
            if parameter == "device":
                continue
            cases.append((name, parameter, NOT_A_VALUE))
            for constraint in map(make_constraint, constraints):
                if type(constraint) is Interval:  # not a Sequence of numbers
                    cases.append((name, parameter, generate_invalid_param_val(constraint)))
    return cases


@pytest.mark.parametrize("name", DEEP)
def test_constraints_declare_exactly_the_parameters(name):
    cls = methods.get(name)
    assert cls._parameter_constraints is parameters.CONSTRAINTS[name]
    assert sorted(cls._parameter_constraints) == sorted(cls().get_params())


@pytest.mark.parametrize("name, parameter, value", bad_values(),
                         ids=lambda v: v if isinstance(v, str) else repr(v))
def test_bad_parameter_is_refused_by_fit_and_by_the_config_check(name, parameter, value, blobs):
    """fit refuses it before anything is computed, naming the parameter and the valid values;
    a config's params get the same message, or are told the workflow sets that parameter."""
    estimator = methods.get(name)(**{"n_clusters": N_CLUSTERS, parameter: value})
    message = f"The '{parameter}' parameter of {type(estimator).__name__} must be .* Got {re.escape(repr(value))}"
    with pytest.raises(InvalidParameterError, match=message) as refused:
        estimator.fit(blobs[0])
    with pytest.raises(ValueError) as checked:
        methods.check_params(name, {parameter: value})
    fixed = parameters.WORKFLOW_SET | {"image_shape"} | \
        (set() if name in methods.FROM_SCRATCH else parameters.PRETRAINING)
    if parameter in fixed:
        assert str(checked.value).startswith(f"{parameter}: ") and "params" in str(checked.value)
    else:
        assert str(checked.value) == str(refused.value)


def test_the_declared_options_are_those_the_methods_use():
    from deepclust.methods import jule, metric_learning, vade
    from deepclust.nn import vae

    def options(constraints, parameter):
        return make_constraint(constraints[parameter][0]).options

    assert options(parameters.VADE, "likelihood") == set(vae.LIKELIHOODS)
    assert options(parameters.VADE, "mixture_init") == set(vade.MIXTURE_INITS)
    assert options(parameters.JULE, "triplet_gradient") == set(jule.TRIPLET_GRADIENTS)
    assert options(parameters.METRIC_LEARNING, "loss") == set(metric_learning.LOSSES)
    for optimizer in options(parameters.DEC, "optimizer"):
        engine.make_optimizer(optimizer, [torch.zeros(1, requires_grad=True)], 0.1)


def test_valid_values_of_every_kind_are_taken(blobs, pretrained):
    """Lists where tuples are documented (YAML has no tuples), numpy integers, bools."""
    methods.check_params("infogan", {"betas": [0.5, 0.99], "noise_dim": np.int64(4)})
    methods.check_params("metric_learning", {"normalize": False, "tol": 0})
    methods.get("dcn")(N_CLUSTERS, autoencoder=pretrained[0], hidden_dims=[32, 32], max_epochs=0, n_init=1,
                       device="cpu", random_state=np.int64(3), verbose=np.bool_(False)).fit(blobs[0])


@pytest.mark.parametrize("name", DEEP)
def test_unfitted_use_raises_not_fitted(name, blobs):
    estimator = methods.get(name)(N_CLUSTERS)
    on_rows = [m for m in ("predict", "transform", "predict_proba") if hasattr(estimator, m)]
    generating = [m for m in ("sample", "generate") if hasattr(estimator, m)]
    for method, argument in [(m, blobs[0]) for m in on_rows] + [(m, 2) for m in generating]:
        with pytest.raises(NotFittedError, match=f"This {type(estimator).__name__} instance is not fitted yet"):
            getattr(estimator, method)(argument)


def bad_rows(X):
    with_nan, with_inf = X.copy(), X.copy()
    with_nan[3, 1] = np.nan
    with_inf[5, 0] = -np.inf
    return {"nan": (with_nan, ValueError, "Input X contains NaN"),
            "infinity": (with_inf, ValueError, "Input X contains infinity"),
            "features": (X[:, :-1], ValueError, f"X has {X.shape[1] - 1} features, but .* is expecting "
                                                 f"{X.shape[1]} features"),
            "sparse": (sp.csr_matrix(X), TypeError, "Sparse data was passed for X, but dense data is required"),
            "1-D": (X[0], ValueError, "Expected 2D array, got 1D array")}


@pytest.mark.parametrize("case", ["nan", "infinity", "features", "sparse", "1-D"])
@pytest.mark.parametrize("name", DEEP)
def test_bad_rows_are_refused_by_predict_and_transform(name, case, fitted):
    estimator, X = fitted(name)
    rows, error, message = bad_rows(X)[case]
    for call in (estimator.predict, estimator.transform):
        with pytest.raises(error, match=message):
            call(rows)


@pytest.mark.parametrize("case", ["nan", "infinity", "sparse"])
@pytest.mark.parametrize("name", DEEP)
def test_bad_rows_are_refused_by_fit(name, case, fitted):
    estimator, X = fitted(name)
    rows, error, message = bad_rows(X)[case]
    with pytest.raises(error, match=message):
        clone(estimator).fit(rows)


@pytest.mark.parametrize("name", DEEP)
def test_bad_labels_and_random_states_are_refused_by_fit(name, fitted):
    estimator, X = fitted(name)
    y = np.zeros(len(X) - 1, dtype=np.int64)
    with pytest.raises(ValueError, match=f"y has {len(y)} labels but X has {len(X)} rows"):
        clone(estimator).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'random_state' parameter .* must be an int in the range "
                                                    r"\[0, 4294967295\] or None. Got RandomState"):
        clone(estimator).set_params(random_state=np.random.RandomState(0)).fit(X)


@pytest.mark.parametrize("name", DEEP)
def test_clone_get_params_and_set_params_round_trip(name, fitted):
    estimator, _ = fitted(name)
    params = estimator.get_params()
    cloned = clone(estimator)
    assert type(cloned) is type(estimator) and not hasattr(cloned, "labels_")
    assert cloned.get_params().keys() == params.keys()
    assert all(cloned.get_params()[k] == v for k, v in params.items() if k != "autoencoder")
    assert type(cloned.get_params()["autoencoder"]) is type(params["autoencoder"])
    assert type(estimator)(**params).get_params() == params
    changed = clone(estimator).set_params(random_state=5, batch_size=7)
    assert changed.random_state == 5 and changed.batch_size == 7 and estimator.random_state == 0


@pytest.mark.parametrize("name", DEEP)
def test_a_fitted_estimator_pickles_on_the_cpu(name, fitted):
    estimator, X = fitted(name)
    loaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(loaded.labels_, estimator.labels_)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))
    assert loaded.n_features_in_ == X.shape[1]


# scikit-learn's own estimator checks (sklearn.utils.estimator_checks), on every registered deep
# method: each pretrains (or builds) a network of a few units for one epoch on the checks' data.
# The settings a method does not take are left out.
CHECK_SETTINGS = dict(hidden_dims=(8,), embedding_dim=2, pretrain_epochs=1, n_init=1, batch_size=16, max_epochs=1,
                      update_interval=1, rounds=1, likelihood="gaussian", hidden_dim=8,
                      q_hidden_dim=4, noise_dim=2, feature_dim=4, epochs_per_period=1, n_neighbors=3, device="cpu",
                      random_state=0)
# checks that set n_clusters=1
ONE_CLUSTER = ("check_dont_overwrite_parameters", "check_methods_subset_invariance", "check_fit2d_1sample",
               "check_fit2d_1feature", "check_fit2d_predict1d")
# checks that fit the estimator on their own data (Gaussian blobs of any range, not images)
FITTING = ("check_estimators_overwrite_params", "check_estimators_fit_returns_self", "check_readonly_memmap_input",
           "check_n_features_in_after_fitting", "check_positive_only_tag_during_fit", "check_estimators_dtypes",
           "check_pipeline_consistency", "check_estimators_pickle", "check_f_contiguous_array_estimator",
           "check_transformer_data_not_an_array", "check_transformer_general", "check_transformer_preserve_dtypes",
           "check_clustering", "check_methods_sample_order_invariance", "check_dict_unchanged",
           "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in")
# estimator class -> {check: why it cannot pass}; docs/methods.md explains them. Strict: a check
# listed here that passes fails the test, so the list stays exact.
EXPECTED_FAILURES = {
    "DCEC": dict.fromkeys(FITTING + ONE_CLUSTER + ("check_estimators_nan_inf", "check_dtype_object",
                                                   "check_fit_score_takes_y"),
                          "DCEC's rows are images of image_shape (C, H, W); the checks' data are not"),
    "InfoGAN": {**dict.fromkeys(FITTING, "InfoGAN's generator outputs [0, 1], so X must lie in [0, 1]"),
                **dict.fromkeys(ONE_CLUSTER, "InfoGAN's categorical code needs n_clusters >= 2")},
    "JULE": dict.fromkeys(ONE_CLUSTER, "JULE merges clusters down to n_clusters >= 2"),
    "VaDE": {"check_fit_idempotent": "the data lie around 100, unscaled: the embedding collapses and the Gaussian "
                                     "mixture VaDE starts from cannot be fitted (scikit-learn's error: scale the data)"},
}


def checked_estimator(name):
    cls = methods.get(name)
    settings = {**CHECK_SETTINGS, "filters": (2, 2, 2) if name == "dcec" else 2}
    return cls(**{k: v for k, v in settings.items() if k in cls().get_params()})


@parametrize_with_checks([checked_estimator(name) for name in DEEP], xfail_strict=True,
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES.get(type(estimator).__name__, {}))
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
