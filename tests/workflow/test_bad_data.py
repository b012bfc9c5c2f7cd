"""Bad data found while the workflow runs (it parses fine): the dataset's preparation job fails
with the reason (the file or dataset and the problem) in snakemake's output and in its log, the
exit status is non-zero, the outputs of the datasets that were already done stay as they were
(same bytes, same modification times), and the bad dataset leaves no output behind.

A small config of its own: digits (200 samples) run to the end once per module with k-means and
a GMM on the raw features, no deep method, one figure, no tracking (a few seconds); each case copies that run,
adds a bad dataset and reruns with --keep-going (a few seconds)."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from conftest import (built_in_background, copy_tree, copy_workflow, parse_dry_run, read_config, run_snakemake,
                      write_config)

pytestmark = pytest.mark.slow

GOOD = "digits"
BAD = "mine"
RUN_TIMEOUT = 300

CONFIG = {
    "device": "cpu",
    "seeds": [0],
    "threads": {"train": 1},
    "datasets": {GOOD: {"n_clusters": 10, "preprocess": "minmax", "subsample": 200}},
    "methods": {"kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
                "gmm-raw": {"algorithm": "gmm", "features": "raw"}},
    # the methods figure alone (drawn from the summary table); the others would be most of this DAG
    "figures": {"draw": ["methods"]},
    "tracking": {"enabled": False},
}


def snapshot(workdir):
    """Every file under results/: its relative path -> (sha256, mtime in ns)."""
    return {str(path.relative_to(workdir)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for path in sorted((workdir / "results").rglob("*")) if path.is_file()}


@built_in_background
def good_run(tmp_path_factory):
    """The workflow run to the end with the good dataset only (tests copy it)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("bad-data") / "wf")
    write_config(workdir, CONFIG)
    result = run_snakemake(workdir, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.tail(150)
    assert (workdir / f"results/data/{GOOD}.npz").is_file() and (workdir / "results/tables/summary.csv").is_file()
    return workdir


def table(n_rows):
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(n_rows, 3)), columns=["a", "b", "c"])


def nan_rows(data):
    values = table(30)
    values.loc[[4, 9], "b"] = np.nan
    values.to_csv(data / "nans.csv", index=False)
    dataset = {"source": "file", "path": "data/nans.csv", "n_clusters": 3, "preprocess": "standard"}
    return dataset, ["data/nans.csv: 2 row(s) contain NaN or infinite values (first: row 4, counting from 0)"]


def fewer_samples_than_clusters(data):
    table(5).to_csv(data / "few.csv", index=False)
    dataset = {"source": "file", "path": "data/few.csv", "n_clusters": 8, "preprocess": "standard"}
    return dataset, ["n_clusters is 8 but the dataset has only 5 samples (file data/few.csv)"]


def subsample_below_the_clusters(data):
    dataset = {"source": "digits", "n_clusters": 10, "preprocess": "minmax", "subsample": 6}
    return dataset, ["n_clusters is 10 but the dataset has only 6 samples after subsample: 6;"]


def truncated_parquet(data):
    table(30).to_parquet(data / "whole.parquet")
    whole = (data / "whole.parquet").read_bytes()
    (data / "cut.parquet").write_bytes(whole[:len(whole) // 2])
    dataset = {"source": "file", "path": "data/cut.parquet", "n_clusters": 3, "preprocess": "standard"}
    return dataset, ["data/cut.parquet: cannot read it as a .parquet file (ArrowInvalid: "]


@pytest.mark.parametrize("bad_data", [nan_rows, fewer_samples_than_clusters, subsample_below_the_clusters,
                                      truncated_parquet])
def test_bad_data_fails_its_dataset_only_with_the_reason(good_run, tmp_path, bad_data):
    workdir = copy_tree(good_run, tmp_path / "wf")
    before = snapshot(workdir)
    (workdir / "data").mkdir()
    dataset, reasons = bad_data(workdir / "data")
    config = read_config(workdir)
    config["datasets"][BAD] = dataset
    write_config(workdir, config)

    result = run_snakemake(workdir, "--keep-going", timeout=RUN_TIMEOUT)

    assert result.returncode != 0, result.tail()
    log = workdir / f"results/logs/prepare_dataset/{BAD}.log"
    assert "Error in rule prepare_dataset" in result.output and f"log: {log.relative_to(workdir)}" in result.output
    for reason in [f"error: datasets.{BAD}: ", *reasons]:
        assert reason in log.read_text(), log.read_text()
        assert reason in result.output, result.tail()  # shown to the user (show-failed-logs)
    assert "Traceback" not in log.read_text()  # the user's mistake, not a crash
    # what the good dataset had finished is untouched, and nothing of the bad one is left
    after = snapshot(workdir)
    assert {path: after.get(path) for path in before} == before
    assert not [path for path in after if f"/{BAD}" in path and not path.startswith("results/logs/")], after


def test_the_good_dataset_is_not_redone_once_the_bad_one_is_fixed(good_run, tmp_path):
    """With the bad file fixed, the next run plans the new dataset's jobs and the summaries across
    datasets; of the good dataset only its methods figure (drawn from the summary table)."""
    workdir = copy_tree(good_run, tmp_path / "wf")
    (workdir / "data").mkdir()
    dataset, _ = nan_rows(workdir / "data")
    config = read_config(workdir)
    config["datasets"][BAD] = dataset
    write_config(workdir, config)
    assert run_snakemake(workdir, "--keep-going", timeout=RUN_TIMEOUT).returncode != 0

    table(30).to_csv(workdir / "data/nans.csv", index=False)  # the user fixes the file
    result = run_snakemake(workdir, "-n")
    assert result.returncode == 0, result.tail()
    plan = parse_dry_run(result.output)
    assert ("prepare_dataset", (("dataset", BAD),)) in plan.jobs, result.tail()
    assert {rule for rule, wildcards in plan.jobs if ("dataset", GOOD) in wildcards} == {"figure_methods"}, plan
