import http.server
import itertools
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deepclust import io, provenance, runs, tracking

_names = itertools.count()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One sqlite store per module: creating it runs MLflow's migrations, which takes seconds."""
    root = tmp_path_factory.mktemp("mlflow")
    return {"root": root, "uri": f"sqlite:///{root}/mlflow.db"}


@pytest.fixture
def info(store, tmp_path):
    """A fresh experiment in the shared store, as init_store writes it for the jobs."""
    experiment = f"exp{next(_names)}"
    return tracking.init_store(tmp_path / "tracking.json", store["uri"], experiment, str(store["root"] / "artifacts"))


@pytest.fixture
def client(store):
    import mlflow

    return mlflow.MlflowClient(store["uri"])


def make_run_dir(path, acc=0.9, params=None, history=None):
    path.mkdir(parents=True, exist_ok=True)
    io.save_json(path / "metrics.json", {"acc": acc, "n_clusters_found": 3, "silhouette": float("nan")})
    io.save_json(path / "history.json", history or [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    (path / "note.txt").write_text("artifact")
    runs.write_run_json(path, key="digits/dec/seed0",
                        params=params or {"lr": 0.01, "net": {"hidden_dims": [32, 32]}},
                        tags={"dataset": "digits", "seed": 0}, seconds=1.5, history_file="history.json",
                        artifacts=["note.txt", "missing.txt"])
    return path


def test_write_run_json(tmp_path):
    params = {"lr": 0.01, "n": {"a": 1}}
    make_run_dir(tmp_path, params=params)
    run = io.load_json(tmp_path / "run.json")
    assert run["key"] == "digits/dec/seed0" and run["seconds"] == 1.5 and run["params"] == params
    assert run["tags"]["seed"] == "0"  # tags are strings
    assert run["tags"]["config_hash"] == provenance.config_hash(params)
    assert run["tags"]["git_commit"] and run["tags"]["git_dirty"] in ("yes", "no", "unknown")
    assert run["tags"]["machine"] == provenance.cpu_name()  # this process never touched CUDA
    assert run["tags"]["torch"] == (sys.modules["torch"].__version__ if "torch" in sys.modules else "not used")
    assert run["metrics_files"] == ["metrics.json"] and run["history_file"] == "history.json"


def test_git_state_says_when_tracked_files_differ_from_the_commit(tmp_path):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    assert runs.git_state.__wrapped__(str(tmp_path)) == ("unknown", "unknown")  # not a repository
    git("init", "-q")
    (tmp_path / "method.py").write_text("lr = 0.1\n")
    git("add", "method.py")
    git("commit", "-qm", "first")
    (tmp_path / "results.npy").write_text("untracked output")
    commit, dirty = runs.git_state.__wrapped__(str(tmp_path))
    assert len(commit) == 40 and dirty == "no"  # untracked files (results) do not count
    (tmp_path / "method.py").write_text("lr = 0.2\n")
    assert runs.git_state.__wrapped__(str(tmp_path)) == (commit, "yes")


def test_cpu_name_names_the_model_and_the_cores_this_process_may_use():
    name = provenance.cpu_name()
    model, cores = name.rsplit(", ", 1)
    assert model and cores == f"{len(os.sched_getaffinity(0))} cores"


def test_machine_adds_the_gpu_only_when_this_process_used_cuda(monkeypatch):
    class FakeCuda:
        initialized = False

        def is_initialized(self):
            return self.initialized

        def current_device(self):
            return 1

        def get_device_name(self, index):
            return f"NVIDIA H200 #{index}"

    fake_torch = type("FakeTorch", (), {"cuda": FakeCuda(), "__version__": "9.9"})()
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    assert provenance.machine() == provenance.cpu_name()
    fake_torch.cuda.initialized = True
    assert provenance.machine() == f"{provenance.cpu_name()}; GPU NVIDIA H200 #1"


def test_init_store_is_idempotent(store, tmp_path, info):
    again = tracking.init_store(tmp_path / "again.json", store["uri"], info["experiment"], str(tmp_path))
    assert again["experiment_id"] == info["experiment_id"] is not None
    assert io.load_json(tmp_path / "tracking.json") == info
    assert set(info) == {"uri", "experiment", "experiment_id", "artifact_root", "status", "error"}
    assert info["status"] == "ready" and info["error"] is None


def test_log_run_dir_mirrors_the_run_once(tmp_path, info, client):
    run_dir = make_run_dir(tmp_path / "run")
    run_id = tracking.log_run_dir(run_dir, info)
    assert isinstance(run_id, str) and run_id
    assert tracking.log_run_dir(run_dir, info) == run_id
    found = client.search_runs([info["experiment_id"]])
    assert [r.info.run_id for r in found] == [run_id]

    run = found[0]
    assert run.info.status == "FINISHED"
    assert run.data.metrics["acc"] == 0.9 and run.data.metrics["n_clusters_found"] == 3.0
    assert "silhouette" not in run.data.metrics  # NaN is not logged
    assert run.data.params == {"lr": "0.01", "net.hidden_dims": "[32, 32]"}
    tags = run.data.tags
    assert tags[tracking.RUN_KEY_TAG] == "digits/dec/seed0" and tags["mlflow.runName"] == "digits/dec/seed0"
    assert tags["dataset"] == "digits" and tags["seed"] == "0"
    history = client.get_metric_history(run_id, "history.loss")
    assert sorted((m.step, m.value) for m in history) == [(1, 0.5), (2, 0.25)]
    assert [a.path for a in client.list_artifacts(run_id)] == ["note.txt"]


def test_changed_metrics_make_a_new_run(tmp_path, info, client):
    run_dir = make_run_dir(tmp_path / "run")
    first = tracking.log_run_dir(run_dir, info)
    io.save_json(run_dir / "metrics.json", {"acc": 0.95})
    second = tracking.log_run_dir(run_dir, info)
    assert second is not None and second != first
    assert tracking.log_run_dir(run_dir, info) == second
    assert len(client.search_runs([info["experiment_id"]])) == 2
    assert client.get_run(second).data.metrics["acc"] == 0.95


def test_changed_params_make_a_new_run(tmp_path, info, client):
    first = tracking.log_run_dir(make_run_dir(tmp_path / "run"), info)
    second = tracking.log_run_dir(make_run_dir(tmp_path / "run", params={"lr": 0.02}), info)
    assert second != first
    assert len(client.search_runs([info["experiment_id"]])) == 2


def test_an_unfinished_run_with_the_same_result_is_not_reused(tmp_path, info, client):
    run_dir = make_run_dir(tmp_path / "run")
    digest = tracking.result_hash(run_dir, io.load_json(run_dir / "run.json"))
    crashed = client.create_run(info["experiment_id"], tags={tracking.RUN_KEY_TAG: "digits/dec/seed0",
                                                             tracking.RESULT_HASH_TAG: digest})
    run_id = tracking.log_run_dir(run_dir, info)
    assert run_id != crashed.info.run_id
    assert client.get_run(run_id).info.status == "FINISHED"
    # the crashed logger's leftover is deleted, so the run appears once
    assert [r.info.run_id for r in client.search_runs([info["experiment_id"]])] == [run_id]


def test_history_step_is_the_iteration_when_present(tmp_path, info, client):
    history = [{"epoch": 0.0, "iteration": 0, "loss": float("nan"), "acc": 0.5},
               {"epoch": 1.5, "iteration": 140, "loss": 0.3, "acc": 0.75}]
    run_id = tracking.log_run_dir(make_run_dir(tmp_path / "run", history=history), info)
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "history.loss")] == [(140, 0.3)]
    assert sorted((m.step, m.value) for m in client.get_metric_history(run_id, "history.acc")) == \
        [(0, 0.5), (140, 0.75)]
    assert "history.epoch" not in client.get_run(run_id).data.metrics


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_closed_port_is_unreachable_at_once():
    start = time.perf_counter()
    reason = tracking.unreachable(f"http://127.0.0.1:{closed_port()}")
    assert "ConnectionRefusedError" in reason and time.perf_counter() - start < 2


