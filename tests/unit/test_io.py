import pickle
from fractions import Fraction

import numpy as np
import pytest
import torch

from deepclust.nn import networks
from deepclust import io, jobs
from deepclust.nn.autoencoder import MLPAutoencoder


def test_atomic_path_leaves_nothing_when_the_block_raises(tmp_path):
    target = tmp_path / "sub" / "out.json"
    with pytest.raises(RuntimeError, match="boom"):
        with io.atomic_path(target) as tmp:
            assert tmp.parent == target.parent and tmp != target
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_path_keeps_the_old_file_when_the_block_raises(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("new")
            raise KeyError("x")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "out.txt"
    with io.atomic_path(target) as tmp:
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_json_round_trip_with_numpy_values(tmp_path):
    path = tmp_path / "m.json"
    io.save_json(path, {"b": np.float32(0.5), "a": np.int64(3), "v": np.arange(3)})
    assert io.load_json(path) == {"a": 3, "b": 0.5, "v": [0, 1, 2]}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')  # sorted keys
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        io.save_json(tmp_path / "bad.json", {"x": object()})
    assert not (tmp_path / "bad.json").exists()


def test_save_array(tmp_path):
    io.save_array(tmp_path / "labels.npy", np.array([3, -1, 2]))
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), [3, -1, 2])


@pytest.mark.parametrize("with_y", [True, False])
def test_dataset_round_trip(tmp_path, with_y):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 4))
    y = rng.integers(0, 3, 12) if with_y else None
    meta = {"name": "toy", "image_shape": [1, 2, 2], "max_value": 16.0}
    path = tmp_path / "toy.npz"
    io.save_dataset(path, X, y, meta)
    assert path.exists() and not (tmp_path / "toy.npz.npz").exists()
    X2, y2, meta2 = io.load_dataset(path)
    assert X2.dtype == np.float32
    np.testing.assert_array_equal(X2, X.astype(np.float32))
    if with_y:
        assert y2.dtype == np.int64
        np.testing.assert_array_equal(y2, y)
    else:
        assert y2 is None
    assert meta2 == meta


def test_model_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = MLPAutoencoder(6, (5, 4), 2).eval()
    path = tmp_path / "ae.pt"
    networks.save(path, model)
    loaded = networks.load(path)
    assert isinstance(loaded, MLPAutoencoder) and not loaded.training
    assert loaded.config == model.config
    x = torch.randn(9, 6)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
        assert torch.equal(loaded.encoder(x), model.encoder(x))


def test_load_model_on_garbage_names_the_path(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"this is not a model")
    with pytest.raises(ValueError, match=f"{path} is not a deepclust model file"):
        networks.load(path)


class Foreign:
    def __init__(self):
        self.config = {"kind": "mlp"}


@pytest.mark.parametrize("payload", [Foreign(), Fraction(1, 3)], ids=["custom-class", "stdlib-object"])
def test_load_model_on_a_pickled_foreign_object_names_the_path(tmp_path, payload):
    path = tmp_path / "foreign.pt"
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=2)
    with pytest.raises(ValueError, match=f"{path} is not a deepclust model file"):
        networks.load(path)


def test_load_model_on_a_torch_file_without_a_model(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(ValueError, match=f"{path} is not a deepclust model file \\(KeyError"):
        networks.load(path)
    torch.save({"config": {"kind": "mlp", "input_dim": 3, "hidden_dims": [2], "embedding_dim": 1},
                "state_dict": {}}, path)
    with pytest.raises(ValueError, match="is not a deepclust model file"):
        networks.load(path)


def test_an_unreadable_input_model_is_set_aside_so_that_its_producer_reruns(tmp_path):
    path = tmp_path / "model.pt"
    networks.save(path, MLPAutoencoder(6, (4,), 2))
    assert isinstance(jobs.read_input(networks.load, path), MLPAutoencoder)  # a whole file is read as is
    path.write_bytes(path.read_bytes()[:200])  # truncated
    with pytest.raises(RuntimeError, match=f"{path} is not a deepclust model file") as raised:
        jobs.read_input(networks.load, path)
    [aside] = tmp_path.glob("model.pt.unreadable-*")
    assert not path.exists() and len(aside.read_bytes()) == 200  # missing: snakemake pretrains it again
    assert f"{path} is set aside as {aside.name}: run snakemake again" in str(raised.value)
    with pytest.raises(RuntimeError, match="already set aside by another job"):  # a sibling job read it too
        jobs.read_input(networks.load, path)


def test_atomic_writes_honour_the_umask_like_plain_writes(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        io.save_json(tmp_path / "atomic.json", {})
        (tmp_path / "plain.json").write_text("{}")
    finally:
        os.umask(old)
    mode = lambda p: (tmp_path / p).stat().st_mode & 0o777  # noqa: E731
    assert mode("plain.json") == 0o644
    assert mode("atomic.json") == mode("plain.json")
