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
    env, overlay = bench.split_settings(["tracking.live=true", "MLFLOW_TRACKING_URI=http://127.0.0.1:9",
                                         "tracking.experiment=down", "seeds=[0, 1]"])
    assert env == {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    assert overlay == {"tracking": {"live": True, "experiment": "down"}, "seeds": [0, 1]}


def test_a_setting_without_a_value_is_refused(bench):
    with pytest.raises(SystemExit, match="'tracking.live': expected KEY=VALUE"):
        bench.split_settings(["tracking.live"])
