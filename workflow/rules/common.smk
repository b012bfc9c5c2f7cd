# Helpers and the path of every output. No rules here.
import json
import re
from functools import lru_cache

import yaml
from jsonschema import Draft202012Validator

from snakemake.utils import validate

from deepclust import data as data_registry
from deepclust import methods as method_registry
from deepclust.methods import plugins
from deepclust import paper
from deepclust import selection, sweeps
from deepclust.provenance import canonical, code_fingerprint
from deepclust.tracking import tracking_uri

SCHEMA = Path(workflow.basedir) / "config" / "schema.yaml"


JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number"}


def subschema(schema, key):
    """The schema of ``key``'s value in an object of ``schema`` ({}: any value)."""
    other = schema.get("additionalProperties")
    return schema.get("properties", {}).get(key) or (
        other if isinstance(other, dict) else {}
    )


def yaml_typed(value, schema):
    """A --config value with each string read as YAML where the schema takes what YAML reads:
    Snakemake reads nested --config values with YAML's BaseLoader, which leaves every one a
    string (threads='{train: 2}' gives {'train': '2'}, seeds='[0,1]' gives ['0', '1']). Where
    the schema leaves the type open (method params) a YAML number, boolean or null is taken.
    """
    if isinstance(value, dict):
        return {
            key: yaml_typed(item, subschema(schema, key)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [yaml_typed(item, schema.get("items", {})) for item in value]
    if not isinstance(value, str):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    kind = JSON_TYPES.get(type(parsed))
    allowed = schema.get("type")
    allowed = [allowed] if isinstance(allowed, str) else allowed
    if kind == "integer" and allowed and "number" in allowed:
        kind = "number"
    return parsed if kind and (allowed is None or kind in allowed) else value


def typed_overrides(config, overrides, schema):
    """Replace in ``config`` each value that --config set by its yaml_typed form."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            typed_overrides(config[key], value, subschema(schema, key))
        else:
            config[key] = yaml_typed(value, subschema(schema, key))


SCHEMA_TREE = yaml.safe_load(SCHEMA.read_text())
typed_overrides(config, workflow.config_settings.config, SCHEMA_TREE)
# before the schema fills in defaults: whether the user chose the label-free criterion
CRITERION_GIVEN = "criterion" in (config.get("selection") or {})
validate(config, schema=str(SCHEMA))


def fail(message):
    raise WorkflowError(f"config error: {message}")


SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"

# ---- paths: the interface between rules ----------------------------------------------
DOWNLOAD = "resources/datasets/{source}/MANIFEST.json"
MODELS = "resources/models"
MODEL_DOWNLOAD = "resources/models/{model}/MANIFEST.json"
# every output lives under the config's own folder, so that configs with the same ids never
# overwrite each other's runs
RESULTS = config["results"].rstrip("/")
DATA = f"{RESULTS}/data/{{dataset}}.npz"
PRETRAIN = f"{RESULTS}/pretrain/{{dataset}}/{{net}}/seed{{seed}}"
RUN = f"{RESULTS}/runs/{{dataset}}/{{method}}/seed{{seed}}"
UMAP_FEATURES = f"{RESULTS}/features/{{dataset}}/umap-{{net}}/seed{{seed}}.npy"
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures/{{dataset}}"
TRACKING = f"{RESULTS}/mlflow/tracking.json"
SYNCED = f"{RESULTS}/mlflow/synced.json"
# The MLflow store in use now ($MLFLOW_TRACKING_URI, else tracking.uri, else a sqlite file in
# RESULTS): init_tracking's param, so that pointing the workflow at another store re-initialises
# it (and reruns the sync, not the jobs).
TRACKING_URI = tracking_uri(
    config["tracking"]["uri"] or f"sqlite:///{RESULTS}/mlflow.db"
)
MLFLOW_ARTIFACTS = f"{RESULTS}/mlflow/artifacts"
LOGS = f"{RESULTS}/logs"
# outside the jobs' outputs, so that a failed or preempted job's retry still finds them
CHECKPOINTS = f"{RESULTS}/checkpoints"

# files of every run folder; deep methods' runs write more
RUN_FILES = ["labels.npy", "metrics.json", "run.json"]

# the datasets this invocation runs: all of `datasets`, or those `run_datasets` names (say, the
# ones a machine without network has)
DATASETS = [
    d for d in config["datasets"] if d in (config["run_datasets"] or config["datasets"])
]
SEEDS = config["seeds"]
# the default criterion, stability, compares seeds: with one seed the silhouette stands in for it
if not CRITERION_GIVEN and len(SEEDS) < 2:
    config["selection"]["criterion"] = "silhouette"
FIGURE_SEED = SEEDS[0]
PROJECTIONS = config["figures"]["projection"]
FIGURE_KINDS = config["figures"]["draw"]
# grids expanded (deepclust.sweeps): each setting of a swept method or net is a method or net of
# its own id; a config without `grid` keeps its own dicts
try:
    SWEEP = sweeps.Sweep(config["methods"], config["nets"])
except sweeps.SweepError as error:
    fail(str(error))
NETS = SWEEP.nets
METHODS = SWEEP.methods
# n_clusters: auto: the chosen k alone (what the methods' jobs read: a changed curve that keeps k
# changes no byte of it and reruns none of them), and the criterion over k
SELECT_K = f"{RESULTS}/select_k/{{dataset}}/k.json"
SELECT_K_CURVE = f"{RESULTS}/select_k/{{dataset}}/curve.json"
SELECTION_SCORES = f"{RESULTS}/selection/{{dataset}}/{{method}}.csv"
# runs.csv with each swept method at the setting selection.criterion picks: what the leaderboard ranks
LABEL_FREE_RUNS = f"{RESULTS}/tables/runs_label_free.csv"
# UMAP of a net at a grid's UMAP settings (N2D's neighbours swept): a space of its own
UMAP_SETTING_FEATURES = (
    f"{RESULTS}/features/{{dataset}}/umap-{{net}}--{{umap}}/seed{{seed}}.npy"
)
UMAP_SETTINGS = {
    sweeps.setting_id(umap): umap for _, umap in SWEEP.umap_spaces.values()
}


def check_config():
    """Cross-key checks that a JSON schema cannot express; all run before any job starts."""
    unknown = [d for d in config["run_datasets"] or [] if d not in config["datasets"]]
    if unknown:
        fail(
            f"run_datasets: {', '.join(map(repr, unknown))} not in 'datasets' ({', '.join(config['datasets'])})"
        )
    check_ids()
    check_elbow_k()
    check_sweeps()
    check_selection()
    check_leaderboard_reference()
    if config["paper_results"]:
        check_paper_results(config["paper_results"])
    for method, spec in METHODS.items():
        unknown = [d for d in spec.get("datasets", []) if d not in config["datasets"]]
        if unknown:
            fail(
                f"methods.{SWEEP.method_of(method)}.datasets: {', '.join(map(repr, unknown))} not in 'datasets' "
                f"({', '.join(DATASETS)})"
            )
    for net, settings in NETS.items():
        kind = settings.get("kind", "mlp")
        if settings.get("output", "linear") != "linear" and kind != "mlp":
            fail(
                f"nets.{net}.output: {settings['output']!r} is for kind mlp only, not {kind!r}"
            )
    for dataset in DATASETS:
        check_dataset(dataset)
    for method, spec in METHODS.items():
        algorithm = spec["algorithm"]
        if not (
            method_registry.is_plugin(algorithm)
            or algorithm in method_registry.ALGORITHMS
        ):
            fail(
                f"methods.{SWEEP.method_of(method)}.algorithm: unknown algorithm {algorithm!r}; valid algorithms: "
                f"{', '.join(sorted(method_registry.ALGORITHMS))}, or a class of your own as "
                "'package.module:Class'"
            )
        if method_registry.is_plugin(algorithm):
            check_plugin(method, spec)
        elif algorithm in method_registry.FROM_SCRATCH:
            if spec.get("net") is not None:
                fail(
                    f"methods.{SWEEP.method_of(method)}.net: {algorithm} trains its own network from scratch; "
                    "remove 'net'"
                )
        elif algorithm in method_registry.DEEP_METHODS:
            if spec.get("net") not in NETS:
                fail(
                    f"methods.{SWEEP.method_of(method)}.net: {spec.get('net')!r} is not a net in 'nets' ({', '.join(NETS)})"
                )
        else:
            check_space(method, spec.get("features"))
        # The constraints fit checks (deepclust.methods.parameters, scikit-learn's estimators).
        # Not in the jobs a cluster executor spawns: they parse the Snakefile again, with the
        # config the spawning process checked, and importing scikit-learn would delay each.
        if workflow.is_main_process:
            try:
                method_registry.check_params(algorithm, spec.get("params", {}))
            except ValueError as error:
                fail(f"{config_key(method, 'params')}: {error}")


def config_key(method, key):
    """Where a method's setting comes from: methods.<id>.<key>, or the grid of a swept method."""
    if method in SWEEP.settings:
        base, values = SWEEP.settings[method]
        return f"methods.{base}.grid: {sweeps.label(values)}"
    return f"methods.{method}.{key}"


def check_sweeps():
    """Grids: each net setting within the nets schema, each UMAP setting within umap's; a swept
    net never where a dataset's `net` replaces it (every setting would run the same network).
    Each method setting's params are checked with the others' in check_config."""
    net_schema = subschema(subschema(SCHEMA_TREE, "nets"), "any")
    for name, (net, values) in SWEEP.net_settings.items():
        for error in Draft202012Validator(net_schema).iter_errors(NETS[name]):
            fail(f"nets.{net}.grid: {sweeps.label(values)}: {error.message}")
    umap_schema = subschema(SCHEMA_TREE, "umap")["properties"]
    for method, spec in config["methods"].items():
        for key, values in spec.get("grid", {}).items():
            setting = key.removeprefix("umap.")
            if setting == key:
                continue
            if setting not in umap_schema:
                fail(
                    f"methods.{method}.grid: {key!r}: UMAP has no setting {setting!r} "
                    f"(valid: {', '.join(f'umap.{k}' for k in umap_schema)})"
                )
            for value in values:
                for error in Draft202012Validator(umap_schema[setting]).iter_errors(
                    value
                ):
                    fail(f"methods.{method}.grid: {key}={value!r}: {error.message}")
    for dataset in DATASETS:
        override = config["datasets"][dataset].get("net")
        if override in SWEEP.swept_nets:
            fail(
                f"datasets.{dataset}.net: {override!r} has a grid (nets.{override}.grid); a dataset's "
                "net is one network"
            )
        for method, spec in config["methods"].items():
            net = sweeps.method_net(spec)
            runs_here = dataset in spec.get("datasets", DATASETS)
            if override and runs_here and net in SWEEP.swept_nets:
                fail(
                    f"methods.{method}: on {dataset}, whose net {override!r} replaces the method's, each "
                    f"setting of nets.{net}.grid would run the same network; narrow methods.{method}.datasets"
                )


def check_selection():
    """n_clusters: auto with a k_range; the common space of the label-free criteria a net without a
    grid (or raw); stability with 2 seeds or more."""
    for dataset in DATASETS:
        settings = config["datasets"][dataset]
        if "k_range" in settings and not auto_k(dataset):
            fail(f"datasets.{dataset}.k_range: only with n_clusters: auto")
        if not auto_k(dataset):
            continue
        if "k_range" not in settings:
            fail(
                f"datasets.{dataset}: n_clusters: auto needs k_range: [smallest k, largest k]"
            )
        low, high = settings["k_range"]
        if low > high:
            fail(
                f"datasets.{dataset}.k_range: {[low, high]} must be [smallest k, largest k]"
            )
        if settings.get("subsample") and high >= settings["subsample"]:
            fail(
                f"datasets.{dataset}.k_range: the largest k, {high}, must be below the "
                f"{settings['subsample']} samples (datasets.{dataset}.subsample)"
            )
    if not any(selection_needed(d) for d in DATASETS):
        return
    space = config["selection"]["space"]
    if space != "raw" and space not in config["nets"]:
        fail(
            f"selection.space: {space!r} is not 'raw' or a net ({', '.join(config['nets'])}); "
            "the label-free criteria and n_clusters: auto score partitions on it"
        )
    if space in SWEEP.swept_nets:
        fail(
            f"selection.space: {space!r} has a grid (nets.{space}.grid); the common space must be "
            "one network that every setting shares: add a net without a grid, or use raw"
        )
    if (
        sweeps_run()
        and config["selection"]["criterion"] == "stability"
        and len(SEEDS) < 2
    ):
        fail(
            "selection.criterion: stability compares the seeds' partitions; it needs 2 or more seeds"
        )


def check_leaderboard_reference():
    """A reference the user named must be a method: a typo would silently drop its pairwise table."""
    reference = config["leaderboard"]["reference"]
    default = subschema(subschema(SCHEMA_TREE, "leaderboard"), "reference")["default"]
    if reference in config["methods"] or reference == default:
        return
    setting = (
        f" (a setting of the swept method {SWEEP.method_of(reference)!r}: name the method)"
        if (reference in SWEEP.settings)
        else ""
    )
    fail(
        f"leaderboard.reference: {reference!r} is not a method in 'methods' ({', '.join(config['methods'])})"
        + setting
    )


def leaderboard_reference():
    """The name the reference has in the leaderboard's runs: a swept method appears there at its
    label-free choice, as "<id> (label-free)"."""
    reference = config["leaderboard"]["reference"]
    return (
        selection.LABEL_FREE.format(method=reference)
        if reference in SWEEP.swept
        else reference
    )


def check_space(method, space):
    if space is None or feature_net(space) not in (None, *NETS):
        fail(
            f"methods.{SWEEP.method_of(method)}.features: {space!r} is not 'raw', a net ({', '.join(NETS)}) "
            "or 'umap-<net>'"
        )


def check_plugin(method, spec):
    """A method of the user's own: importable, a clusterer, and given a net exactly when its
    __init__ takes the pretrained autoencoder (else a feature space to cluster, raw by default).
    """
    try:
        estimator = plugins.load(spec["algorithm"])
    except ValueError as error:
        fail(f"methods.{SWEEP.method_of(method)}.algorithm: {error}")
    if plugins.takes(estimator, "autoencoder"):
        if spec.get("net") not in NETS:
            fail(
                f"methods.{SWEEP.method_of(method)}.net: {spec['algorithm']} takes an autoencoder, so it needs a net "
                f"of 'nets' ({', '.join(NETS)}), not {spec.get('net')!r}"
            )
        if "features" in spec:
            fail(
                f"methods.{SWEEP.method_of(method)}.features: {spec['algorithm']} starts from its net's autoencoder; "
                "remove 'features'"
            )
    else:
        if spec.get("net") is not None:
            fail(
                f"methods.{SWEEP.method_of(method)}.net: {spec['algorithm']} takes no autoencoder; give it "
                "'features' (raw, a net id or umap-<net>) instead"
            )
        check_space(method, plugin_space(method))


def check_ids():
    """Ids name folders and files (the schema keeps each a plain name): two that differ only in
    case would share a folder where file names ignore case (macOS, Windows), and a deep
    method's embedding maps (embedding_<id>_umap.png, ...) must not take the name of an input space's.
    """
    for key, ids in (("datasets", DATASETS), ("nets", NETS), ("methods", METHODS)):
        seen = {}
        for name in ids:
            other = seen.setdefault(name.lower(), name)
            if other != name:
                fail(
                    f"{key}: {other!r} and {name!r} differ only in case, so they would share "
                    "a folder where file names ignore case"
                )
    for method in [*DEEP_METHOD_IDS, *PLUGIN_IDS]:
        if method.lower() in {"raw", *(net.lower() for net in NETS)}:
            fail(
                f"methods.{method}: a deep method's id names its embedding maps, which would take "
                f"the name of the input space {method!r}; rename the method"
            )


def check_elbow_k():
    """k-means and the silhouette need fewer clusters than the samples the figure draws (at
    most figures.max_points, or a dataset's subsample where that is smaller)."""
    if "elbow" not in FIGURE_KINDS:
        return
    low, high = config["figures"]["elbow_k"]
    if low > high:
        fail(f"figures.elbow_k: {[low, high]} must be [smallest k, largest k]")
    limits = {"figures.max_points": config["figures"]["max_points"]}
    for dataset in DATASETS:
        if config["datasets"][dataset].get("subsample"):
            limits[f"datasets.{dataset}.subsample"] = config["datasets"][dataset][
                "subsample"
            ]
    key, points = min(limits.items(), key=lambda item: item[1])
    if high >= points:
        fail(
            f"figures.elbow_k: the largest k, {high}, must be below the {points} samples "
            f"the figure clusters ({key})"
        )


def check_paper_results(path):
    if not Path(path).is_file():
        fail(f"paper_results: no such file {path!r}")
    try:
        reported = paper.load_reported(path)
    except paper.ReportedResultsError as error:
        fail(f"paper_results: {error}")
    known = sorted(set(reported["method"]))
    for method, spec in METHODS.items():
        if "paper_method" in spec and spec["paper_method"] not in known:
            fail(
                f"methods.{method}.paper_method: {spec['paper_method']!r} is not a method of {path} "
                f"({', '.join(known)})"
            )


def check_dataset(dataset):
    settings = config["datasets"][dataset]
    name = source_name(dataset)
    if name not in data_registry.SOURCES:
        fail(
            f"datasets.{dataset}: no 'source' and {dataset!r} is not a source name; "
            f"valid sources: {', '.join(data_registry.SOURCES)}"
        )
    source = data_registry.source(name)
    features = dataset_features(dataset)
    if features not in source.features:
        fail(
            f"datasets.{dataset}.features: {features!r} is not available for source {name}; "
            f"valid: {', '.join(source.features)}"
        )
    file_keys = {"path", "label_column", "features_key", "image_shape"} & set(settings)
    if name == "file":
        if "path" not in settings:
            fail(
                f"datasets.{dataset}.path: source 'file' needs the path of your data file"
            )
        if not Path(settings["path"]).is_file():
            fail(f"datasets.{dataset}.path: no such file {settings['path']!r}")
    elif file_keys:
        fail(
            f"datasets.{dataset}: {', '.join(sorted(file_keys))} only apply to source 'file'"
        )
    if settings.get("net") is not None and settings["net"] not in NETS:
        fail(
            f"datasets.{dataset}.net: {settings['net']!r} is not a net in 'nets' ({', '.join(NETS)})"
        )
    for method in deep_methods_on(dataset):
        net = net_of_method(dataset, method)
        if net not in NETS:  # from scratch (None), or unknown: check_config names it
            continue
        if NETS[net].get("kind") == "vae":
            fail(
                f"methods.{SWEEP.method_of(method)}: on {dataset} it would start from {net!r}, a VAE (kind vae); deep "
                "methods start from an autoencoder (kind mlp or cae), VAEs are feature spaces for baselines"
            )
        output = NETS[net].get("output", "linear")
        likelihood = METHODS[method].get("params", {}).get("likelihood", "bernoulli")
        if output != "linear" and likelihood != "bernoulli":
            fail(
                f"methods.{SWEEP.method_of(method)}: likelihood {likelihood!r} with net {net!r} "
                f"(on {dataset}), whose output is {output!r}: its decoder gives Bernoulli logits; use "
                "likelihood bernoulli or a net with output linear"
            )
        if METHODS[method]["algorithm"] == "dcec" and NETS[net].get("kind") != "cae":
            fail(
                f"methods.{SWEEP.method_of(method)}: dcec needs a convolutional net (kind cae), but on {dataset} it "
                f"would start from {net!r} (kind {NETS[net].get('kind', 'mlp')})"
            )
    for net in dataset_nets(dataset):
        if NETS[net].get("kind", "mlp") == "cae" and not has_images(dataset):
            fail(
                f"datasets.{dataset}: net {net!r} is convolutional (kind cae) but {dataset} has no "
                "image shape (image sources with raw features, or image_shape for files)"
            )


def has_images(dataset):
    """Whether a dataset's rows are images of a known shape (conv nets, sample figures)."""
    source = data_registry.source(source_name(dataset))
    raw_pixels = source.image and dataset_features(dataset) == "raw"
    return raw_pixels or "image_shape" in config["datasets"][dataset]


def source_name(dataset):
    return config["datasets"][dataset].get("source") or dataset


def dataset_features(dataset):
    settings = config["datasets"][dataset]
    return (
        settings.get("features")
        or data_registry.source(source_name(dataset)).features[0]
    )


def net_of_method(dataset, method):
    """The pretrained net a deep method starts from on a dataset; None if it needs none."""
    net = METHODS[method].get("net")
    return None if net is None else net_for(dataset, net)


def net_for(dataset, net):
    """The net a dataset uses where a method or feature space names ``net``."""
    return config["datasets"][dataset].get("net") or net


def dataset_nets(dataset):
    """Nets pretrained on a dataset (those its methods and feature spaces use)."""
    return sorted({net_for(dataset, net) for net in nets_used(dataset) if net in NETS})


def feature_net(space):
    """The net a feature space comes from: None for 'raw', 'ae' for 'ae' and 'umap-ae' (and for
    'umap-ae--n_neighbors-10', UMAP at a grid's settings)."""
    return SWEEP.space_net(space)


def is_deep(method):
    return METHODS[method]["algorithm"] in method_registry.DEEP_METHODS


def is_plugin(method):
    """A method of the user's own ("package.module:Class"): its own job per seed, as deep methods."""
    return method_registry.is_plugin(METHODS[method]["algorithm"])


def plugin_space(method):
    """The feature space a plugin without an autoencoder clusters."""
    return METHODS[method].get("features", "raw")


@lru_cache(maxsize=None)
def has_embedding(method):
    """Whether a method's runs keep an embedding: deep methods, and plugins with a transform."""
    if is_plugin(method):
        return hasattr(plugins.load(METHODS[method]["algorithm"]), "transform")
    return is_deep(method)


def ids_regex(ids):
    return "|".join(re.escape(i) for i in ids) or "(?!)"


DEEP_METHOD_IDS = [m for m in METHODS if is_deep(m)]
GENERATIVE_IDS = [
    m for m in DEEP_METHOD_IDS if METHODS[m]["algorithm"] in method_registry.GENERATIVE
]
PLUGIN_IDS = [m for m in METHODS if is_plugin(m)]
BASELINE_IDS = [m for m in METHODS if not is_deep(m) and not is_plugin(m)]


def methods_on(dataset):
    """Method ids run on a dataset: those whose `datasets` name it, or all without `datasets`."""
    return [m for m in METHODS if dataset in METHODS[m].get("datasets", DATASETS)]


def deep_methods_on(dataset):
    return [m for m in methods_on(dataset) if is_deep(m)]


def generative_methods_on(dataset):
    return [m for m in methods_on(dataset) if m in GENERATIVE_IDS]


def baselines_on(dataset):
    return [m for m in methods_on(dataset) if m in BASELINE_IDS]


def embedding_methods_on(dataset):
    """Methods whose runs keep an embedding (drawn on maps of their own); a sweep's settings are
    compared in its sensitivity figure instead (a map costs a UMAP each)."""
    return [
        m for m in methods_on(dataset) if has_embedding(m) and m not in SWEEP.settings
    ]


def swept_on(dataset):
    """Swept methods (a grid of their own, or a swept net) that run on a dataset."""
    return [
        m
        for m in SWEEP.swept
        if dataset in config["methods"][m].get("datasets", DATASETS)
    ]


def sweeps_run():
    """Whether some swept method runs on the datasets of this invocation."""
    return any(swept_on(dataset) for dataset in DATASETS)


def selection_needed(dataset):
    """Whether a dataset needs the common space: a k to choose, or settings to choose between."""
    return auto_k(dataset) or bool(swept_on(dataset))


def selection_space(dataset):
    """The common space of the label-free criteria on a dataset: raw or a net's embedding."""
    space = config["selection"]["space"]
    return space if space == "raw" else net_for(dataset, space)


def setting_values(methods):
    """{setting id: {swept key: value}} of the given swept methods' settings."""
    return {
        name: values
        for name, (method, values) in SWEEP.settings.items()
        if method in methods
    }


def setting_runs(wildcards, name):
    """A file of every run of a swept method's settings on a dataset: setting by setting, seed by seed."""
    return [
        f"{RUN}/{name}".format(dataset=wildcards.dataset, method=setting, seed=seed)
        for setting in SWEEP.settings_of(wildcards.method)
        for seed in SEEDS
    ]


def selection_scores_files():
    return [
        SELECTION_SCORES.format(dataset=dataset, method=method)
        for dataset in DATASETS
        for method in swept_on(dataset)
    ]


def method_spec(method):
    """What a run of a method depends on; `datasets` only says where it runs and
    `paper_method` what the paper table compares it with, so changing either reruns no run.
    """
    return sorted_settings(
        {
            key: value
            for key, value in METHODS[method].items()
            if key not in ("datasets", "paper_method")
        }
    )


def paper_methods():
    """Our method id -> the paper_results method id it is compared with, where they differ (a
    sweep's settings: their method's)."""
    named = {
        m: spec["paper_method"] for m, spec in METHODS.items() if "paper_method" in spec
    }
    for name, (method, _) in SWEEP.settings.items():
        named.setdefault(name, config["methods"][method].get("paper_method", method))
    return named


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


def auto_k(dataset):
    """Whether a dataset's k is chosen without labels (n_clusters: auto)."""
    return config["datasets"][dataset]["n_clusters"] == "auto"


def n_clusters(wildcards):
    """The dataset's k; with n_clusters: auto the one select_k chose (read once it ran)."""
    if auto_k(wildcards.dataset):
        choice = checkpoints.select_k.get(dataset=wildcards.dataset).output.choice
        return json.loads(Path(choice).read_text())["k"]
    return config["datasets"][wildcards.dataset]["n_clusters"]


def k_input(wildcards):
    """select_k's choice, for the jobs whose n_clusters param reads it (none for a numeric k).
    Ancient: a rerun of the choice that keeps k (a wider k_range) reruns none of them; a changed k
    reruns them through their n_clusters param."""
    if auto_k(wildcards.dataset):
        return ancient(
            checkpoints.select_k.get(dataset=wildcards.dataset).output.choice
        )
    return []


def checkpoint_file(output_folder):
    """Where a training job keeps its checkpoint: CHECKPOINTS mirrors its output folder."""
    return f"{CHECKPOINTS}/{output_folder.removeprefix(f'{RESULTS}/')}/checkpoint.pt"


# ---- inputs ------------------------------------------------------------------------
def pretrained(wildcards):
    net = net_of_method(wildcards.dataset, wildcards.method)
    if net is None:
        return []
    return f"{PRETRAIN}/model.pt".format(
        dataset=wildcards.dataset, net=net, seed=wildcards.seed
    )


def features_of(space, dataset, seed):
    """File holding feature space ``space`` of a dataset for one seed."""
    if space == "raw":
        return DATA.format(dataset=dataset)
    net = net_for(dataset, feature_net(space))
    if space in SWEEP.umap_spaces:
        umap = sweeps.setting_id(SWEEP.umap_spaces[space][1])
        return UMAP_SETTING_FEATURES.format(
            dataset=dataset, net=net, umap=umap, seed=seed
        )
    if space.startswith("umap-"):
        return UMAP_FEATURES.format(dataset=dataset, net=net, seed=seed)
    return f"{PRETRAIN}/embedding.npy".format(dataset=dataset, net=net, seed=seed)


def plugin_features(wildcards):
    """The feature space a plugin without an autoencoder clusters (none beyond the data: raw)."""
    space = plugin_space(wildcards.method)
    if "net" in METHODS[wildcards.method] or space == "raw":
        return []
    return features_of(space, wildcards.dataset, wildcards.seed)


def plugin_gpu(wildcards):
    """A plugin takes a GPU only when it takes a device to put it on."""
    estimator = plugins.load(METHODS[wildcards.method]["algorithm"])
    return uses_gpu() if plugins.takes(estimator, "device") else 0


def plugin_code(wildcards):
    """The plugin job's script and the plugin's own module: editing either reruns its runs."""
    source = plugins.source_file(METHODS[wildcards.method]["algorithm"])
    return fingerprint("cluster_plugin.py", source)


def baseline_spaces(dataset):
    """Feature spaces that some baseline on a dataset clusters."""
    return sorted({METHODS[method]["features"] for method in baselines_on(dataset)})


def run_files(name, datasets=None, seeds=None):
    """A file of every run: each dataset's methods, each seed."""
    return [
        f"{RUN}/{name}".format(dataset=dataset, method=method, seed=seed)
        for dataset in datasets or DATASETS
        for method in methods_on(dataset)
        for seed in seeds or SEEDS
    ]


def nets_used(dataset):
    """Nets that some method on a dataset starts from or clusters the embedding of (before
    the dataset's `net` replaces them)."""
    plugins_on = [m for m in methods_on(dataset) if is_plugin(m)]
    deep_nets = {
        METHODS[m].get("net") for m in [*deep_methods_on(dataset), *plugins_on]
    }
    baseline_nets = {feature_net(METHODS[m]["features"]) for m in baselines_on(dataset)}
    baseline_nets |= {
        feature_net(plugin_space(m)) for m in plugins_on if "net" not in METHODS[m]
    }
    return sorted((deep_nets | baseline_nets) - {None})


def pretrain_runs():
    return [
        f"{PRETRAIN}/run.json".format(dataset=dataset, net=net, seed=seed)
        for dataset in DATASETS
        for net in dataset_nets(dataset)
        for seed in SEEDS
    ]


def dataset_input(wildcards):
    """What preparing a dataset reads: the downloaded files, or the user's own file (so that
    editing it reruns everything downstream)."""
    name = source_name(wildcards.dataset)
    if name == "file":
        return config["datasets"][wildcards.dataset]["path"]
    source = data_registry.source(name)
    inputs = [DOWNLOAD.format(source=name)] if source.remotes else []
    model = source.models.get(dataset_features(wildcards.dataset))
    if model:
        inputs.append(MODEL_DOWNLOAD.format(model=model))
    return inputs


def preparation_settings(dataset):
    """The settings that make a dataset's prepared data (k_range only says where n_clusters: auto
    looks for k; it changes no data)."""
    settings = config["datasets"][dataset]
    return sorted_settings(
        {
            **{key: value for key, value in settings.items() if key != "k_range"},
            "features": dataset_features(dataset),
        }
    )


def has_words(dataset):
    """Whether a dataset is documents whose words the cluster-terms table can name."""
    return data_registry.source(source_name(dataset)).text


def uses_network_features(dataset):
    return (
        dataset_features(dataset)
        in data_registry.source(source_name(dataset)).network_features
    )


def preparation_threads(wildcards):
    return config["threads"]["train"] if uses_network_features(wildcards.dataset) else 1


def downloaded_sources():
    names = {source_name(dataset) for dataset in DATASETS}
    return sorted(n for n in names if data_registry.source(n).remotes)


def input_spaces(dataset):
    """Raw input and each used net's embedding."""
    return ["raw", *nets_used(dataset)]


def embedding_spaces(dataset):
    """Spaces drawn in 2-D: the input spaces and each deep method's (or plugin's) final embedding."""
    return [*input_spaces(dataset), *embedding_methods_on(dataset)]


def embedding_input(dataset, space):
    """File of a space drawn in 2-D, for the first seed."""
    if space in METHODS and has_embedding(space):
        return f"{RUN}/embedding.npy".format(
            dataset=dataset, method=space, seed=FIGURE_SEED
        )
    return features_of(space, dataset, FIGURE_SEED)


# algorithms whose run keeps its autoencoder's code as the embedding: the decoder draws a centre
DECODED_ALGORITHMS = {"dec", "idec", "dcn", "dcec", "vade"}


def centre_decoder(dataset, method):
    """The model file whose decoder draws a method's cluster centres for the first seed (None:
    none does): a deep method's fine-tuned autoencoder, or the pretrained net whose embedding a
    baseline clusters (AE + k-means)."""
    if is_deep(method):
        if METHODS[method]["algorithm"] not in DECODED_ALGORITHMS:
            return None
        return f"{RUN}/model.pt".format(
            dataset=dataset, method=method, seed=FIGURE_SEED
        )
    space = METHODS[method].get("features", "raw")
    if is_plugin(method) or space == "raw" or space.startswith("umap-"):
        return None
    net = net_for(dataset, space)
    return f"{PRETRAIN}/model.pt".format(dataset=dataset, net=net, seed=FIGURE_SEED)


def clustered_space(dataset, method):
    """The features a method's clusters were found in, for the first seed: its run's embedding,
    or the feature space it clusters."""
    if has_embedding(method):
        return embedding_input(dataset, method)
    return features_of(METHODS[method].get("features", "raw"), dataset, FIGURE_SEED)


def methods_drawn_on(dataset, space):
    """Methods whose clusters are drawn on a space's 2-D map."""
    if space in METHODS and has_embedding(space):
        return [space]
    return [
        m
        for m in baselines_on(dataset)
        if feature_net(METHODS[m]["features"]) == feature_net(space)
    ]


def figure_files():
    """The per-dataset figures the DAG draws: those of the kinds in figures.draw."""
    files = []
    for dataset in DATASETS:
        kinds = {"methods": ["methods"], "confusion": ["confusion"], "elbow": ["elbow"]}
        kinds["embedding"] = [
            f"embedding_{space}_{projection}"
            for space in embedding_spaces(dataset)
            for projection in PROJECTIONS
        ]
        if deep_methods_on(dataset):
            kinds["training_curves"] = ["training_curves"]
        if generative_methods_on(dataset) and has_images(dataset):
            kinds["samples"] = ["samples"]
        if has_images(dataset):
            kinds["centres"] = ["centres"]
        kinds["sensitivity"] = [f"sensitivity_{method}" for method in swept_on(dataset)]
        names = [name for kind in FIGURE_KINDS for name in kinds.get(kind, [])]
        if auto_k(dataset):
            names.append("select_k")  # select_k draws it beside its choice
        files += [f"{FIGURES}/{name}.png".format(dataset=dataset) for name in names]
    return files


def rule_name(prefix, dataset):
    """Rules made per dataset (their outputs depend on its methods): a valid rule name."""
    identifier = re.sub(r"\W", "_", dataset)
    return f"{prefix}_{identifier}"


def result_outputs():
    """The tables and figures: what rule all asks for besides the run folders and the MLflow sync."""
    outputs = [f"{TABLES}/summary.csv", f"{TABLES}/summary.md", *figure_files()]
    outputs += [
        f"{TABLES}/{dataset}_cluster_terms.md"
        for dataset in DATASETS
        if has_words(dataset)
    ]
    outputs += [f"{TABLES}/leaderboard.{ext}" for ext in ("md", "csv", "tex")]
    outputs.append(f"{RESULTS}/figures/critical_difference.png")
    if config["paper_results"]:
        outputs += [f"{TABLES}/paper_table.{ext}" for ext in ("csv", "md", "tex")]
    if sweeps_run():
        outputs += [
            f"{TABLES}/{name}.{ext}"
            for name in ("sensitivity", "selection")
            for ext in ("md", "csv")
        ]
        outputs.append(LABEL_FREE_RUNS)
    outputs += [
        SELECT_K.format(dataset=dataset) for dataset in DATASETS if auto_k(dataset)
    ]
    return outputs


def run_folder_files():
    """Every file of every run folder (what cluster_deep, cluster_generative and the baseline
    rules declare). Rule all names them: Snakemake remakes a missing file only for a job that
    reruns anyway, so a deleted metrics.json would otherwise stay missing while the tables that
    read it look up to date."""
    files = []
    for dataset in DATASETS:
        for method in methods_on(dataset):
            names = list(RUN_FILES)
            if is_deep(method):
                names += ["history.json", "model.pt"]
            if has_embedding(method):
                names.append("embedding.npy")
            if method in GENERATIVE_IDS:
                names.append("samples.npy")
            files += [
                f"{RUN}/{name}".format(dataset=dataset, method=method, seed=seed)
                for seed in SEEDS
                for name in names
            ]
    return files


def final_outputs():
    outputs = [*result_outputs(), *run_folder_files()]
    if config["tracking"]["enabled"]:
        outputs.append(SYNCED)
    return outputs


def figure_seed_first(wildcards):
    """Priority of a seed's training jobs: the seed the figures draw comes before the others."""
    return 1 if int(wildcards.seed) == FIGURE_SEED else 0


def tracking_input():
    """Training jobs log live only after the store exists; ancient() so that re-initialising
    the store reruns nothing. Without live logging, sync_tracking mirrors every run at the end.
    """
    tracking = config["tracking"]
    return ancient(TRACKING) if tracking["enabled"] and tracking["live"] else []


check_config()
