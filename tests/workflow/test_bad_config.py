"""A bad config is refused while the Snakefile is parsed: non-zero exit, a message naming the
problem, and no job started (no results/ directory)."""

import pytest
from conftest import run_snakemake, tiny_config, write_config

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


CASES = [unknown_top_level_key, seeds_not_integers, zero_epochs, negative_epochs, one_cluster,
         unknown_algorithm, missing_net, unknown_deep_param, unknown_feature_space, unknown_source,
         dataset_id_is_not_a_source, features_not_offered, user_file_missing, conv_net_on_data_without_image_shape,
         dcec_on_a_fully_connected_net, net_for_a_method_trained_from_scratch, deep_method_on_a_vae,
         vae_likelihood_misspelt, sigmoid_output_on_a_conv_net, gaussian_vade_on_a_sigmoid_net,
         method_on_an_unknown_dataset, method_on_no_dataset, unknown_precision, results_folder_with_a_wildcard]


@pytest.mark.parametrize("break_config", CASES, ids=[case.__name__ for case in CASES])
def test_bad_config_is_refused_before_any_job(fresh_copy, break_config, tmp_path):
    config = tiny_config()
    needs_dir = "tmp_path" in break_config.__code__.co_varnames[:break_config.__code__.co_argcount]
    expected = break_config(config, tmp_path) if needs_dir else break_config(config)
    write_config(fresh_copy, config)

    result = run_snakemake(fresh_copy, "-n")

    assert result.returncode != 0, result.tail()
    for text in expected:
        assert text in result.output, f"{text!r} not in the error output:\n{result.tail()}"
    assert "Building DAG of jobs" not in result.output, result.tail()
    assert not (fresh_copy / "results").exists()
