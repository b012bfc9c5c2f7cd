"""Every registered deep method behaves as a scikit-learn estimator at its edges: each parameter is
declared (``_parameter_constraints``) and a bad value is refused by ``fit`` and by the workflow's
config check with the same message; bad rows, wrong feature counts, sparse input, labels of the
wrong length and unfitted use are refused with scikit-learn's messages; clone, get_params and
set_params round-trip; a fitted estimator pickles. Parametrised over the registry, so a newly
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
