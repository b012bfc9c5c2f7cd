"""A method of one's own through the DAG: the example package's AE + spectral clustering (starts from
the shared autoencoder, has a transform) and a scikit-learn clusterer without either, beside DEC,
on two datasets, into the tables and the leaderboard with its tests across datasets; editing the
plugin's code reruns its runs only."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import (DEEP_PARAMS, NOTHING_TO_BE_DONE, REPO, built_in_background, copy_workflow, job,
                      parse_dry_run, run_snakemake, tiny_config, write_config)

pytestmark = pytest.mark.slow

PLUGIN = "deepclust_example.ae_spectral:AESpectral"


def plugin_config():
    config = tiny_config()
    config["seeds"] = [0, 1]
    config["datasets"]["digits_small"] = {"source": "digits", "n_clusters": 10, "preprocess": "minmax",
                                          "subsample": 150}
    config["nets"] = {"ae": config["nets"]["ae"]}
    config["methods"] = {
        "dec": {"algorithm": "dec", "net": "ae", "params": dict(DEEP_PARAMS)},
        "ae-spectral": {"algorithm": PLUGIN, "net": "ae", "params": {"n_neighbors": 8}},
        "spectral-raw": {"algorithm": "sklearn.cluster:SpectralClustering", "params": {"n_neighbors": 8,
                                                                                      "affinity": "nearest_neighbors"}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
    }
    config["tracking"] = {"enabled": False}
    config["figures"]["draw"] = ["embedding"]  # the plugin's own map; the other kinds are the full run's
    return config


@built_in_background
def plugin_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("plugin") / "wf")
    shutil.copytree(REPO / "examples", workdir / "examples")
    write_config(workdir, plugin_config())
    env = {"PYTHONPATH": f"{workdir / 'src'}:{workdir / 'examples'}"}
    result = run_snakemake(workdir, timeout=900, env=env)
    assert result.returncode == 0, result.tail(150)
    return workdir, env


def test_plugins_run_beside_dec_and_reach_the_tables_and_the_leaderboard(plugin_run):
    workdir, _ = plugin_run
    run = workdir / "results/runs/digits"
    metrics = json.loads((run / "ae-spectral/seed0/metrics.json").read_text())
    assert 0.0 < metrics["acc"] <= 1.0 and "silhouette_embedding" in metrics  # scored in its transform's space
    assert np.load(run / "ae-spectral/seed0/embedding.npy").shape[1] == 4  # the shared autoencoder's embedding
    assert (run / "spectral-raw/seed0/labels.npy").exists() and not (run / "spectral-raw/seed0/embedding.npy").exists()
    runs = pd.read_csv(workdir / "results/tables/runs.csv")
    assert set(runs["method"]) == {"dec", "ae-spectral", "spectral-raw", "kmeans-raw"}
    board = (workdir / "results/tables/leaderboard.md").read_text()
    assert "| ae-spectral |" in board and "### ACC: against kmeans-raw" in board
    assert "Friedman test over 2 datasets and 4 methods" in board
    leaderboard = pd.read_csv(workdir / "results/tables/leaderboard.csv")
    assert set(leaderboard["dataset"]) == {"digits", "digits_small"} and (leaderboard["seeds"] == 2).all()
    assert (workdir / "results/figures/critical_difference.png").stat().st_size > 10000
    assert (workdir / "results/figures/digits/embedding_ae-spectral_umap.png").stat().st_size > 0


def test_editing_the_plugin_reruns_its_runs_only(plugin_run, tmp_path):
    source, env = plugin_run
    workdir = tmp_path / "wf"
    shutil.copytree(source, workdir, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    env = {"PYTHONPATH": f"{workdir / 'src'}:{workdir / 'examples'}"}
    assert NOTHING_TO_BE_DONE in run_snakemake(workdir, "-n", env=env).output
    module = workdir / "examples/deepclust_example/ae_spectral.py"
    module.write_text(module.read_text().replace('assign_labels="cluster_qr"', 'assign_labels="discretize"'))

    plan = parse_dry_run(run_snakemake(workdir, "-n", env=env).output)

    assert job("cluster_plugin", dataset="digits", method="ae-spectral", seed="0") in plan.jobs
    assert not {"cluster_deep", "cluster_plugin_labels", "pretrain_autoencoder"} & plan.rules
