"""On clusters the jobs log to an MLflow server (MLFLOW_TRACKING_URI): a real `mlflow server`
on 127.0.0.1 receives the runs, once each (test_tracking checks that an unreachable server never
fails a job)."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deepclust import tracking
from .test_tracking import make_run_dir

pytestmark = pytest.mark.slow  # the server takes seconds to start

MLFLOW = Path(sys.executable).parent / "mlflow"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    port = free_port()
    process = subprocess.Popen([str(MLFLOW), "server", "--host", "127.0.0.1", "--port", str(port),
                                "--backend-store-uri", f"sqlite:///{root}/mlflow.db",
                                "--default-artifact-root", str(root / "artifacts"), "--workers", "1"],
                               stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"mlflow server did not start:\n{(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield {"url": url, "root": root}
    process.terminate()
    process.wait(30)


def test_jobs_log_to_the_server_named_by_the_environment(server, tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server["url"])
    uri = tracking.tracking_uri("sqlite:///never-used.db")
    assert uri == server["url"]
    info = tracking.init_store(tmp_path / "tracking.json", uri, "cluster-run", str(server["root"] / "artifacts"))
    run_dir = make_run_dir(tmp_path / "run")
    first = tracking.log_run_dir(run_dir, info)
    again = tracking.log_run_dir(run_dir, info)       # the sync rule after live logging
    assert first is not None and again == first
    runs = mlflow.MlflowClient(server["url"]).search_runs([info["experiment_id"]])
    assert len(runs) == 1
    assert runs[0].data.metrics["acc"] == 0.9
    assert not (tmp_path / "never-used.db").exists()
