import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from deepclust import runs
from deepclust import io, jobs


def test_finish_run_writes_labels_metrics_and_run_json(tmp_path, capsys):
    run_dir = tmp_path / "runs" / "digits" / "kmeans"
    X = np.array([[0.0], [0.1], [5.0], [5.1]])
    y = np.array([1, 1, 0, 0])
    labels = np.array([0, 0, 1, -1])
    metrics = runs.finish_run(run_dir, key="digits/kmeans/0", params={"k": 2}, tags={"seed": 0},
                              seconds=2.5, labels=labels, X=X, y=y)
    np.testing.assert_array_equal(np.load(run_dir / "labels.npy"), labels)
    saved = io.load_json(run_dir / "metrics.json")
    assert saved == metrics
    assert saved["seconds"] == 2.5 and saved["acc"] == 0.75 and saved["noise_fraction"] == 0.25
    assert saved["n_clusters_found"] == 2
    assert saved["silhouette"] == pytest.approx(silhouette_score(X[:3], labels[:3]))  # noise left out
    run = io.load_json(run_dir / "run.json")
    assert run["key"] == "digits/kmeans/0" and run["metrics_files"] == ["metrics.json"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["labels.npy", "metrics.json", "run.json"]
    assert "finished digits/kmeans/0" in capsys.readouterr().out


def test_finish_run_without_labels_writes_only_run_json(tmp_path):
    run_dir = tmp_path / "pretrain"
    assert runs.finish_run(run_dir, None, key="ae", params={}, tags={}, seconds=1.0) == {}
    assert sorted(p.name for p in run_dir.iterdir()) == ["run.json"]
    assert io.load_json(run_dir / "run.json")["metrics_files"] == []


def test_finish_run_with_tracking_file_mirrors_to_mlflow(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(runs.tracking, "log_run_dir", lambda run_dir, info: logged.append((run_dir, info)))
    io.save_json(tmp_path / "tracking.json", {"uri": "sqlite:///x.db", "experiment_id": "1"})
    runs.finish_run(tmp_path / "run", tmp_path / "tracking.json", key="k", params={}, tags={}, seconds=0.0)
    assert logged == [(tmp_path / "run", {"uri": "sqlite:///x.db", "experiment_id": "1"})]


def test_load_features_from_dataset_or_embedding(tmp_path):
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    io.save_dataset(tmp_path / "d.npz", X, None, {})
    io.save_array(tmp_path / "z.npy", X * 2)
    np.testing.assert_array_equal(jobs.load_features(tmp_path / "d.npz"), X)
    np.testing.assert_array_equal(jobs.load_features(tmp_path / "z.npy"), X * 2)


def test_figure_sample_keeps_all_or_a_fixed_sorted_subset():
    np.testing.assert_array_equal(jobs.figure_sample(5, 10, seed=0), np.arange(5))
    subset = jobs.figure_sample(1000, 100, seed=3)
    assert len(subset) == 100 == len(set(subset)) and (np.diff(subset) > 0).all()
    np.testing.assert_array_equal(subset, jobs.figure_sample(1000, 100, seed=3))
