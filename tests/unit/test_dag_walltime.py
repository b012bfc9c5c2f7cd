"""bench/dag_walltime.py's side-by-side settings: environment variables and config overlays."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "dag_walltime.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("dag_walltime", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_upper_case_keys_are_environment_variables_the_others_config_keys(bench):
    env, overlay, _ = bench.split_settings(["tracking.live=true", "MLFLOW_TRACKING_URI=http://127.0.0.1:9",
                                         "tracking.experiment=down", "seeds=[0, 1]"])
    assert env == {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    assert overlay == {"tracking": {"live": True, "experiment": "down"}, "seeds": [0, 1]}


def test_a_setting_without_a_value_is_refused(bench):
    with pytest.raises(SystemExit, match="'tracking.live': expected KEY=VALUE"):
        bench.split_settings(["tracking.live"])


def test_commit_names_the_code_to_run_not_a_config_key(bench):
    env, overlay, commit = bench.split_settings(["commit=HEAD~1", "tracking.live=false"])
    assert commit == "HEAD~1" and env == {} and overlay == {"tracking": {"live": False}}


def test_a_commit_is_recorded_by_its_hash_and_an_unknown_one_refused(bench):
    setting = bench.resolved("commit=HEAD")
    assert len(setting.removeprefix("commit=")) == 40
    with pytest.raises(SystemExit, match="commit=no-such-revision: not a git revision"):
        bench.resolved("commit=no-such-revision")


def test_a_commits_workflow_and_library_are_what_the_jobs_run(bench, tmp_path):
    env = bench.copy_code(tmp_path, bench.resolve_commit("HEAD"))
    assert env == {"PYTHONPATH": str(tmp_path / "src")}
    assert (tmp_path / "Snakefile").is_file() and (tmp_path / "src" / "deepclust" / "engine.py").is_file()
    assert (tmp_path / "workflow" / "rules" / "common.smk").is_file()


SNAKEMAKE_LOG = """Building DAG of jobs...
[Sun Dec  6 18:12:52 2026]
localrule prepare_dataset:
    output: results/data/digits.npz
    jobid: 4
    reason: Missing output files
[Sun Dec  6 18:12:55 2026]
Finished jobid: 4 (Rule: prepare_dataset)
1 of 3 steps (33%) done
[Sun Dec  6 18:12:55 2026]
rule cluster_deep:
    input: results/data/digits.npz
    jobid: 2
    wildcards: dataset=digits, method=dec, seed=0
[Sun Dec  6 18:12:56 2026]
rule cluster_deep:
    jobid: 3
[Sun Dec  6 18:13:05 2026]
Finished jobid: 2 (Rule: cluster_deep)
[Sun Dec  6 18:13:07 2026]
Finished jobid: 3 (Rule: cluster_deep)
"""


def test_the_job_profile_adds_each_rules_job_seconds_from_snakemakes_log(bench):
    profile = bench.job_profile(SNAKEMAKE_LOG)
    assert profile["rules"] == {"cluster_deep": {"jobs": 2, "job_seconds": 21.0},
                                "prepare_dataset": {"jobs": 1, "job_seconds": 3.0}}
    assert profile["jobs_wall_seconds"] == 15.0 and profile["mean_busy_jobs"] == 1.6
    assert bench.job_profile("Nothing to be done.") == {}
