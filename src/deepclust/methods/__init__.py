"""Method registry: stable method names -> implementing module and class.

Entries are import strings so that looking a method up (and fingerprinting its code, see
deepclust.provenance) never imports torch or the other methods.
"""

import ast
import importlib

from deepclust.provenance import module_path

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


def _entry(algorithm: str) -> tuple[str, str]:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; valid algorithms: {', '.join(sorted(ALGORITHMS))}")
    module, attribute = ALGORITHMS[algorithm].split(":")
    return module, attribute


def module_name(algorithm: str) -> str:
    return _entry(algorithm)[0]


def get(algorithm: str):
    """The estimator class (deep methods) or baseline factory for ``algorithm``."""
    module, attribute = _entry(algorithm)
    return getattr(importlib.import_module(module), attribute)


def init_parameters(algorithm: str) -> list[str]:
    """Keyword parameters of a deep method's ``__init__``, read from its source (no import), minus
    those the workflow sets itself (n_clusters, autoencoder, device, random_state, verbose)."""
    module, attribute = _entry(algorithm)
    tree = ast.parse(module_path(module).read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attribute:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    names = [a.arg for a in item.args.args[1:] + item.args.kwonlyargs]
                    return [n for n in names if n not in WORKFLOW_SET]
    raise ValueError(f"{module} has no class {attribute} with an __init__")


WORKFLOW_SET = {"n_clusters", "autoencoder", "device", "random_state", "verbose"}
