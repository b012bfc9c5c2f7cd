"""The full config (the tiny one with every figure) run end to end (once per session, see
conftest.finished_workflow): every file rule all promises, sane contents, MLflow holding each run
exactly once, an up-to-date second run, and the Snakemake report."""

import csv
import json

import numpy as np
import pytest
from deepclust.nn import networks
from conftest import (DATASET, DEEP_METHODS, FULL_RUN_TIMEOUT, METHODS, N_SAMPLES, NOTHING_TO_BE_DONE, SEEDS,
                      copy_tree, job, parse_dry_run, run_snakemake)

pytestmark = pytest.mark.slow

RUN_FILES = ["labels.npy", "metrics.json", "run.json"]
DEEP_RUN_FILES = RUN_FILES + ["history.json", "embedding.npy", "model.pt"]
PRETRAIN_FILES = ["model.pt", "history.json", "embedding.npy", "run.json"]
FIGURES = ["methods", "confusion", "elbow", "training_curves", "samples", "centres",
           *(f"embedding_{space}_{projection}" for space in ["raw", "ae", "vae", *DEEP_METHODS]
             for projection in ["umap", "tsne"])]
NETS = ["ae", "vae"]
EXPECTED_RUN_KEYS = {f"{DATASET}/{method}/seed{seed}" for method in METHODS for seed in SEEDS} | {
    f"{DATASET}/pretrain-{net}/seed{seed}" for net in NETS for seed in SEEDS}


def results(workflow):
    return workflow.path / "results"


def run_dir(workflow, method, seed):
    return results(workflow) / "runs" / DATASET / method / f"seed{seed}"


def test_full_run_succeeds(finished_workflow):
    assert finished_workflow.run.returncode == 0
    print(f"full run took {finished_workflow.run.seconds:.0f}s")


def test_second_run_has_nothing_to_do(finished_workflow):
    result = run_snakemake(finished_workflow.path)
    assert result.returncode == 0, result.tail()
    assert NOTHING_TO_BE_DONE in result.output, result.tail()


