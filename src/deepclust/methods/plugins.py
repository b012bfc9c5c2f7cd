"""Methods that live outside deepclust: a config's ``algorithm: "package.module:Class"`` runs any
scikit-learn style clusterer importable in the environment.

The class is built with the config's ``params`` and, where its ``__init__`` takes them, the
workflow's ``n_clusters`` (the dataset's), ``random_state`` (the seed), ``device`` and
``autoencoder`` (the shared pretrained network of the method's ``net``, so a method of one's own
starts from the same network as DEC). ``fit(X)`` must set ``labels_``; a ``transform`` gives the
embedding that the figures draw and the internal metrics score. Everything is checked before any
job starts: the import, ``fit``, ``labels_``, each parameter against the signature (and against
the class's scikit-learn ``_parameter_constraints`` when it declares them).
"""

import importlib
import inspect
from pathlib import Path

# arguments the workflow gives a plugin itself (where its __init__ takes them), never from params
WORKFLOW_ARGUMENTS = ("n_clusters", "random_state", "device", "autoencoder")


def load(algorithm: str) -> type:
    """The class named by ``"package.module:Class"``; a ValueError naming it if it cannot be had."""
    module_name, _, attribute = algorithm.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any import-time failure of the user's code is a config error here
        raise ValueError(f"cannot import {module_name!r} ({type(error).__name__}: {error}); install the package "
                         "or put its folder on PYTHONPATH") from error
    cls = getattr(module, attribute, None)
    if not inspect.isclass(cls):
        raise ValueError(f"{module_name!r} has no class {attribute!r}")
    return cls


def signature(cls) -> dict:
    """``__init__``'s keyword parameters (name -> inspect.Parameter), without self."""
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}


def takes(cls, name: str) -> bool:
    """Whether ``__init__`` names ``name``: the workflow gives its own arguments only to a class that
    asks for them by name (a ``**kwargs`` takes the config's params, not these)."""
    return name in signature(cls)


def sets_labels(cls) -> bool:
    """Whether ``fit`` gives ``labels_``: a scikit-learn clusterer, or a class whose code sets it."""
    from sklearn.base import ClusterMixin

    if issubclass(cls, ClusterMixin):
        return True
    try:
        return "labels_" in inspect.getsource(cls)
    except (OSError, TypeError):  # no source (compiled): trust fit_predict
        return hasattr(cls, "fit_predict")


def check(algorithm: str, params: dict) -> type:
    """The plugin's class, after refusing what it cannot run with: no ``fit``, no ``labels_``, a
    parameter its ``__init__`` does not take, one the workflow sets, a value outside its declared
    constraints."""
    cls = load(algorithm)
    if not callable(getattr(cls, "fit", None)):
        raise ValueError(f"{algorithm} has no fit method; a clusterer needs fit(X) setting labels_")
    if not sets_labels(cls):
        raise ValueError(f"{algorithm} does not set labels_ in fit (subclass sklearn.base.ClusterMixin, or set "
                         "self.labels_)")
    given = sorted(set(params) & set(WORKFLOW_ARGUMENTS))
    if given:
        raise ValueError(f"{', '.join(given)}: set by the workflow (from the dataset, the seed, the config's device "
                         "and the method's net), not in params")
    parameters = signature(cls)
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(set(params) - set(parameters))
        if unknown:
            valid = [n for n in parameters if n not in WORKFLOW_ARGUMENTS]
            raise ValueError(f"unknown parameter(s) {unknown} for {algorithm}; valid: {', '.join(valid) or 'none'}")
    constraints = getattr(cls, "_parameter_constraints", None)
    if isinstance(constraints, dict) and constraints:
        from sklearn.utils._param_validation import validate_parameter_constraints

        declared = {name: value for name, value in params.items() if name in constraints}
        validate_parameter_constraints(constraints, declared, caller_name=cls.__name__)
    return cls


def source_file(algorithm: str) -> Path:
    """The file of the plugin's module: its code joins the job's fingerprint, so editing it reruns it."""
    return Path(inspect.getsourcefile(importlib.import_module(algorithm.partition(":")[0])))