def test_a_server_that_never_answers_is_unreachable_within_seconds(tmp_path, capsys):
    """A listening socket that accepts connections and never answers (a hung server, a firewall
    that swallows packets): the probe gives up after PROBE_SECONDS, init records it."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.perf_counter()
        info = tracking.init_store(tmp_path / "tracking.json", uri, "x", str(tmp_path / "art"))
        seconds = time.perf_counter() - start
    assert seconds < tracking.PROBE_SECONDS + 3
    assert info["status"] == "unreachable" and info["experiment_id"] is None and "timed out" in info["error"]
    assert io.load_json(tmp_path / "tracking.json") == info
    assert f"MLflow store {uri} is unreachable" in capsys.readouterr().err


def test_sqlite_and_file_stores_are_not_probed(monkeypatch):
    monkeypatch.setattr(tracking.urllib.request, "urlopen", lambda *a, **k: pytest.fail("probed"))
    assert tracking.unreachable("sqlite:///results/mlflow.db") is None
    assert tracking.unreachable("file:///tmp/mlruns") is None


class FailingServer:
    """An HTTP server whose /health answers while every MLflow API call gets 503 (a retried status)."""

    def __init__(self):
        calls = self.api_calls = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/health":
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                calls.append(self.path)
                self.send_response(503)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_mlflow_calls_give_up_after_a_few_short_retries(tmp_path, monkeypatch):
    """MLflow's defaults retry such a server for minutes per call; ours for seconds."""
    for name in tracking.HTTP_LIMITS:
        monkeypatch.delenv(name, raising=False)
    server = FailingServer()
    try:
        start = time.perf_counter()
        info = tracking.init_store(tmp_path / "tracking.json", server.uri, "x", str(tmp_path / "art"))
        seconds = time.perf_counter() - start
    finally:
        server.close()
    assert info["status"] == "unavailable" and info["experiment_id"] is None
    assert len(server.api_calls) == int(tracking.HTTP_LIMITS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]) + 1
    assert seconds < 30
    assert not any(name in os.environ for name in tracking.HTTP_LIMITS)  # only for our calls


