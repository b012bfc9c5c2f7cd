"""A bad config is refused while the Snakefile is parsed: non-zero exit, a message naming the
problem, and no job started (no results/ directory)."""

import functools

import pytest
from conftest import copy_tree, run_snakemake, selected_params, side_by_side, tiny_config, write_config

pytestmark = pytest.mark.slow  # each case parses the workflow in a fresh snakemake process


def unknown_top_level_key(config):
    config["bogus_setting"] = 1
    return ["bogus_setting"]


def seeds_not_integers(config):
    config["seeds"] = "zero"
    return ["zero", "seeds"]


def zero_epochs(config):
    config["nets"]["ae"]["epochs"] = 0
    return ["epochs", "minimum of 1"]


def negative_epochs(config):
    config["nets"]["ae"]["epochs"] = -3
    return ["epochs", "-3"]


def one_cluster(config):
    config["datasets"]["digits"]["n_clusters"] = 1
    return ["n_clusters", "minimum of 2"]


def unknown_algorithm(config):
    config["methods"]["kmeans-raw"]["algorithm"] = "kmedoids"
    # the message lists the valid algorithms
    return ["kmedoids", "dec", "idec", "dcn", "kmeans", "gmm", "agglomerative", "dbscan", "hdbscan"]


def missing_net(config):
    config["methods"]["idec"]["net"] = "rbm"
    return ["methods.idec.net", "rbm"]


def unknown_deep_param(config):
    config["methods"]["dec"]["params"]["learning_rate"] = 0.1
    # the message lists the valid parameters
    return ["methods.dec.params", "learning_rate", "update_interval", "max_epochs", "tol", "momentum"]


def unknown_feature_space(config):
    config["methods"]["hdbscan-umap-ae"]["features"] = "umap-nonexistent"
    return ["methods.hdbscan-umap-ae.features", "umap-nonexistent"]


def unknown_source(config):
    config["datasets"]["digits"]["source"] = "imagenet"
    return ["imagenet", "mnist", "fashion_mnist", "20newsgroups", "file"]


def dataset_id_is_not_a_source(config):
    config["datasets"]["mydata"] = config["datasets"].pop("digits")
    return ["datasets.mydata: no 'source' and 'mydata' is not a source name", "valid sources"]


def features_not_offered(config):
    config["datasets"]["digits"]["features"] = "resnet50"
    return ["datasets.digits.features", "'resnet50' is not available for source digits", "valid: raw"]


def user_file_missing(config):
    config["datasets"]["digits"].update(source="file", path="data/nowhere.csv")
    return ["datasets.digits.path", "no such file 'data/nowhere.csv'"]


def conv_net_on_data_without_image_shape(config, tmp_path):
    (tmp_path / "table.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    config["datasets"]["digits"].update(source="file", path=str(tmp_path / "table.csv"), n_clusters=2,
                                        net="cae", subsample=None)
    config["nets"]["cae"] = {"kind": "cae"}
    return ["datasets.digits: net 'cae' is convolutional (kind cae)", "no image shape"]


def dcec_on_a_fully_connected_net(config):
    config["methods"]["dec"]["algorithm"] = "dcec"
    return ["methods.dec: dcec needs a convolutional net (kind cae)", "'ae' (kind mlp)"]


def net_for_a_method_trained_from_scratch(config):
    config["methods"]["infogan"]["net"] = "ae"
    return ["methods.infogan.net: infogan trains its own network from scratch; remove 'net'"]


def deep_method_on_a_vae(config):
    config["nets"]["vae"] = {"kind": "vae"}
    config["methods"]["dec"]["net"] = "vae"
    return ["methods.dec: on digits it would start from 'vae', a VAE (kind vae)"]


def sigmoid_output_on_a_conv_net(config):
    config["nets"]["cae"] = {"kind": "cae", "output": "sigmoid"}
    return ["nets.cae.output: 'sigmoid' is for kind mlp only, not 'cae'"]


def gaussian_vade_on_a_sigmoid_net(config):
    config["nets"]["ae"]["output"] = "sigmoid"
    config["methods"]["vade"]["params"]["likelihood"] = "gaussian"
    return ["methods.vade: likelihood 'gaussian' with net 'ae' (on digits), whose output is 'sigmoid'"]


def method_on_an_unknown_dataset(config):
    config["methods"]["jule"]["datasets"] = ["digits", "mnsit"]
    return ["methods.jule.datasets", "'mnsit'", "digits"]


def method_on_no_dataset(config):
    config["methods"]["jule"]["datasets"] = []
    return ["datasets", "[]"]


def vae_likelihood_misspelt(config):
    config["nets"]["vae"] = {"kind": "vae", "likelihood": "binomial"}
    return ["likelihood", "binomial"]


