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