def test_a_retry_limit_set_by_the_user_wins(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "300")
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    with tracking.bounded_http():
        assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "300"
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == tracking.HTTP_LIMITS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "300" and "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_a_server_down_since_init_is_skipped_at_once(tmp_path, capsys):
    run_dir = make_run_dir(tmp_path / "run")
    uri = f"http://127.0.0.1:{closed_port()}"
    start = time.perf_counter()
    assert tracking.log_run_dir(run_dir, {"uri": uri, "experiment": "x", "experiment_id": "1"}) is None
    assert time.perf_counter() - start < 2
    assert f"MLflow store {uri} is unreachable" in capsys.readouterr().err


def test_jobs_trust_the_record_of_a_store_that_was_down(tmp_path, monkeypatch, capsys):
    """No probe and no MLflow call from a job when init found the store unavailable."""
    import mlflow

    monkeypatch.setattr(tracking, "unreachable", lambda *a, **k: pytest.fail("the job probed the store"))
    monkeypatch.setattr(mlflow, "MlflowClient", lambda *a, **k: pytest.fail("the job called MLflow"))
    run_dir = make_run_dir(tmp_path / "run")
    info = {"uri": "http://127.0.0.1:9", "experiment": "x", "artifact_root": "a", "experiment_id": None,
            "status": "unreachable", "error": "MLflow store http://127.0.0.1:9 is unreachable (...)"}
    io.save_json(tmp_path / "tracking.json", info)
    runs.finish_run(run_dir, tmp_path / "tracking.json", key="digits/dec/seed0", params={}, tags={}, seconds=1.0)
    assert "was unreachable when the workflow started" in capsys.readouterr().err


def test_unavailable_store_at_init_lets_jobs_run_and_sync_logs_later(tmp_path, capsys):
    uri = f"http://127.0.0.1:{closed_port()}"
    info = tracking.init_store(tmp_path / "tracking.json", uri, "x", str(tmp_path / "art"))
    assert info["experiment_id"] is None and io.load_json(tmp_path / "tracking.json") == info
    assert f"MLflow store {uri} is unreachable" in capsys.readouterr().err
    run_dir = make_run_dir(tmp_path / "run")
    assert tracking.log_run_dir(run_dir, info) is None  # a live job: nothing to do
    # the sync asks once more and fails at once, saying what to do
    with pytest.raises(tracking.StoreUnavailable, match=f"MLflow store {uri} is unreachable.*rerun"):
        tracking.reopen(info)
    # the store comes back (here: a sqlite store); the sync creates the experiment and logs the run, once
    info["uri"] = f"sqlite:///{tmp_path}/later.db"
    reopened = tracking.reopen(info)
    assert reopened["status"] == "ready" and reopened["experiment_id"] is not None
    run_id = tracking.log_run_dir(run_dir, reopened)
    assert tracking.log_run_dir(run_dir, tracking.reopen(info)) == run_id
    import mlflow
    client = mlflow.MlflowClient(info["uri"])
    assert len(client.search_runs([client.get_experiment_by_name("x").experiment_id])) == 1