def test_summary_tables_have_every_method(finished_workflow):
    tables = results(finished_workflow) / "tables"
    with open(tables / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {row["dataset"] for row in rows} == {DATASET}
    assert {row["method"] for row in rows} == set(METHODS)
    for method in METHODS:  # long format: one row per (method, metric)
        metrics = {row["metric"] for row in rows if row["method"] == method}
        assert {"acc", "nmi", "ari"} <= metrics, method

    markdown = (tables / "summary.md").read_text()
    table_rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    header, *body = table_rows
    assert "ACC" in header and "NMI" in header
    assert sorted(line.split("|")[1].strip() for line in body) == sorted(METHODS)

    with open(tables / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    assert sorted((r["method"], int(r["seed"])) for r in runs) == sorted(
        (m, s) for m in METHODS for s in SEEDS)


@pytest.mark.parametrize("method", METHODS)
def test_run_directories_are_complete(finished_workflow, method):
    expected = DEEP_RUN_FILES if method in DEEP_METHODS else RUN_FILES
    for seed in SEEDS:
        directory = run_dir(finished_workflow, method, seed)
        missing = [name for name in expected if not (directory / name).is_file()]
        assert not missing, f"{directory}: missing {missing}"

        metrics = json.loads((directory / "metrics.json").read_text())
        assert {"acc", "nmi", "ari", "silhouette"} <= set(metrics)
        assert 0.0 <= metrics["acc"] <= 1.0

        labels = np.load(directory / "labels.npy")
        assert labels.shape == (N_SAMPLES,)
        assert np.issubdtype(labels.dtype, np.integer)

        run = json.loads((directory / "run.json").read_text())
        assert run["key"] == f"{DATASET}/{method}/seed{seed}"
        assert run["tags"]["method"] == method and run["tags"]["seed"] == str(seed)
        if method in DEEP_METHODS:
            # the autoencoder's 4-d embedding; InfoGAN's is Q's logits over its 10 codes, JULE's its CNN's features
            width = {"infogan": 10, "jule": 6}.get(method, 4)
            assert np.load(directory / "embedding.npy").shape == (N_SAMPLES, width)
            if method in ("vade", "infogan"):  # 8 samples per cluster, digits' 8x8 pixels
                assert np.load(directory / "samples.npy").shape == (10, 8, 64)
            assert json.loads((directory / "history.json").read_text()), "empty training history"


def test_pretrain_outputs_exist(finished_workflow):
    for seed in SEEDS:
        directory = results(finished_workflow) / "pretrain" / DATASET / "ae" / f"seed{seed}"
        missing = [name for name in PRETRAIN_FILES if not (directory / name).is_file()]
        assert not missing, f"{directory}: missing {missing}"
        assert np.load(directory / "embedding.npy").shape == (N_SAMPLES, 4)
        assert len(json.loads((directory / "history.json").read_text())) == 2  # one row per epoch
        vae = results(finished_workflow) / "pretrain" / DATASET / "vae" / f"seed{seed}"  # agglomerative-vae's space
        assert np.load(vae / "embedding.npy").shape == (N_SAMPLES, 3)
        assert networks.load(vae / "model.pt").config["kind"] == "vae"
    for seed in SEEDS:  # the umap-ae space of the hdbscan-umap-ae baseline
        assert (results(finished_workflow) / "features" / DATASET / "umap-ae" / f"seed{seed}.npy").is_file()


def test_every_figure_exists(finished_workflow):
    figures = results(finished_workflow) / "figures" / DATASET
    for name in FIGURES:
        png = figures / f"{name}.png"
        assert png.is_file(), png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png.stat().st_size > 5_000, png
    assert {p.stem for p in figures.glob("*.png")} == set(FIGURES)


@pytest.mark.parametrize("method", ["dec", "kmeans-raw"])
def test_a_deleted_metrics_file_reruns_its_run_and_the_tables_are_complete(finished_copy, method):
    """Snakemake remakes a missing file only for a job that reruns anyway; rule all names every
    run folder's files, so a deleted metrics.json reruns its run and then the tables."""
    (finished_copy / "results" / "runs" / DATASET / method / "seed1" / "metrics.json").unlink()

    planned = parse_dry_run(run_snakemake(finished_copy, "-n").output)

    rerun = (job("cluster_deep", dataset=DATASET, method="dec", seed=1) if method == "dec"
             else job(f"cluster_baselines_{DATASET}", dataset=DATASET, seed=1))  # one job: each seed's baselines
    assert rerun in planned.jobs
    assert "summary_table" in planned.rules
    result = run_snakemake(finished_copy, timeout=FULL_RUN_TIMEOUT)
    assert result.returncode == 0, result.tail()
    with open(finished_copy / "results" / "tables" / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    assert sorted((r["method"], int(r["seed"])) for r in runs) == sorted((m, s) for m in METHODS for s in SEEDS)


# ---- MLflow ----------------------------------------------------------------------------------
def mlflow_runs(workdir):
    """Every run of the 'deepclust' experiment in the workflow's sqlite store."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'results' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("deepclust")
    assert experiment is not None, "no 'deepclust' experiment in the store"
    runs = client.search_runs([experiment.experiment_id], max_results=10_000)
    return runs


def synced(workdir):
    return json.loads((workdir / "results" / "mlflow" / "synced.json").read_text())


def assert_one_mlflow_run_per_run_dir(workdir):
    record = synced(workdir)
    assert record["failed"] == []
    expected_dirs = {f"results/runs/{DATASET}/{m}/seed{s}" for m in METHODS for s in SEEDS} | {
        f"results/pretrain/{DATASET}/{net}/seed{s}" for net in NETS for s in SEEDS}
    assert set(record["runs"]) == expected_dirs

    runs = mlflow_runs(workdir)
    keys = sorted(run.data.tags.get("deepclust.run_key") for run in runs)
    assert keys == sorted(EXPECTED_RUN_KEYS), "MLflow should hold exactly one run per run directory"
    assert {run.info.status for run in runs} == {"FINISHED"}
    assert {run.info.run_id for run in runs} == set(record["runs"].values())
    return record


def test_mlflow_holds_one_run_per_run_directory(finished_workflow):
    assert_one_mlflow_run_per_run_dir(finished_workflow.path)
    runs = {run.data.tags["deepclust.run_key"]: run for run in mlflow_runs(finished_workflow.path)}
    dec = runs[f"{DATASET}/dec/seed0"]
    metrics = json.loads((run_dir(finished_workflow, "dec", 0) / "metrics.json").read_text())
    assert dec.data.metrics["acc"] == pytest.approx(metrics["acc"])
    assert dec.data.params["params.update_interval"] == "5"


def test_forced_resync_does_not_duplicate_runs(finished_workflow, tmp_path):
    workdir = copy_tree(finished_workflow.path, tmp_path / "wf")
    before = assert_one_mlflow_run_per_run_dir(workdir)

    result = run_snakemake(workdir, "--forcerun", "sync_tracking")

    assert result.returncode == 0, result.tail()
    assert "rule sync_tracking:" in result.output, result.tail()  # it did run again
    after = assert_one_mlflow_run_per_run_dir(workdir)
    assert after["runs"] == before["runs"]


def test_report(finished_workflow, tmp_path):
    workdir = copy_tree(finished_workflow.path, tmp_path / "wf")
    result = run_snakemake(workdir, "--report", "results/report.html")
    assert result.returncode == 0, result.tail()
    report = workdir / "results" / "report.html"
    assert report.is_file()
    assert report.stat().st_size > 10_000
    assert "<html" in report.read_text(errors="replace")[:5000].lower()