def unknown_precision(config):
    config["precision"] = "fp16"
    return ["precision", "fp16", "'fp32', 'tf32', 'bf16'"]


def results_folder_with_a_wildcard(config):
    config["results"] = "results/{dataset}"
    return ["results/{dataset}", "does not match"]


def method_id_is_dot_dot(config):
    # '..' would write every dataset's runs into one folder, runs/seed0/ of the results folder
    config["methods"][".."] = config["methods"].pop("kmeans-raw")
    return ["'..' does not match", "methods"]


def method_id_is_a_hidden_name(config):
    config["methods"][".kmeans"] = config["methods"].pop("kmeans-raw")
    return ["'.kmeans' does not match", "methods"]


def method_ids_differ_only_in_case(config):
    config["methods"]["DEC"] = dict(config["methods"]["dec"])
    return ["methods: 'dec' and 'DEC' differ only in case"]


def deep_method_named_like_a_net(config):
    config["methods"]["ae"] = config["methods"].pop("dec")
    return ["methods.ae: a deep method's id names its embedding map", "'ae'"]


def learning_rate_not_a_number(config):
    config["methods"]["dec"]["params"]["lr"] = "abc"
    return ["methods.dec.params: The 'lr' parameter of DEC must be a float in the range (0.0, inf). Got 'abc'"]


def zero_batch_size(config):
    config["methods"]["vade"]["params"]["batch_size"] = 0
    return ["methods.vade.params: The 'batch_size' parameter of VaDE must be an int in the range [1, inf). Got 0"]


def option_of_a_from_scratch_method_misspelt(config):
    config["methods"]["jule"]["params"]["final_clustering"] = "kmeans"
    return ["methods.jule.params: The 'final_clustering' parameter of JULE must be a str among", "'recurrent'"]


def pretraining_setting_in_params(config):
    config["methods"]["idec"]["params"]["embedding_dim"] = 5
    return ["methods.idec.params: embedding_dim: in the workflow idec starts from its net", "nets.<id>"]


def workflow_setting_in_params(config):
    config["methods"]["dcn"]["params"]["n_clusters"] = 3
    return ["methods.dcn.params: n_clusters: set by the workflow"]


def image_shape_in_params(config):
    config["methods"]["infogan"]["params"]["image_shape"] = [1, 8, 8]
    return ["methods.infogan.params: image_shape: infogan takes it from the dataset"]


def unknown_baseline_param(config):
    config["methods"]["kmeans-raw"]["params"] = {"foo": 1}
    return ["methods.kmeans-raw.params: unknown parameter(s) ['foo'] for KMeans; valid: init, n_init"]


def baseline_param_out_of_range(config):
    config["methods"]["hdbscan-umap-ae"]["params"] = {"min_cluster_size": 1}
    return ["methods.hdbscan-umap-ae.params: The 'min_cluster_size' parameter of HDBSCAN must be an int in the "
            "range [2, inf). Got 1"]


