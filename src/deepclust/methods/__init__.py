"""Method registry: stable method names -> implementing module and class.

Entries are import strings so that looking a method up (and fingerprinting its code, see
deepclust.provenance) never imports torch or the other methods.
"""

import importlib

DEEP_METHODS = {
    "dec": "deepclust.methods.dec:DEC",
    "idec": "deepclust.methods.idec:IDEC",
    "dcn": "deepclust.methods.dcn:DCN",
    "dcec": "deepclust.methods.dcec:DCEC",
    "metric_learning": "deepclust.methods.metric_learning:MetricLearningDC",
    "vade": "deepclust.methods.vade:VaDE",
    "infogan": "deepclust.methods.infogan:InfoGAN",
    "jule": "deepclust.methods.jule:JULE",
}
BASELINES = {
    name: "deepclust.methods.baselines:" + name
    for name in ("kmeans", "gmm", "agglomerative", "dbscan", "hdbscan")
}
ALGORITHMS = {**DEEP_METHODS, **BASELINES}
# deep methods that learn their own networks from scratch: no shared pretrained net
FROM_SCRATCH = {"infogan", "jule"}
# deep methods that generate samples per cluster: algorithm -> estimator method returning an
# array (n_clusters, n_per_cluster, n_features)
GENERATIVE = {"vade": "sample", "infogan": "generate"}


def is_plugin(algorithm: str) -> bool:
    """A method outside deepclust, named "package.module:Class" (deepclust.methods.plugins)."""
    return ":" in algorithm


def _entry(algorithm: str) -> tuple[str, str]:
    if is_plugin(algorithm):
        module, _, attribute = algorithm.partition(":")
        return module, attribute
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; valid algorithms: {', '.join(sorted(ALGORITHMS))}, "
                         "or a class of your own as 'package.module:Class'")
    module, attribute = ALGORITHMS[algorithm].split(":")
    return module, attribute


def module_name(algorithm: str) -> str:
    return _entry(algorithm)[0]


def get(algorithm: str):
    """The estimator class (deep methods) or baseline factory for ``algorithm``."""
    module, attribute = _entry(algorithm)
    return getattr(importlib.import_module(module), attribute)


def check_params(algorithm: str, params: dict) -> None:
    """Refuse what a config's ``params`` may not give ``algorithm``, before any job, with the
    messages ``fit`` would give: a name the estimator does not take, one the workflow sets itself,
    or a value outside the parameter's constraints. Deep methods are checked against their
    declaration in deepclust.methods.parameters (no torch import); baselines against their
    scikit-learn (or hdbscan) estimator's."""
    if is_plugin(algorithm):
        from deepclust.methods import plugins

        plugins.check(algorithm, params)
        return
    from deepclust.methods import parameters  # scikit-learn's validation: imported for a check only

    workflow_set = sorted(set(params) & parameters.WORKFLOW_SET)
    if workflow_set:
        raise ValueError(f"{', '.join(workflow_set)}: set by the workflow (n_clusters from datasets.<id>.n_clusters, "
                         "random_state from seeds, device from the config's device), not in params")
    if algorithm not in DEEP_METHODS:
        from deepclust.methods import baselines

        return baselines.check_params(algorithm, params)
    if "image_shape" in params:
        raise ValueError(f"image_shape: {algorithm} takes it from the dataset (datasets.<id>.image_shape for "
                         "files), not from params")
    # a method that starts from a net takes its network from nets, not the settings it would pretrain by
    fixed = parameters.WORKFLOW_SET | {"image_shape"}
    if algorithm not in FROM_SCRATCH:
        fixed |= parameters.PRETRAINING
        given = ", ".join(sorted(set(params) & parameters.PRETRAINING))
        if given:
            raise ValueError(f"{given}: in the workflow {algorithm} starts from its net's pretrained autoencoder; "
                             "set the network under nets.<id>, not in params")
    constraints = parameters.CONSTRAINTS[algorithm]
    settable = [name for name in constraints if name not in fixed]
    parameters.check(constraints, params, settable, _entry(algorithm)[1])
