# Helpers and the path of every output. No rules here.
import json
import re

from snakemake.utils import validate

from deepclust import methods as method_registry
from deepclust.provenance import canonical, code_fingerprint

# --config parses values with YAML's BaseLoader: seeds='[0,1,2]' arrives as ['0', '1', '2']
if isinstance(config.get("seeds"), list):
    config["seeds"] = [int(s) if str(s).isdigit() else s for s in config["seeds"]]
validate(config, schema="../../config/schema.yaml")

SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"

# ---- paths: the interface between rules ----------------------------------------------
DATA = "results/data/{dataset}.npz"
PRETRAIN = "results/pretrain/{dataset}/{net}/seed{seed}"
RUN = "results/runs/{dataset}/{method}/seed{seed}"
UMAP_FEATURES = "results/features/{dataset}/umap-{net}/seed{seed}.npy"
TABLES = "results/tables"
FIGURES = "results/figures/{dataset}"
TRACKING = "results/mlflow/tracking.json"
LOGS = "results/logs"

DATASETS = list(config["datasets"])
NETS = config["nets"]
METHODS = config["methods"]
SEEDS = config["seeds"]
FIGURE_SEED = SEEDS[0]


def fail(message):
    raise WorkflowError(f"config error: {message}")


def check_config():
    """Cross-key checks that a JSON schema cannot express; all run before any job starts."""
    # Unknown algorithm names never get here: the schema's enum (pinned to the registry by
    # tests/unit/test_baselines_registry.py) refuses them with the valid names listed.
    for method, spec in METHODS.items():
        algorithm = spec["algorithm"]
        if algorithm in method_registry.DEEP_METHODS:
            if spec.get("net") not in NETS:
                fail(
                    f"methods.{method}.net: {spec.get('net')!r} is not a net in 'nets' ({', '.join(NETS)})"
                )
            valid = method_registry.init_parameters(algorithm)
            unknown = sorted(set(spec.get("params", {})) - set(valid))
            if unknown:
                fail(
                    f"methods.{method}.params: unknown parameter(s) {unknown} for {algorithm}; "
                    f"valid: {', '.join(valid)}"
                )
        else:
            space = spec.get("features")
            if space is None or feature_net(space) not in (None, *NETS):
                fail(
                    f"methods.{method}.features: {space!r} is not 'raw', a net ({', '.join(NETS)}) "
                    "or 'umap-<net>'"
                )


def feature_net(space):
    """The net a feature space comes from: None for 'raw', 'ae' for 'ae' and 'umap-ae'."""
    return None if space == "raw" else space.removeprefix("umap-")


def is_deep(method):
    return METHODS[method]["algorithm"] in method_registry.DEEP_METHODS


def ids_regex(ids):
    return "|".join(re.escape(i) for i in ids) or "(?!)"


DEEP_METHOD_IDS = [m for m in METHODS if is_deep(m)]
BASELINE_IDS = [m for m in METHODS if not is_deep(m)]
check_config()


# ---- job settings ------------------------------------------------------------------
def uses_gpu():
    return 0 if config["device"] == "cpu" else 1


def fingerprint(script, *modules):
    """Code a job depends on: the script's deepclust imports and the given modules, transitively."""
    return code_fingerprint(SCRIPTS / script, *modules)


def sorted_settings(settings):
    """Settings with keys sorted at every level: Snakemake compares params by repr, so key order
    (and defaults that validate() appends) must not look like a change."""
    return json.loads(canonical(settings))


def n_clusters(wildcards):
    return config["datasets"][wildcards.dataset]["n_clusters"]


# ---- inputs ------------------------------------------------------------------------
def pretrained(wildcards):
    net = METHODS[wildcards.method]["net"]
    return f"{PRETRAIN}/model.pt".format(
        dataset=wildcards.dataset, net=net, seed=wildcards.seed
    )


def features_of(space, dataset, seed):
    """File holding feature space ``space`` of a dataset for one seed."""
    if space == "raw":
        return DATA.format(dataset=dataset)
    if space.startswith("umap-"):
        return UMAP_FEATURES.format(dataset=dataset, net=feature_net(space), seed=seed)
    return f"{PRETRAIN}/embedding.npy".format(dataset=dataset, net=space, seed=seed)


def baseline_spaces():
    """Feature spaces that some baseline clusters."""
    return sorted({METHODS[method]["features"] for method in BASELINE_IDS})


def run_files(name, datasets=None, methods=None, seeds=None):
    return expand(
        f"{RUN}/{name}",
        dataset=datasets or DATASETS,
        method=methods or list(METHODS),
        seed=seeds or SEEDS,
    )


def nets_used():
    """Nets that some method starts from or clusters the embedding of."""
    nets = {
        spec.get("net") or feature_net(spec["features"]) for spec in METHODS.values()
    }
    return sorted(nets - {None})


def input_spaces():
    """Raw input and each used net's embedding."""
    return ["raw", *nets_used()]


def embedding_spaces():
    """Spaces drawn in 2-D: the input spaces and each deep method's final embedding."""
    return [*input_spaces(), *DEEP_METHOD_IDS]


def embedding_input(dataset, space):
    """File of a space drawn in 2-D, for the first seed."""
    if space in DEEP_METHOD_IDS:
        return f"{RUN}/embedding.npy".format(
            dataset=dataset, method=space, seed=FIGURE_SEED
        )
    return features_of(space, dataset, FIGURE_SEED)


def methods_drawn_on(space):
    """Methods whose clusters are drawn on a space's 2-D map."""
    if space in DEEP_METHOD_IDS:
        return [space]
    return [
        m
        for m in BASELINE_IDS
        if feature_net(METHODS[m]["features"]) == feature_net(space)
    ]


def figure_files():
    per_dataset = [
        f"{FIGURES}/{name}.png" for name in ("methods", "confusion", "elbow")
    ]
    if DEEP_METHOD_IDS:
        per_dataset.append(f"{FIGURES}/training_curves.png")
    per_dataset += [f"{FIGURES}/embedding_{space}.png" for space in embedding_spaces()]
    return expand(per_dataset, dataset=DATASETS)


def final_outputs():
    outputs = [f"{TABLES}/summary.csv", f"{TABLES}/summary.md", *figure_files()]
    if config["tracking"]["enabled"]:
        outputs.append("results/mlflow/synced.json")
    return outputs


def tracking_input():
    """Training jobs log live only after the store exists; ancient() so that re-initialising
    the store reruns nothing. Without live logging, sync_tracking mirrors every run at the end.
    """
    tracking = config["tracking"]
    return ancient(TRACKING) if tracking["enabled"] and tracking["live"] else []
