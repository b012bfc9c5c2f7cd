"""The MLflow store down or wrong, on a private small config with live logging: a server that
does not answer costs the DAG seconds and fails the sync alone; fixing a wrong URI reruns the
tracking rules only, and the sync then mirrors every run."""

import socket
from pathlib import Path

import pytest
from conftest import (NOTHING_TO_BE_DONE, built_in_background, copy_tree, copy_workflow, parse_dry_run,
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


@built_in_background
def server_down(tmp_path_factory) -> tuple[Path, object, str]:
    """The DAG from scratch with $MLFLOW_TRACKING_URI naming a server that is down."""
    workdir = copy_workflow(tmp_path_factory.mktemp("mlflow_down") / "wf")
    write_config(workdir, small_config())
    uri = f"http://127.0.0.1:{closed_port()}"
    return workdir, run_snakemake(workdir, timeout=RUN_TIMEOUT, env={"MLFLOW_TRACKING_URI": uri}), uri


def test_a_server_that_is_down_costs_seconds_and_fails_the_sync_alone(server_down):
    workdir, result, uri = server_down
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


def test_a_wrong_store_fixed_reruns_the_tracking_rules_only_and_the_sync_recovers(server_down, tmp_path):
    workdir = copy_tree(server_down[0], tmp_path / "wf")
    (tmp_path / "plain").write_text("a file: no store can be created under it")
    bad = f"sqlite:///{tmp_path}/plain/mlflow.db"

    wrong = run_snakemake(workdir, timeout=RUN_TIMEOUT, env={"MLFLOW_TRACKING_URI": bad})

    assert wrong.returncode != 0, wrong.tail()
    assert planned_rules(wrong) == {"init_tracking", "sync_tracking"}, wrong.tail(100)  # the store changed
    assert io.load_json(workdir / "results/mlflow/tracking.json")["uri"] == bad
    assert f"MLflow store {bad} is not available" in (workdir / "results/logs/sync_tracking.log").read_text()

    fixed = run_snakemake(workdir, timeout=RUN_TIMEOUT)  # $MLFLOW_TRACKING_URI unset: the default store

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
