"""JULE checkpoints: a run stopped part-way (SIGTERM, or killed after a periodic save) and resumed
ends exactly where an uninterrupted run ends: CNN weights, labels, centres and history, whether it
stopped mid-period, at a period's last epoch (merges pending) or at the last epoch of all (only
the final clustering left)."""

import json
import os
import signal

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from deepclust import engine
from deepclust.methods.jule import JULE

# 4 periods of 2 epochs (69 -> 41 -> 24 -> 14 -> 10 clusters), 6 mini-batches an epoch
SETTINGS = dict(image_shape=(1, 8, 8), filters=4, feature_dim=8, epochs_per_period=2, unrolling_rate=0.4,
                batch_size=50, device="cpu", random_state=0)
EPOCHS_PER_PERIOD = SETTINGS["epochs_per_period"]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


@pytest.fixture(scope="module")
def straight(digits):
    return JULE(10, **SETTINGS).fit(*digits)


def test_the_run_has_several_periods(straight):
    assert straight.n_periods_ == 4 and straight.history_[-1]["epoch"] == 4 * EPOCHS_PER_PERIOD


def assert_same_run(resumed, straight):
    assert np.array_equal(resumed.labels_, straight.labels_)
    assert np.array_equal(resumed.cluster_centers_, straight.cluster_centers_)
    assert resumed.n_periods_ == straight.n_periods_
    assert json.dumps(resumed.history_) == json.dumps(straight.history_)  # NaN-aware: period 0 has no loss
    a, b = resumed.autoencoder_.state_dict(), straight.autoencoder_.state_dict()
    assert a.keys() == b.keys()
    for key in a:  # batch-norm running statistics included
        assert torch.equal(a[key], b[key]), key


@pytest.fixture
def no_stray_sigterm():
    """A SIGTERM outside the checkpoint's handler would kill pytest: record it instead."""
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    yield received
    signal.signal(signal.SIGTERM, previous)


def sigterm_during_epoch(monkeypatch, epoch: int):
    """Send this process SIGTERM after the second mini-batch of epoch ``epoch`` (1-based)."""
    original, calls = engine.minibatches, []

    def minibatches(*args, **kwargs):
        calls.append(None)
        for i, batch in enumerate(original(*args, **kwargs)):
            if len(calls) == epoch and i == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            yield batch

    monkeypatch.setattr(engine, "minibatches", minibatches)


# stopped after epoch: 1 mid-period 1; 3 mid-period 2; 4 period 2 trained, its merges pending;
# 8 the last period trained, its merges and the final clustering pending
@pytest.mark.parametrize("stop_after", [1, 3, 4, 8])
def test_sigterm_saves_and_the_retry_resumes_to_the_uninterrupted_result(
        digits, straight, tmp_path, monkeypatch, capfd, no_stray_sigterm, stop_after):
    path = tmp_path / "ck.pt"
    checkpoint = engine.Checkpoint(path, key="k", every=1000)  # only SIGTERM saves
    with monkeypatch.context() as patch:
        sigterm_during_epoch(patch, stop_after)
        with pytest.raises(engine.Preempted, match=f"stopped after epoch {stop_after},"):
            JULE(10, **SETTINGS).fit(*digits, checkpoint=checkpoint)
    assert path.is_file() and not no_stray_sigterm
    saved = torch.load(path, weights_only=True)
    assert saved["epoch"] + 1 == stop_after
    assert saved["period"] == (stop_after - 1) // EPOCHS_PER_PERIOD + 1
    assert saved["period_epochs"] == (stop_after - 1) % EPOCHS_PER_PERIOD + 1
    capfd.readouterr()

    resumed = JULE(10, **SETTINGS).fit(*digits, checkpoint=engine.Checkpoint(path, key="k", every=1000))
    assert f"resuming after epoch {stop_after} " in capfd.readouterr().err
    assert_same_run(resumed, straight)
    assert not no_stray_sigterm


class KilledAfterSave(engine.Checkpoint):
    """A periodic checkpoint whose job is SIGKILLed right after its ``kill_after``-th save."""

    class Killed(Exception):
        pass

    def __init__(self, *args, kill_after: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.kill_after, self.saves = kill_after, 0

    def save(self, epoch, state):
        super().save(epoch, state)
        self.saves += 1
        if self.saves == self.kill_after:
            raise self.Killed


@pytest.mark.parametrize("every, kill_after", [(1, 2), (1, 5), (3, 1), (1, 8)])
def test_killed_after_a_periodic_save_resumes_to_the_uninterrupted_result(digits, straight, tmp_path, capfd,
                                                                          every, kill_after):
    path = tmp_path / "ck.pt"
    with pytest.raises(KilledAfterSave.Killed):
        JULE(10, **SETTINGS).fit(*digits, checkpoint=KilledAfterSave(path, key="k", every=every,
                                                                      kill_after=kill_after))
    saved_epochs = every * kill_after
    assert torch.load(path, weights_only=True)["epoch"] + 1 == saved_epochs
    capfd.readouterr()
    resumed = JULE(10, **SETTINGS).fit(*digits, checkpoint=engine.Checkpoint(path, key="k", every=every))
    assert f"resuming after epoch {saved_epochs} " in capfd.readouterr().err
    assert_same_run(resumed, straight)


def test_checkpointing_does_not_change_an_uninterrupted_run(digits, straight, tmp_path):
    path = tmp_path / "ck.pt"
    run = JULE(10, **SETTINGS).fit(*digits, checkpoint=engine.Checkpoint(path, key="k", every=1))
    assert_same_run(run, straight)
    assert torch.load(path, weights_only=True)["epoch"] + 1 == 4 * EPOCHS_PER_PERIOD  # the last epoch's save
    assert JULE.supports_checkpoint  # the workflow passes its checkpoint (cluster_deep.py)


def test_without_training_epochs_nothing_is_saved(digits, tmp_path):
    settings = {**SETTINGS, "epochs_per_period": 0}
    run = JULE(10, **settings).fit(digits[0], checkpoint=engine.Checkpoint(tmp_path / "ck.pt", key="k", every=1))
    np.testing.assert_array_equal(run.labels_, JULE(10, **settings).fit(digits[0]).labels_)
    assert not (tmp_path / "ck.pt").exists()