def test_a_store_that_cannot_be_created_is_named_and_another_store_works(tmp_path, capsys):
    (tmp_path / "plain").write_text("a file, not a folder")
    bad = f"sqlite:///{tmp_path}/plain/mlflow.db"
    info = tracking.init_store(tmp_path / "tracking.json", bad, "x", str(tmp_path / "art"))
    assert info["status"] == "unavailable" and info["experiment_id"] is None
    assert f"MLflow store {bad} is not available" in capsys.readouterr().err
    with pytest.raises(tracking.StoreUnavailable, match="is not available.*rerun"):
        tracking.reopen(info)
    # the URI fixed: init_tracking reruns with it (its param) and the sync uses the new record
    good = tracking.init_store(tmp_path / "tracking.json", f"sqlite:///{tmp_path}/mlflow.db", "x",
                               str(tmp_path / "art"))
    assert tracking.log_run_dir(make_run_dir(tmp_path / "run"), tracking.reopen(good)) is not None


def test_the_sync_finds_the_experiment_in_the_store_in_use_now(tmp_path, store, info):
    """A recorded experiment id belongs to the store init saw; the sync looks the experiment up by
    name in the store now (recreated, or another one), instead of trusting the id."""
    fresh = {**info, "uri": f"sqlite:///{tmp_path}/fresh.db", "experiment_id": "12345"}
    reopened = tracking.reopen(fresh)
    assert reopened["experiment_id"] != "12345"
    assert tracking.log_run_dir(make_run_dir(tmp_path / "run"), reopened) is not None


def test_a_locked_store_fails_the_logging_not_the_job_and_leaves_no_run(tmp_path, info, client, store, capsys):
    run_dir = make_run_dir(tmp_path / "run")
    database = sqlite3.connect(store["root"] / "mlflow.db", isolation_level=None)
    database.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        assert tracking.log_run_dir(run_dir, info) is None
    finally:
        database.execute("COMMIT")
        database.close()
    assert "database is locked" in capsys.readouterr().err
    assert client.search_runs([info["experiment_id"]]) == []
    run_id = tracking.log_run_dir(run_dir, tracking.reopen(info))  # the sync, later
    assert [r.info.run_id for r in client.search_runs([info["experiment_id"]])] == [run_id]


LOGGER = """
import sys
from deepclust import io, tracking
print(tracking.log_run_dir(sys.argv[1], io.load_json(sys.argv[2])) or "FAILED")
"""


@pytest.mark.slow
def test_eight_jobs_logging_at_once_lose_and_duplicate_nothing(tmp_path, info, client):
    """Eight processes log eight runs into one sqlite store at the same time, as eight parallel
    jobs do; then the sync logs all eight again. Every run is in MLflow exactly once."""
    io.save_json(tmp_path / "tracking.json", info)
    run_dirs = []
    for i in range(8):
        run_dir = make_run_dir(tmp_path / f"run{i}", acc=i / 10)
        runs.write_run_json(run_dir, key=f"digits/dec/seed{i}", params={"seed": i}, tags={}, seconds=1.0,
                            history_file="history.json")
        run_dirs.append(run_dir)
    env = {**os.environ, "PYTHONPATH": str(Path(tracking.__file__).parents[1])}
    loggers = [subprocess.Popen([sys.executable, "-c", LOGGER, str(d), str(tmp_path / "tracking.json")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for d in run_dirs]
    live = [logger.communicate(timeout=300)[0].strip() for logger in loggers]
    synced = [tracking.log_run_dir(d, tracking.reopen(info)) for d in run_dirs]

    found = client.search_runs([info["experiment_id"]])
    keys = sorted(r.data.tags[tracking.RUN_KEY_TAG] for r in found)
    assert keys == sorted(f"digits/dec/seed{i}" for i in range(8))
    assert {r.info.status for r in found} == {"FINISHED"}
    assert [run_id for run_id in live if run_id != "FAILED"] == [s for s, l in zip(synced, live) if l != "FAILED"]
    assert {r.data.metrics["acc"] for r in found} == {i / 10 for i in range(8)}


def test_missing_run_json_returns_none(tmp_path, info):
    assert tracking.log_run_dir(tmp_path / "nothing-here", info) is None


def test_tracking_uri_precedence(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.tracking_uri("http://config:5000") == "http://config:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:5000")
    assert tracking.tracking_uri("http://config:5000") == "http://env:5000"