def paper_results_not_a_results_file(config, tmp_path):
    (tmp_path / "notes.txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    config["paper_results"] = str(tmp_path / "notes.txt")
    return ["paper_results: ", "notes.txt: no 'papers' mapping"]


def elbow_k_above_the_samples(config):
    config["figures"]["elbow_k"] = [2, 500]
    return ["figures.elbow_k: the largest k, 500, must be below the 300 samples", "datasets.digits.subsample"]


def elbow_k_reversed(config):
    config["figures"]["elbow_k"] = [20, 2]
    return ["figures.elbow_k: [20, 2] must be [smallest k, largest k]"]


def unknown_projection(config):
    config["figures"]["projection"] = ["umap", "pca"]
    return ["['figures']['projection']", "'pca' is not one of ['umap', 'tsne']"]


def unknown_figure_kind(config):
    config["figures"]["draw"] = ["confusion", "umap"]
    return ["['figures']['draw']", "'umap' is not one of ['methods', 'confusion'"]


def seed_beyond_numpys_range(config):
    config["seeds"] = [0, 2**32]
    return ["4294967296", "maximum"]


def plugin_that_does_not_import(config):
    config["methods"]["mine"] = {"algorithm": "my_package.my_module:MyMethod"}
    return ["methods.mine.algorithm", "cannot import 'my_package.my_module'", "PYTHONPATH"]


def plugin_that_sets_no_labels(config):
    config["methods"]["pca"] = {"algorithm": "sklearn.decomposition:PCA"}
    return ["sklearn.decomposition:PCA does not set labels_"]


def plugin_param_not_in_its_signature(config):
    config["methods"]["birch"] = {"algorithm": "sklearn.cluster:Birch", "params": {"treshold": 0.3}}
    return ["methods.birch.params", "unknown parameter(s) ['treshold']", "threshold"]


def plugin_param_out_of_range(config):
    config["methods"]["birch"] = {"algorithm": "sklearn.cluster:Birch", "params": {"threshold": -1.0}}
    return ["methods.birch.params", "'threshold' parameter of Birch must be a float in the range (0.0, inf)"]


def plugin_without_autoencoder_given_a_net(config):
    config["methods"]["birch"] = {"algorithm": "sklearn.cluster:Birch", "net": "ae"}
    return ["methods.birch.net", "takes no autoencoder", "features"]


def grid_with_an_unknown_param(config):
    config["methods"]["dec"]["grid"] = {"learning_rate": [0.1, 0.01]}
    return ["methods.dec.grid: learning_rate=0.1", "learning_rate", "update_interval"]


def grid_with_an_empty_list(config):
    config["methods"]["dec"]["grid"] = {"lr": []}
    return ["grid", "lr", "[]"]


def grid_value_the_estimator_refuses(config):
    config["methods"]["dec"]["grid"] = {"lr": [0.1, -1.0]}
    return ["methods.dec.grid: lr=-1.0: The 'lr' parameter of DEC must be a float in the range (0.0, inf). Got -1.0"]


def grid_value_a_plugin_refuses(config):
    config["methods"]["birch"] = {"algorithm": "sklearn.cluster:Birch", "grid": {"threshold": [0.5, -1.0]}}
    return ["methods.birch.grid: threshold=-1.0", "'threshold' parameter of Birch must be a float in the range (0.0, inf)"]


def grid_value_that_cannot_name_a_folder(config):
    config["methods"]["dcn"]["grid"] = {"lambda_": ["a/b"]}
    return ["methods.dcn.grid.lambda_: 'a/b' cannot name a folder"]


def net_setting_in_a_method_grid(config):
    config["methods"]["dec"]["grid"] = {"ae.epochs": [1, 2]}
    return ["methods.dec.grid: 'ae.epochs': sweep a net's settings under nets.ae.grid"]


def net_grid_value_out_of_range(config):
    config["nets"]["ae"]["grid"] = {"epochs": [1, 0]}
    config["selection"] = {"space": "raw"}
    return ["nets.ae.grid: epochs=0: 0 is less than the minimum of 1"]


def net_grid_with_an_unknown_setting(config):
    config["nets"]["ae"]["grid"] = {"epoch": [1, 2]}
    return ["'epoch' is not one of", "epochs"]


def umap_grid_with_an_unknown_setting(config):
    config["methods"]["hdbscan-umap-ae"]["grid"] = {"umap.neighbours": [5, 10]}
    return ["methods.hdbscan-umap-ae.grid: 'umap.neighbours': UMAP has no setting 'neighbours'", "umap.n_neighbors"]


def paper_setting_not_swept(config):
    config["methods"]["dec"]["grid"] = {"lr": [0.1, 0.01]}
    config["methods"]["dec"]["paper_setting"] = {"update_interval": 140}
    return ["methods.dec.paper_setting: update_interval not swept"]


def selection_space_is_a_swept_net(config):
    config["nets"]["ae"]["grid"] = {"epochs": [1, 2]}
    return ["selection.space: 'ae' has a grid (nets.ae.grid)"]


def stability_with_one_seed(config):
    config["seeds"] = [0]
    config["methods"]["dec"]["grid"] = {"lr": [0.1, 0.01]}
    config["selection"] = {"criterion": "stability"}
    return ["selection.criterion: stability compares the seeds' partitions; it needs 2 or more seeds"]


def auto_k_without_a_range(config):
    config["datasets"]["digits"]["n_clusters"] = "auto"
    return ["datasets.digits: n_clusters: auto needs k_range"]


def auto_k_range_above_the_samples(config):
    config["datasets"]["digits"].update(n_clusters="auto", k_range=[2, 300])
    return ["datasets.digits.k_range: the largest k, 300, must be below the 300 samples"]


def n_clusters_neither_a_number_nor_auto(config):
    config["datasets"]["digits"]["n_clusters"] = "many"
    return ["n_clusters", "'many' does not match '^auto$'"]


def k_range_with_a_given_k(config):
    config["datasets"]["digits"]["k_range"] = [2, 20]
    return ["datasets.digits.k_range: only with n_clusters: auto"]


def leaderboard_reference_misspelt(config):
    config["leaderboard"] = {"reference": "kmeans_raw"}
    return ["leaderboard.reference: 'kmeans_raw' is not a method in 'methods'", "kmeans-raw"]


def leaderboard_reference_a_swept_setting(config):
    config["methods"]["dec"]["grid"] = {"lr": [0.1, 0.01]}
    config["leaderboard"] = {"reference": "dec--lr-0.1"}
    return ["leaderboard.reference: 'dec--lr-0.1' is not a method", "a setting of the swept method 'dec': name the method"]


CASES = [unknown_top_level_key, seeds_not_integers, zero_epochs, negative_epochs, one_cluster,
         unknown_algorithm, missing_net, unknown_deep_param, unknown_feature_space, unknown_source,
         dataset_id_is_not_a_source, features_not_offered, user_file_missing, conv_net_on_data_without_image_shape,
         dcec_on_a_fully_connected_net, net_for_a_method_trained_from_scratch, deep_method_on_a_vae,
         vae_likelihood_misspelt, sigmoid_output_on_a_conv_net, gaussian_vade_on_a_sigmoid_net,
         method_on_an_unknown_dataset, method_on_no_dataset, unknown_precision, method_id_is_dot_dot,
         method_id_is_a_hidden_name, method_ids_differ_only_in_case, deep_method_named_like_a_net,
         learning_rate_not_a_number, zero_batch_size, option_of_a_from_scratch_method_misspelt,
         pretraining_setting_in_params, workflow_setting_in_params, image_shape_in_params, unknown_baseline_param,
         baseline_param_out_of_range, paper_results_not_a_results_file, elbow_k_above_the_samples, elbow_k_reversed,
         unknown_projection, unknown_figure_kind, seed_beyond_numpys_range, results_folder_with_a_wildcard,
         plugin_that_does_not_import,
         plugin_that_sets_no_labels, plugin_param_not_in_its_signature, plugin_param_out_of_range,
         plugin_without_autoencoder_given_a_net, grid_with_an_unknown_param, grid_with_an_empty_list,
         grid_value_the_estimator_refuses, grid_value_a_plugin_refuses, grid_value_that_cannot_name_a_folder,
         net_setting_in_a_method_grid, net_grid_value_out_of_range, net_grid_with_an_unknown_setting,
         umap_grid_with_an_unknown_setting, paper_setting_not_swept, selection_space_is_a_swept_net,
         stability_with_one_seed, auto_k_without_a_range, auto_k_range_above_the_samples,
         n_clusters_neither_a_number_nor_auto, k_range_with_a_given_k, leaderboard_reference_misspelt,
         leaderboard_reference_a_swept_setting]


@pytest.fixture(scope="module")
def refusals(request, pristine_workflow, tmp_path_factory):
    """Every selected case's config and dry run: {case name: (expected texts, workdir, result)}. The
    dry runs, a second or two of one core each, run side by side."""
    cases = {}
    for break_config in selected_params(request, "test_bad_config_is_refused_before_any_job", "break_config"):
        workdir = copy_tree(pristine_workflow, tmp_path_factory.mktemp(break_config.__name__) / "wf")
        config = tiny_config()
        needs_dir = "tmp_path" in break_config.__code__.co_varnames[:break_config.__code__.co_argcount]
        expected = break_config(config, workdir.parent) if needs_dir else break_config(config)
        write_config(workdir, config)
        cases[break_config.__name__] = expected, workdir
    results = side_by_side({name: functools.partial(run_snakemake, workdir, "-n")
                            for name, (_, workdir) in cases.items()})
    return {name: (*cases[name], results[name]) for name in cases}


@pytest.mark.parametrize("break_config", CASES, ids=[case.__name__ for case in CASES])
def test_bad_config_is_refused_before_any_job(refusals, break_config):
    expected, workdir, result = refusals[break_config.__name__]

    assert result.returncode != 0, result.tail()
    for text in expected:
        assert text in result.output, f"{text!r} not in the error output:\n{result.tail()}"
    assert "Building DAG of jobs" not in result.output, result.tail()
    assert not (workdir / "results").exists()


@pytest.mark.parametrize("override, expected", [
    ("threads={train: 0}", ["threads", "train", "minimum of 1"]),
    ("seeds=[0, -1]", ["-1", "minimum of 0"]),
], ids=["zero-threads", "negative-seed"])
def test_bad_config_is_refused_from_the_command_line(fresh_copy, override, expected):
    """--config values are read as YAML, so they meet the same checks as a config file's."""
    write_config(fresh_copy, tiny_config())

    result = run_snakemake(fresh_copy, "-n", "--config", override)

    assert result.returncode != 0, result.tail()
    for text in expected:
        assert text in result.output, f"{text!r} not in the error output:\n{result.tail()}"
    assert "Building DAG of jobs" not in result.output, result.tail()
    assert not (fresh_copy / "results").exists()
