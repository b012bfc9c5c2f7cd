"""Records, the one format behind every number in the docs: the committed ones are valid and can be
rerun from the repository alone; malformed ones are refused naming the key."""

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from deepclust import records

REPO = Path(__file__).resolve().parents[2]
# top-level folders whose files a command may name; results/ and resources/ are what commands make
TRACKED_TOPS = ("bench", "studies", "config", "workflow", "src", "tests", "docs", "profiles", "envs", "examples")


def committed_records():
    listed = subprocess.run(["git", "ls-files", "bench/results", "studies"], cwd=REPO, capture_output=True,
                            text=True).stdout.split()
    return [REPO / path for path in listed
            if path.endswith(".json") and (path.startswith("bench/results/") or "/records/" in path)]


def test_there_are_committed_records():
    assert committed_records()


@pytest.mark.parametrize("path", committed_records(), ids=lambda p: str(p.relative_to(REPO)))
def test_committed_record_is_valid_and_names_only_files_in_the_repository(path):
    record = records.load(path)
    assert len(record["commit"]) == 40 and all(c in "0123456789abcdef" for c in record["commit"]), record["commit"]
    for token in shlex.split(record["command"]):
        value = token.split("=", 1)[-1]  # --configfile=x.yaml and VAR=value forms
        if value.split("/")[0] in TRACKED_TOPS and Path(value).suffix in (".py", ".yaml", ".yml", ".sh", ".json"):
            assert (REPO / value).exists(), f"{path.name}: the command names {value}, which is not in the repository"
        assert not value.startswith(("/work", "/home", "/tmp", "/root")), f"{path.name}: a machine's path {value}"


GOOD = {"what": "a thing", "command": "python bench/x.py", "commit": "0" * 40, "machine": "a CPU, 2 cores",
        "date": "2026-12-06", "params": {}, "runs": [{"seconds": 1.0}]}


@pytest.mark.parametrize("change, message", [
    ({"runs": []}, "'runs' must be a non-empty list"),
    ({"runs": [1, 2]}, "'runs' must be a non-empty list"),
    ({"params": [1]}, "'params' is list, expected dict"),
    ({"date": "6 Dec 2026"}, "is not YYYY-MM-DD"),
])
def test_malformed_records_are_refused_naming_the_key(change, message, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**GOOD, **change}))
    with pytest.raises(records.RecordError, match=message) as error:
        records.load(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("missing", sorted(records.REQUIRED))
def test_a_record_missing_a_key_is_refused(missing, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({k: v for k, v in GOOD.items() if k != missing}))
    with pytest.raises(records.RecordError, match=f"missing key '{missing}'"):
        records.load(path)


def test_write_fills_in_commit_machine_date_and_command(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", [str(REPO / "bench" / "dag_walltime.py"), "--repeats", "3"])
    record = records.write(tmp_path / "r.json", what="x", params={"a": 1}, runs=[{"seconds": 2.0}], root=REPO)
    assert record["command"] == "python bench/dag_walltime.py --repeats 3"
    assert len(record["commit"]) == 40 and record["machine"] and len(record["date"]) == 10
    assert records.load(tmp_path / "r.json") == record
