"""Sweeps and choosing without labels through the real DAG: a grid over DEC (two values of two
params) and over N2D's UMAP neighbours, with two seeds, on digits and on a copy of digits whose k is
unknown. The run writes the sensitivity and selection tables and figures and the leaderboard at the
label-free choice; `n_clusters: auto` chooses a plausible k that every method takes; adding a value
reruns only its runs; a grid over a net pretrains once per value; the default criterion, stability,
has the silhouette stand in for it with one seed."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import (DEEP_PARAMS, NOTHING_TO_BE_DONE, built_in_background, copy_workflow, job, parse_dry_run,
                      read_config, run_snakemake, tiny_config, write_config)

pytestmark = pytest.mark.slow

SEEDS = [0, 1]
DATASETS = ["digits", "digits_k"]
DEC = ["dec--lr-0.1--update_interval-5", "dec--lr-0.1--update_interval-10",
       "dec--lr-0.01--update_interval-5", "dec--lr-0.01--update_interval-10"]
N2D = ["n2d--umap.n_neighbors-5", "n2d--umap.n_neighbors-10"]
SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def sweep_config():
    config = tiny_config()
    config["seeds"] = SEEDS
    config["datasets"] = {
        "digits": {"n_clusters": 10, "preprocess": "minmax", "subsample": 300},
        "digits_k": {"source": "digits", "n_clusters": "auto", "k_range": [2, 15], "preprocess": "minmax",
                     "subsample": 300},
    }
    # an embedding good enough for the silhouette to find the digits' k
    config["nets"] = {"ae": {"hidden_dims": [64, 64], "embedding_dim": 8, "epochs": 20, "batch_size": 32}}
    config["methods"] = {
        "dec": {"algorithm": "dec", "net": "ae", "params": dict(DEEP_PARAMS),
                "grid": {"lr": [0.1, 0.01], "update_interval": [5, 10]},
                "paper_setting": {"lr": 0.01, "update_interval": 10}},
        "n2d": {"algorithm": "gmm", "features": "umap-ae", "grid": {"umap.n_neighbors": [5, 10]},
                "paper_setting": {"umap.n_neighbors": 10}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
        "hdbscan-raw": {"algorithm": "hdbscan", "features": "raw"},
    }
    config["selection"] = {"space": "ae", "criterion": "silhouette"}
    config["leaderboard"] = {"reference": "dec"}  # a swept method: compared at its label-free choice
    config["tracking"] = {"enabled": False}
    config["figures"]["draw"] = ["sensitivity"]  # the sweep's own (the other kinds are the full run's)
    return config


@built_in_background
def sweep_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("sweep") / "wf")
    write_config(workdir, sweep_config())
    result = run_snakemake(workdir, timeout=1500)
    assert result.returncode == 0, result.tail(150)
    return workdir


@pytest.fixture
def sweep_copy(sweep_run, tmp_path):
    return shutil.copytree(sweep_run, tmp_path / "wf", symlinks=True, ignore=shutil.ignore_patterns("locks"))


def test_every_setting_runs_in_a_folder_of_its_own(sweep_run):
    runs = sweep_run / "results/runs"
    for dataset in DATASETS:
        found = {path.name for path in (runs / dataset).iterdir()}
        assert found == {*DEC, *N2D, "kmeans-raw", "hdbscan-raw"}
        assert all(SAFE.match(name) for name in found)
        run = json.loads((runs / dataset / DEC[2] / "seed1/run.json").read_text())
        assert run["params"]["params"]["lr"] == 0.01 and run["params"]["params"]["update_interval"] == 5
        assert run["key"] == f"{dataset}/{DEC[2]}/seed1" and "grid" not in run["params"]
    # settings of a method grid share the pretrained net; each UMAP setting has its space
    assert sorted(p.name for p in (sweep_run / "results/pretrain/digits").iterdir()) == ["ae"]
    assert sorted(p.name for p in (sweep_run / "results/features/digits").iterdir()) == [
        "umap-ae--n_neighbors-10", "umap-ae--n_neighbors-5"]


def test_the_sensitivity_table_and_figures_cover_every_setting(sweep_run):
    table = pd.read_csv(sweep_run / "results/tables/sensitivity.csv")
    dec = table[(table["dataset"] == "digits") & (table["method"] == "dec")]
    assert list(dec["setting"]) == DEC and (dec["seeds"] == 2).all()
    assert list(dec["paper"]) == [False, False, False, True]
    assert dec["acc_mean"].between(0, 1).all() and dec["stability"].between(-1, 1).all()
    assert set(table["method"]) == {"dec", "n2d"} and set(table["dataset"]) == set(DATASETS)
    markdown = (sweep_run / "results/tables/sensitivity.md").read_text()
    assert "## digits: dec" in markdown and "## digits_k: n2d" in markdown and "paper" in markdown
    for dataset in DATASETS:
        for method in ("dec", "n2d"):
            assert (sweep_run / f"results/figures/{dataset}/sensitivity_{method}.png").stat().st_size > 10000


def test_swept_settings_get_no_map_of_their_own(sweep_copy):
    """A map per setting would be dozens of near-identical maps: the input spaces (raw, the
    autoencoder's embedding) are drawn, no swept deep method's embedding."""
    result = run_snakemake(sweep_copy, "-n", "--config", "figures={draw: [embedding]}")

    assert result.returncode == 0, result.tail()
    maps = {path for path in parse_dry_run(result.output).outputs if "/embedding_" in path}
    for dataset in DATASETS:
        assert f"results/figures/{dataset}/embedding_ae_umap.png" in maps, result.tail(200)
    assert not any("embedding_dec" in path for path in maps), sorted(maps)


def test_the_label_free_choice_is_reported_beside_the_label_best_and_ranked_alone(sweep_run):
    choices = pd.read_csv(sweep_run / "results/tables/selection.csv")
    assert set(choices["criterion"]) == {"silhouette", "davies_bouldin", "calinski_harabasz", "stability"}
    dec = choices[(choices["dataset"] == "digits") & (choices["method"] == "dec")].set_index("criterion")
    assert set(dec["chosen"]) <= set(DEC) and dec["best_acc_setting"].iloc[0] in DEC
    assert (dec["acc_given_up"] >= 0).all()
    assert np.allclose(dec["best_acc"] - dec["chosen_acc"], dec["acc_given_up"])
    assert "**silhouette**" in (sweep_run / "results/tables/selection.md").read_text()
    # the leaderboard ranks each swept method once, at the silhouette's choice
    free = pd.read_csv(sweep_run / "results/tables/runs_label_free.csv")
    assert set(free["method"]) == {"dec (label-free)", "n2d (label-free)", "kmeans-raw", "hdbscan-raw"}
    runs = pd.read_csv(sweep_run / "results/tables/runs.csv")
    chosen = dec.loc["silhouette", "chosen"]
    expected = runs[(runs["dataset"] == "digits") & (runs["method"] == chosen)]["acc"]
    got = free[(free["dataset"] == "digits") & (free["method"] == "dec (label-free)")]["acc"]
    assert sorted(got) == sorted(expected)
    board = (sweep_run / "results/tables/leaderboard.md").read_text()
    assert "| dec (label-free) |" in board and "| n2d (label-free) |" in board and "dec--" not in board
    assert "### ACC: against dec (label-free)" in board
    assert set(runs["method"]) == {*DEC, *N2D, "kmeans-raw", "hdbscan-raw"}  # the summary keeps every setting


def test_auto_chooses_a_plausible_k_that_every_method_takes(sweep_run):
    choice = json.loads((sweep_run / "results/select_k/digits_k/k.json").read_text())
    curve = json.loads((sweep_run / "results/select_k/digits_k/curve.json").read_text())
    k = choice["k"]
    assert 7 <= k <= 13, curve  # ten digits, some of them alike
    assert curve["curve"]["k"] == list(range(2, 16)) and curve["space"] == "ae"
    assert (sweep_run / "results/figures/digits_k/select_k.png").stat().st_size > 10000
    runs = pd.read_csv(sweep_run / "results/tables/runs.csv")
    assert (runs.loc[runs["dataset"] == "digits_k", "n_clusters_selected"] == k).all()
    assert runs.loc[runs["dataset"] == "digits", "n_clusters_selected"].isna().all()
    assert len(np.unique(np.load(sweep_run / "results/runs/digits_k/kmeans-raw/seed0/labels.npy"))) == k
    for method in (DEC[0], N2D[0]):  # k clusters at most (one may empty)
        assert np.load(sweep_run / f"results/runs/digits_k/{method}/seed0/labels.npy").max() < k, method
    assert not (sweep_run / "results/select_k/digits").exists()


def test_unchanged_sweep_plans_nothing(sweep_copy):
    result = run_snakemake(sweep_copy, "-n")
    assert NOTHING_TO_BE_DONE in result.output, result.tail(100)


def test_adding_a_value_runs_only_its_settings(sweep_copy):
    config = read_config(sweep_copy)
    config["methods"]["dec"]["grid"]["lr"].append(0.001)
    write_config(sweep_copy, config)

    result = run_snakemake(sweep_copy, "-n")

    assert result.returncode == 0, result.tail(100)
    planned = parse_dry_run(result.output)
    added = ["dec--lr-0.001--update_interval-5", "dec--lr-0.001--update_interval-10"]
    assert planned.of_rule("cluster_deep") == {job("cluster_deep", dataset=d, method=m, seed=s)
                                               for d in DATASETS for m in added for s in SEEDS}, result.tail(200)
    assert planned.of_rule("selection_scores") == {job("selection_scores", dataset=d, method="dec")
                                                   for d in DATASETS}
    assert not {"pretrain_autoencoder", "umap_setting_features", "select_k", "prepare_dataset"} & planned.rules
    assert not any(rule.startswith("cluster_baselines") for rule in planned.rules), result.tail(200)


def test_the_default_criterion_is_stability_and_changing_it_retrains_nothing(sweep_copy):
    config = read_config(sweep_copy)
    del config["selection"]["criterion"]  # silhouette before
    write_config(sweep_copy, config)

    plan = run_snakemake(sweep_copy, "-n")
    result = run_snakemake(sweep_copy, timeout=600)

    assert plan.returncode == 0 and result.returncode == 0, result.tail(100)
    assert "sensitivity" in parse_dry_run(plan.output).rules
    assert not {"cluster_deep", "pretrain_autoencoder", "selection_scores"} & parse_dry_run(plan.output).rules
    assert "**stability**" in (sweep_copy / "results/tables/selection.md").read_text()


@built_in_background
def one_seed_run(tmp_path_factory):
    """A grid over DEC with one seed and no criterion, run to the selection table."""
    workdir = copy_workflow(tmp_path_factory.mktemp("one-seed") / "wf")
    config = tiny_config()
    config["seeds"] = [0]
    config["methods"] = {"dec": {**config["methods"]["dec"], "grid": {"lr": [0.1, 0.01]}},
                         "kmeans-raw": config["methods"]["kmeans-raw"]}
    config["tracking"] = {"enabled": False}
    write_config(workdir, config)

    result = run_snakemake(workdir, "results/tables/selection.md", timeout=600)
    assert result.returncode == 0, result.tail(100)
    return workdir


def test_one_seed_without_a_criterion_chooses_by_the_silhouette(one_seed_run):
    """Stability, the default, needs two seeds: with one the silhouette stands in for it, while a
    criterion the user chose stays (and stability is refused: the bad-config tests)."""
    assert "**silhouette**" in (one_seed_run / "results/tables/selection.md").read_text()


def test_a_k_range_that_keeps_k_reruns_no_method(sweep_copy):
    config = read_config(sweep_copy)
    config["datasets"]["digits_k"]["k_range"] = [2, 14]
    write_config(sweep_copy, config)
    labels = sweep_copy / f"results/runs/digits_k/{DEC[0]}/seed0/labels.npy"
    before = labels.stat().st_mtime

    result = run_snakemake(sweep_copy, timeout=600)

    assert result.returncode == 0, result.tail(100)
    assert "select_k" in result.output
    assert labels.stat().st_mtime == before, result.tail(200)
    assert json.loads((sweep_copy / "results/select_k/digits_k/curve.json").read_text())["k_range"] == [2, 14]


def test_a_net_grid_pretrains_once_per_value_and_runs_every_method_on_each(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = sweep_config()
    del config["datasets"]["digits_k"]
    config["nets"]["reference"] = dict(config["nets"]["ae"])  # the common space: one net, no grid
    config["nets"]["ae"]["grid"] = {"epochs": [1, 2]}
    config["selection"]["space"] = "reference"
    write_config(workdir, config)

    result = run_snakemake(workdir, "-n")

    assert result.returncode == 0, result.tail(100)
    planned = parse_dry_run(result.output)
    assert planned.of_rule("pretrain_autoencoder") == {
        job("pretrain_autoencoder", dataset="digits", net=net, seed=s)
        for net in ("ae--epochs-1", "ae--epochs-2", "reference") for s in SEEDS}
    deep = {dict(wildcards)["method"] for _, wildcards in planned.of_rule("cluster_deep")}
    assert deep == {f"dec--ae.epochs-{e}--lr-{lr}--update_interval-{u}"
                    for e in (1, 2) for lr in (0.1, 0.01) for u in (5, 10)}
    assert planned.writes_under("results/features/digits/umap-ae--epochs-1--n_neighbors-5/")
    assert "results/tables/sensitivity.md" in planned.outputs
