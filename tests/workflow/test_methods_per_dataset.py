"""`methods.<id>.datasets` runs a method on some datasets only: the plan (a dry run of a fresh
copy) has its jobs, nets and figures there and nowhere else."""

import pytest
from conftest import job, parse_dry_run, run_snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow

SMALL, CONV = "digits", "digits_cae"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    from conftest import copy_workflow
    workdir = copy_workflow(tmp_path_factory.mktemp("per-dataset"))
    config = tiny_config()
    config["datasets"][CONV] = {**config["datasets"][SMALL], "source": "digits", "net": "cae"}
    config["nets"]["cae"] = {"kind": "cae", "filters": [4, 8, 8], "embedding_dim": 4, "epochs": 1}
    config["figures"]["projection"] = ["umap", "tsne"]
    config["methods"] = {
        "dec": {"algorithm": "dec", "net": "ae", "datasets": [SMALL], "params": {"max_epochs": 1}},
        # DCEC refuses an MLP: without `datasets` this config would be refused (test_bad_config)
        "dcec": {"algorithm": "dcec", "net": "ae", "datasets": [CONV], "params": {"max_epochs": 1}},
        "vade": {"algorithm": "vade", "net": "ae", "datasets": [SMALL], "params": {"max_epochs": 1}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
        "agglomerative-vae": {"algorithm": "agglomerative", "features": "vae", "datasets": [SMALL]},
    }
    write_config(workdir, config)
    result = run_snakemake(workdir, "-n")
    assert result.returncode == 0, result.tail()
    return parse_dry_run(result.output), result


def test_deep_methods_run_only_where_listed(plan):
    planned, result = plan
    deep_jobs = planned.of_rule("cluster_deep") | planned.of_rule("cluster_generative")
    runs = {(dict(w)["dataset"], dict(w)["method"]) for _, w in deep_jobs}
    assert runs == {(SMALL, "dec"), (SMALL, "vade"), (CONV, "dcec")}, result.tail(200)


def test_each_dataset_pretrains_only_the_nets_its_methods_use(plan):
    planned, result = plan
    nets = {(dict(w)["dataset"], dict(w)["net"]) for _, w in planned.of_rule("pretrain_autoencoder")}
    assert nets == {(SMALL, "ae"), (SMALL, "vae"), (CONV, "cae")}, result.tail(200)


def test_baselines_and_figures_follow_the_datasets_methods(plan):
    planned, result = plan
    outputs = planned.outputs
    assert f"results/runs/{SMALL}/agglomerative-vae/seed0/labels.npy" in outputs
    assert not any(p.startswith(f"results/runs/{CONV}/agglomerative-vae/") for p in outputs)
    assert f"results/runs/{CONV}/kmeans-raw/seed0/labels.npy" in outputs
    assert f"results/figures/{SMALL}/samples.png" in outputs        # VaDE runs there
    assert f"results/figures/{CONV}/samples.png" not in outputs     # no generative method
    assert {f"results/figures/{CONV}/embedding_dcec_{projection}.png" for projection in ("umap", "tsne")} <= outputs
    assert f"results/figures/{SMALL}/embedding_dcec_umap.png" not in outputs
    assert f"results/figures/{CONV}/embedding_vae_tsne.png" not in outputs
    assert job("cluster_baselines_digits_cae", dataset=CONV, seed=0) in planned.jobs
