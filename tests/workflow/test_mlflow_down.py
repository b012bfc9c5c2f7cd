"""The MLflow store down or wrong, on a private small config with live logging: a server that
does not answer costs the DAG seconds and fails the sync alone; fixing a wrong URI reruns the
tracking rules only, and the sync then mirrors every run."""

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (NOTHING_TO_BE_DONE, Result, built_in_background, copy_tree, copy_workflow, parse_dry_run,
                      run_snakemake, tiny_config, write_config)

from deepclust import io

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 900
# Generous for this small DAG on two busy cores, and far below what MLflow's default retries
# cost a server that is down: minutes for init_tracking, again for each job and each run synced.
DOWN_SECONDS = 240
RUN_DIRS = ["results/runs/digits/dec/seed0", "results/runs/digits/kmeans-raw/seed0", "results/pretrain/digits/ae/seed0"]


def small_config() -> dict:
    config = tiny_config()
    config["seeds"] = [0]
    config["nets"] = {"ae": config["nets"]["ae"]}
    config["methods"] = {name: config["methods"][name] for name in ("dec", "kmeans-raw")}
    config["tracking"] = {"enabled": True, "live": True}
    config["figures"]["draw"] = ["confusion"]  # one figure job: the sync comes after the figures
    return config


def planned_rules(result) -> set[str]:
    """The rules of the jobs a run (or dry run) printed, but rule all."""
    return parse_dry_run(result.output).rules - {"all"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Runs:
    workdir: Path  # the DAG from scratch with $MLFLOW_TRACKING_URI naming a server that is down
    down: Result
    uri: str
    copy: Path  # a copy of it then rerun with a store that cannot be created, then the default one
    bad: str
    wrong: Result
    after_wrong: dict  # the copy's tracking record and sync log as the wrong store left them
    fixed: Result


@built_in_background
def runs(tmp_path_factory) -> Runs:
    """Every run of this module, one after the other (the second scenario starts from the first's
    folder, copied before the first test dry-runs it)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("mlflow_down") / "wf")
    write_config(workdir, small_config())
    uri = f"http://127.0.0.1:{closed_port()}"
    down = run_snakemake(workdir, timeout=RUN_TIMEOUT, env={"MLFLOW_TRACKING_URI": uri})
    copy = copy_tree(workdir, tmp_path_factory.mktemp("mlflow_wrong") / "wf")
    (copy.parent / "plain").write_text("a file: no store can be created under it")
    bad = f"sqlite:///{copy.parent}/plain/mlflow.db"
    wrong = run_snakemake(copy, timeout=RUN_TIMEOUT, env={"MLFLOW_TRACKING_URI": bad})
    after_wrong = {"tracking": io.load_json(copy / "results/mlflow/tracking.json"),
                   "sync_log": (copy / "results/logs/sync_tracking.log").read_text()}
    fixed = run_snakemake(copy, timeout=RUN_TIMEOUT)  # $MLFLOW_TRACKING_URI unset: the default store
    return Runs(workdir, down, uri, copy, bad, wrong, after_wrong, fixed)


def test_a_server_that_is_down_costs_seconds_and_fails_the_sync_alone(runs):
    workdir, result, uri = runs.workdir, runs.down, runs.uri
    assert result.returncode != 0, result.tail()
    assert result.seconds < DOWN_SECONDS, result.tail()
    failed = {line.split("Error in rule ")[1].rstrip(":") for line in result.output.splitlines()
              if "Error in rule " in line}
    assert failed == {"sync_tracking"}, result.tail(150)
    record = io.load_json(workdir / "results/mlflow/tracking.json")
    assert record["status"] == "unreachable" and record["uri"] == uri and record["experiment_id"] is None
    log = (workdir / "results/logs/cluster/digits/dec/seed0.log").read_text()
    assert "was unreachable when the workflow started" in log and "MLflow logging" not in log
    sync_log = (workdir / "results/logs/sync_tracking.log").read_text()
    assert f"MLflow store {uri} is unreachable" in sync_log and "rerun" in sync_log
    # everything but the sync is done: the tables and the figure ran before it
    assert planned_rules(run_snakemake(workdir, "-n", env={"MLFLOW_TRACKING_URI": uri})) == {"sync_tracking"}


def test_a_wrong_store_fixed_reruns_the_tracking_rules_only_and_the_sync_recovers(runs):
    workdir, bad, wrong, fixed = runs.copy, runs.bad, runs.wrong, runs.fixed
    assert runs.down.returncode != 0, runs.down.tail()
    assert wrong.returncode != 0, wrong.tail()
    assert planned_rules(wrong) == {"init_tracking", "sync_tracking"}, wrong.tail(100)  # the store changed
    assert runs.after_wrong["tracking"]["uri"] == bad
    assert f"MLflow store {bad} is not available" in runs.after_wrong["sync_log"]
    assert fixed.returncode == 0, fixed.tail(100)
    assert planned_rules(fixed) == {"init_tracking", "sync_tracking"}, fixed.tail(100)
    record = io.load_json(workdir / "results/mlflow/tracking.json")
    assert record["uri"] == "sqlite:///results/mlflow.db" and record["status"] == "ready"
    synced = io.load_json(workdir / "results/mlflow/synced.json")
    assert synced["failed"] == [] and set(synced["runs"]) == set(RUN_DIRS)
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{workdir}/results/mlflow.db")
    found = client.search_runs([client.get_experiment_by_name("deepclust").experiment_id])
    assert sorted(r.info.run_id for r in found) == sorted(synced["runs"].values())
    assert NOTHING_TO_BE_DONE in run_snakemake(workdir, "-n").output
