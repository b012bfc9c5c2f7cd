"""Checkpoints of DCN and VaDE: a run stopped after some epochs and resumed ends exactly where an
uninterrupted run ends (weights, labels, history, DCN's online k-means centres and counts, VaDE's
mixture), also when the checkpoint holds the last epoch and nothing is left to train."""

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from deepclust import engine
from deepclust.methods.dcn import DCN
from deepclust.methods.vade import VaDE
from deepclust.pretrain import pretrain_autoencoder

X = (load_digits().data / 16).astype(np.float32)[:600]
EPOCHS, STOP = 6, 3
SETTINGS = {
    DCN: dict(batch_size=64, n_init=2, lr=1e-3),
    VaDE: dict(batch_size=64, n_init=1, decay_every=2),  # the learning rate changes across the resume
}


@pytest.fixture(scope="module")
def autoencoder():
    model, _ = pretrain_autoencoder(X, hidden_dims=(32,), embedding_dim=4, epochs=3, batch_size=128,
                                    input_dropout=0.1, device="cpu", random_state=3, verbose=False)
    return model


def fit(method, autoencoder, max_epochs, checkpoint=engine.NO_CHECKPOINT):
    return method(10, autoencoder=autoencoder, max_epochs=max_epochs, device="cpu", random_state=1, verbose=True,
                  **SETTINGS[method]).fit(X, checkpoint=checkpoint)


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def assert_same_result(a, b):
    assert np.array_equal(a.labels_, b.labels_)
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    assert json.dumps(a.history_) == json.dumps(b.history_)
    assert_same_state(a.autoencoder_.state_dict(), b.autoencoder_.state_dict())
    if isinstance(a, VaDE):
        assert np.array_equal(a.weights_, b.weights_) and np.array_equal(a.covariances_, b.covariances_)
        assert_same_state(a.prior_.state_dict(), b.prior_.state_dict())


def trained_epochs(stderr, name):
    """The epochs the Progress lines report (verbose, every epoch at EPOCHS <= 10)."""
    return [int(line.split(" epoch ")[1].split("/")[0]) for line in stderr.splitlines()
            if line.startswith(f"[{name}] epoch ")]


def saved(path):
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.mark.parametrize("method", [DCN, VaDE])
def test_resumed_after_k_epochs_equals_an_uninterrupted_run(tmp_path, capsys, autoencoder, method):
    name = method.__name__
    plain = fit(method, autoencoder, EPOCHS)
    straight = fit(method, autoencoder, EPOCHS, engine.Checkpoint(tmp_path / "straight.pt", key="k", every=1))
    assert_same_result(straight, plain)  # saving at every epoch changes nothing
    capsys.readouterr()

    path = tmp_path / "ck.pt"
    fit(method, autoencoder, STOP, engine.Checkpoint(path, key="k", every=1))  # "killed" after epoch STOP
    assert path.is_file() and saved(path)["epoch"] == STOP - 1
    capsys.readouterr()

    resumed = fit(method, autoencoder, EPOCHS, engine.Checkpoint(path, key="k", every=1))
    stderr = capsys.readouterr().err
    assert f"[checkpoint] resuming after epoch {STOP} from {path}" in stderr
    assert trained_epochs(stderr, name) == list(range(STOP + 1, EPOCHS + 1))  # started at epoch STOP, not 0
    assert_same_result(resumed, straight)
    # the last epoch's state as saved: the same for both (DCN's counts are nowhere else)
    final, final_straight = saved(path), saved(tmp_path / "straight.pt")
    assert final["epoch"] == final_straight["epoch"] == EPOCHS - 1
    if method is DCN:
        assert torch.equal(final["counts"], final_straight["counts"])
        assert final["counts"].sum() > 10 * resumed.initial_count  # the centres did move
    else:
        assert_same_state(final["prior"], final_straight["prior"])
    assert_same_state(final["model"], final_straight["model"])


@pytest.mark.parametrize("method", [DCN, VaDE])
def test_a_checkpoint_of_the_last_epoch_finishes_without_training(tmp_path, capsys, autoencoder, method):
    path = tmp_path / "ck.pt"
    done = fit(method, autoencoder, EPOCHS, engine.Checkpoint(path, key="k", every=1))  # killed before remove()
    assert saved(path)["epoch"] == EPOCHS - 1
    capsys.readouterr()

    rerun = fit(method, autoencoder, EPOCHS, engine.Checkpoint(path, key="k", every=1))
    stderr = capsys.readouterr().err
    assert f"resuming after epoch {EPOCHS}" in stderr
    assert trained_epochs(stderr, method.__name__) == []
    assert_same_result(rerun, done)
