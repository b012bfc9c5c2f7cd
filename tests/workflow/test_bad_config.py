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
    config["methods"]["idec"]["net"] = "vae"
    return ["methods.idec.net", "vae"]


def unknown_deep_param(config):
    config["methods"]["dec"]["params"]["learning_rate"] = 0.1
    # the message lists the valid parameters
    return ["methods.dec.params", "learning_rate", "update_interval", "max_epochs", "tol", "momentum"]


def unknown_feature_space(config):
    config["methods"]["hdbscan-umap-ae"]["features"] = "umap-nonexistent"
    return ["methods.hdbscan-umap-ae.features", "umap-nonexistent"]


CASES = [unknown_top_level_key, seeds_not_integers, zero_epochs, negative_epochs, one_cluster,
         unknown_algorithm, missing_net, unknown_deep_param, unknown_feature_space]


@pytest.mark.parametrize("break_config", CASES, ids=[case.__name__ for case in CASES])
def test_bad_config_is_refused_before_any_job(fresh_copy, break_config):
    config = tiny_config()
    expected = break_config(config)
    write_config(fresh_copy, config)

    result = run_snakemake(fresh_copy, "-n")

    assert result.returncode != 0, result.tail()
    for text in expected:
        assert text in result.output, f"{text!r} not in the error output:\n{result.tail()}"
    assert "Building DAG of jobs" not in result.output, result.tail()
    assert not (fresh_copy / "results").exists()
